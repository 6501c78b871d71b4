"""A refused request always says why, where the person who sent it looks, and changes nothing: a hidden field of the
order form sent back otherwise, a settings form with a blank rate or an unknown button, an API ID sent when the
form is no longer there, a reason longer than the access log keeps, a buyer's form for an order that moved on, a
choice that is not in the list (never echoed back)."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from mileage.models import MileageSettings
from portal.accesslog.models import AccessRecord
from portal.orders.models import Order, OrderStatus
from tests.factories import MemberFactory, ProductFactory, order_for

pytestmark = pytest.mark.django_db

GUEST = {"orderer_name": "김손님", "orderer_phone": "010-2222-3333", "same_as_orderer": "on", "zipcode": "04524",
         "address": "서울 중구 명동", "payment_method": "bank", "depositor_name": "김손님", "guest_password": "abc12345",
         "privacy_agreed": "on"}


@pytest.mark.parametrize("field", [{"submission_key": "abc"}, {"mileage_choice": "R" * 65}])
def test_a_hidden_field_sent_back_otherwise_is_said_on_the_order_form(operator, field):
    buyer = Client()
    buyer.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    buyer.get("/shop/order/")
    response = buyer.post("/shop/order/", {**GUEST, **field})
    assert response.status_code == 400
    assert "주문서가 올바르게 전송되지 않았습니다" in response.content.decode()
    assert not Order.objects.filter(orderer_name="김손님").exists()


@pytest.mark.parametrize("payment_method", ["x" * 5000, "bitcoin"])
def test_a_choice_not_in_the_list_is_refused_without_echoing_it(operator, payment_method):
    buyer = Client()
    buyer.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    buyer.get("/shop/order/")
    response = buyer.post("/shop/order/", {**GUEST, "payment_method": payment_method})
    text = response.content.decode()
    assert response.status_code == 400 and "결제방법을 목록에서 골라 주세요" in text and payment_method not in text


def test_the_settings_refuse_a_blank_rate_and_a_button_they_do_not_have(operator):
    before = MileageSettings.load()
    form = {"api_id": before.api_id, "store_points_rate": "  ", "provider_profile": before.provider_profile,
            "subtract_discounts": "on"}
    blank = operator.post("/console/mileage/settings/", form)
    assert blank.status_code == 400 and "적립률을 입력해 주세요" in blank.content.decode()
    unknown = operator.post("/console/mileage/settings/", {**form, "store_points_rate": "5", "action": "abc"})
    assert unknown.status_code == 400 and "알 수 없는 요청이라 아무것도 저장하지 않았습니다" in unknown.content.decode()
    after = MileageSettings.load()
    assert (after.store_points_rate_x10, after.updated_at) == (before.store_points_rate_x10, before.updated_at)


def test_an_api_id_sent_when_the_key_is_stored_is_answered_with_a_message(operator):
    assert MileageSettings.load().hash_key
    response = operator.post("/console/mileage/about/", {"api_id": "abc"}, follow=True)
    assert "인증키가 이미 입력되어 있습니다" in response.content.decode()


def test_a_reason_longer_than_the_access_log_keeps_is_refused_not_cut(operator):
    records = AccessRecord.objects.count()
    export = operator.post("/console/orders/?export=csv", {"reason": "가" * 201})
    assert export.status_code == 400 and "200자까지" in export.content.decode()
    order = order_for([(ProductFactory(), 1)])
    privacy = Client()
    privacy.force_login(User.objects.get(username="privacy"))
    reveal = privacy.post(f"/console/orders/{order.number}/", {"reason": "나" * 201}, follow=True)
    assert "200자까지" in reveal.content.decode() and "010-0000-0000" not in reveal.content.decode()
    assert AccessRecord.objects.count() == records + 1  # the detail page's own view record, nothing more


def test_a_buyers_form_for_an_order_that_moved_on_says_why(operator):
    member = MemberFactory(user=User.objects.create_user("buyer2", password="pw12345678!"))
    order = order_for([(ProductFactory(), 1)], member=member)
    buyer = Client()
    buyer.force_login(member.user)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.PAID)  # paid in the meantime
    # the box left unticked, the cancel form no longer on the page: the reason is said above the order
    response = buyer.post(f"/shop/orders/{order.number}/cancel/", {})
    assert response.status_code == 400 and "이 주문은 지금 취소할 수 없습니다" in response.content.decode()
    confirm = buyer.post(f"/shop/orders/{order.number}/confirm/", {})
    assert confirm.status_code == 400 and "이 주문은 지금 구매확정할 수 없습니다" in confirm.content.decode()


def test_a_recipient_typed_beside_the_ticked_same_as_orderer_box_is_never_replaced_unseen(operator):
    buyer = Client()
    buyer.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    buyer.get("/shop/order/")
    gift = {**GUEST, "recipient_name": "김수령", "recipient_phone": "010-9999-8888", "address": "부산 해운대구 우동"}
    # the box left ticked (as the form shows it) beside another person typed as the recipient: said, nothing placed
    response = buyer.post("/shop/order/", gift)
    page = response.content.decode()
    assert response.status_code == 400 and "받는 분을 주문자와 다르게 입력했습니다" in page
    assert not Order.objects.exists() and 'value="김수령"' in page  # what was typed is still there
    # the box unticked: the gift goes to the person typed
    response = buyer.post("/shop/order/", {k: v for k, v in gift.items() if k != "same_as_orderer"})
    assert response.status_code == 302, response.content.decode()[-1500:]
    assert (Order.objects.get().recipient_name, Order.objects.get().recipient_phone) == ("김수령", "010-9999-8888")
    # and the box ticked with the orderer's own name and number typed (in another format) or left empty places it
    buyer.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    buyer.get("/shop/order/")
    response = buyer.post("/shop/order/", {**GUEST, "recipient_name": "김손님", "recipient_phone": "01022223333"})
    assert response.status_code == 302, response.content.decode()[-1500:]
    assert Order.objects.latest("pk").recipient_name == "김손님"


def test_a_guest_reads_the_privacy_policy_it_is_asked_to_agree_to(operator, settings):
    settings.PERSONAL_DATA_RETENTION_MONTHS = {"contract": 60, "payment": 84, "dispute": 36}
    buyer = Client()
    buyer.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    page = buyer.get("/shop/order/").content.decode()
    policy = page[page.index('id="guest-privacy"'):page.index('name="privacy_agreed"')]
    assert "수집하는 항목" in policy and "비회원결제비밀번호" in policy and "수집·이용 목적" in policy
    assert "7년" in policy and "3년" in policy  # the periods the retention job keeps the order for
    assert "동의를 거부할 권리" in policy
    # a member agrees to no guest policy
    member = Client()
    member.force_login(MemberFactory().user)
    member.post("/shop/cart/add/", {"code": "1", "quantity": "1"})
    assert 'id="guest-privacy"' not in member.get("/shop/order/").content.decode()
