"""회원가입: a buyer opens an account from the shop, is logged in and comes back to where they were (the order form
keeps the cart and is filled in with what they gave); bad input gets a clear message and creates nothing; two
joins with one 아이디 at once keep one account."""

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from portal.accounts.models import Member
from portal.catalog.models import Product
from tests.support.concurrency import at_once
from tests.support.db_state import load_demo

pytestmark = pytest.mark.django_db

JOIN = {"username": "kim01", "password1": "봄날Xy9!long", "password2": "봄날Xy9!long", "name": "김영희",
        "email": "younghee@example.com", "phone": "01024681357", "zipcode": "07071",
        "address": "서울 동작구 신대방2동", "address_detail": "101동 1001호", "agree_terms": "on", "agree_privacy": "on"}


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()


def test_a_guest_joins_from_the_order_form_and_comes_back_to_it_filled_in():
    # given a guest with a product in the cart on the order form
    load_demo()
    product = Product.objects.get(code="4")
    client = Client()
    client.post("/shop/cart/add/", {"code": product.code, "quantity": "1"})
    form = client.get("/shop/order/").content.decode()
    assert 'id="guest-join"' in form
    # when the guest follows 회원가입 and joins
    assert client.get("/accounts/join/?next=/shop/order/").status_code == 200
    response = client.post("/accounts/join/", {**JOIN, "next": "/shop/order/"})
    # then the account exists with the member's details and 0원 of 적립금, and the buyer is logged in
    assert response.status_code == 302 and response["Location"] == "/shop/order/"
    member = Member.objects.get(user__username="kim01")
    assert (member.name, member.phone, member.address, member.store_points_won) == (
        "김영희", "010-2468-1357", "서울 동작구 신대방2동", 0)
    assert member.user.email == "younghee@example.com" and member.user.check_password("봄날Xy9!long")
    # and the order form keeps the cart, now filled in for the member, with the 적립금 field
    page = client.get("/shop/order/").content.decode()
    assert product.name in page and 'value="김영희"' in page and 'value="010-2468-1357"' in page
    assert 'name="store_points"' in page and 'id="guest-note"' not in page
    # and the new password logs in from elsewhere
    assert Client().post("/accounts/login/", {"username": "kim01", "password": "봄날Xy9!long"}).status_code == 302


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"username": "hong"}, "username", "이미 사용 중인 아이디입니다."),
    ({"email": "HONG@example.com"}, "email", "이미 가입된 이메일입니다"),
    ({"password2": "다른비번Xy9!"}, "password2", ""),
    ({"password1": "1234", "password2": "1234"}, "password2", ""),
    ({"phone": "02-12"}, "phone", "휴대전화 번호를 010-1234-5678 처럼 입력해 주세요."),
    ({"phone": "01-1234-5678"}, "phone", "휴대전화 번호를 010-1234-5678 처럼 입력해 주세요."),
    ({"phone": "00-1234-5678"}, "phone", "휴대전화 번호를 010-1234-5678 처럼 입력해 주세요."),
    ({"username": "HONG"}, "username", "이미 사용 중인 아이디입니다."),
    ({"name": "   "}, "name", ""),
    ({"agree_privacy": ""}, "agree_privacy", "개인정보 수집 및 이용에 동의해 주세요."),
    ({"email": "not-an-address"}, "email", ""),
    ({"username": "x" * 200}, "username", ""),
])
def test_bad_input_is_refused_with_a_message_and_creates_nothing(change, field, message):
    load_demo()  # 홍길동: hong, hong@example.com
    users, members = User.objects.count(), Member.objects.count()
    client = Client()
    response = client.post("/accounts/join/", {**JOIN, **change})
    page = response.content.decode()
    assert response.status_code == 400 and "is-invalid" in page and message in page
    assert "is-valid" not in page  # only what needs fixing is marked
    assert f'name="{field}"' in page
    assert (User.objects.count(), Member.objects.count()) == (users, members)
    assert "_auth_user_id" not in client.session


def test_a_next_address_outside_the_shop_is_not_followed():
    response = Client().post("/accounts/join/", {**JOIN, "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == "/shop/mypage/"


def test_many_joins_from_one_address_are_stopped_refused_tries_counted(settings):
    settings.JOIN_ADDRESS_LIMIT = 3
    # a refused try counts (the form tells whether an e-mail is taken: not to be asked without limit)
    assert Client().post("/accounts/join/", {**JOIN, "email": "not-an-address"}).status_code == 400
    for i in range(2):
        assert Client().post("/accounts/join/", {**JOIN, "username": f"u{i}", "email": f"u{i}@example.com"}
                             ).status_code == 302
    third = Client().post("/accounts/join/", {**JOIN, "username": "u3", "email": "u0@example.com"})
    page = third.content.decode()
    assert third.status_code == 429 and "가입 요청이 너무 많습니다" in page and "이미 가입된 이메일입니다" not in page
    assert not User.objects.filter(username="u3").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("postgresql" not in settings.DATABASES["default"]["ENGINE"],
                    reason="concurrent transactions on one unique login: PostgreSQL")
def test_two_joins_with_one_login_at_once_keep_one_account():
    def join(i):
        return lambda: Client().post("/accounts/join/", {**JOIN, "email": f"twin{i}@example.com"}).status_code

    codes = at_once(*(join(i) for i in range(4)))
    assert sorted(codes) == [302, 400, 400, 400]
    assert User.objects.filter(username="kim01").count() == 1 and Member.objects.count() == 1
