import pytest

from portal.accounts.services import NotEnoughPoints, store_points_change
from portal.orders.gateway import get_gateway
from portal.orders.models import PaymentMethod
from portal.orders.rules import guest_password_error, shipping_fee
from tests.factories import MemberFactory


@pytest.mark.parametrize(("raw", "ok"), [("abc123", True), ("Ab12Cd34Ef56", True), ("abcd", False), ("ab12", False),
                                        ("abcdef", False), ("123456", False), ("abcdefghij123", False),
                                        ("ab cd 12", False), ("비밀번호12ab", False), ("", False),
                                        ("abc١٢٣", False)])
def test_guest_password_6_to_12_letters_and_digits(raw, ok):
    assert (guest_password_error(raw) is None) is ok


@pytest.mark.parametrize("raw", ["guest1234!", "Guest_1234", "ab cd 12", "비밀번호12ab", "abc١٢٣"])
def test_a_guest_password_with_other_characters_is_told_which_ones(raw):
    # letters and digits mixed, the right length, refused for the one character the buyer would not guess
    assert "영문과 숫자만 쓸 수 있습니다 (특수문자, 공백, 한글 제외)" in guest_password_error(raw)


def test_a_guest_password_of_letters_and_digits_alone_is_told_to_mix_them():
    assert "특수문자" not in guest_password_error("123456")
    assert "영문과 숫자를 모두 섞어" in guest_password_error("abcdef")


def test_shipping_fee(settings):
    assert shipping_fee(5_000) == 0  # 기본배송비 0원, as in the manual
    settings.SHOP_SHIPPING_FEE_WON = 2_500
    assert shipping_fee(5_000) == 2_500
    assert shipping_fee(49_999) == 2_500
    assert shipping_fee(50_000) == 0


@pytest.mark.django_db
def test_test_gateway_is_marked_and_declines_on_request():
    charge = get_gateway().charge
    result = charge(method=PaymentMethod.CARD, amount_won=4_500, card_number="4111-1111-1111-1111")
    assert result.approved and result.tid.startswith("TEST-")
    assert not charge(method=PaymentMethod.CARD, amount_won=4_500, card_number="4000 0000 0000 0002").approved
    with pytest.raises(ValueError):
        charge(method=PaymentMethod.BANK_TRANSFER, amount_won=1)


@pytest.mark.django_db
def test_store_points_never_negative_and_never_twice():
    member = MemberFactory(store_points_won=1_000)
    store_points_change(member=member, delta_won=-600, reason="주문 사용", idempotency_key="o1:use")
    store_points_change(member=member, delta_won=-600, reason="주문 사용", idempotency_key="o1:use")
    assert member.store_points_won == 400
    with pytest.raises(NotEnoughPoints):
        store_points_change(member=member, delta_won=-401, reason="주문 사용", idempotency_key="o2:use")
    member.refresh_from_db()
    assert member.store_points_won == 400
    assert list(member.point_entries.values_list("balance_after_won", flat=True)) == [400]
