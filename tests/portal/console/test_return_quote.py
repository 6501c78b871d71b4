"""상품반품정보's 금액 계산 (manual §8): the quantities typed fill the amounts to give back — the manual's whole return
reads 현금환불금액 4,500 and 네이버 마일리지 반환액 500 — and a whole return left at 0원 is shown its amounts
instead of being recorded as giving nothing back."""

import re

import pytest

from portal.aftersales.models import ReturnRequest

from .conftest import delivered, place

pytestmark = pytest.mark.sandbox


def amounts_on(page: str) -> dict[str, str]:
    return {name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1).replace(",", "")
            for name in ("cash_won", "store_points_won", "mileage_won")}


def whole_return_at_zero(shop, operator) -> tuple:
    """The manual's order delivered, and its return form with the whole line and every amount left at 0."""
    order, _buyer = place(shop, code="1", method="card")
    delivered(operator, order)
    line = order.lines.get()
    form = {f"qty_{line.pk}": "1", "cash_won": "0", "store_points_won": "0", "mileage_won": "0",
            "shipping_deduction_won": "0", "method": "card"}
    return order, f"/console/orders/{order.number}/return/", form


def test_the_manuals_whole_return_is_calculated_as_its_screen_shows(shop, operator):
    order, _buyer = place(shop, code="1", method="card")  # 5,000원: 4,500원 by card + 500원 of mileage
    delivered(operator, order)
    line = order.lines.get()
    url = f"/console/orders/{order.number}/return/"
    response = operator.post(url, {f"qty_{line.pk}": "1", "cash_won": "0", "store_points_won": "0",
                                   "mileage_won": "0", "shipping_deduction_won": "0", "method": "card",
                                   "action": "quote"})
    page = response.content.decode()
    assert response.status_code == 200
    assert amounts_on(page) == {"cash_won": "4500", "store_points_won": "0", "mileage_won": "500"}
    assert '<td class="won fw-bold" data-sum="payout">4,500원</td>' in page
    assert f'name="qty_{line.pk}"' in page and 'value="1"' in page  # the quantity stays as typed
    assert not ReturnRequest.objects.filter(order=order).exists()  # 금액 계산 records nothing


def test_a_partial_return_gives_back_the_money_and_keeps_the_mileage_the_kept_line_carries(shop, operator):
    # 5,000원 + 10,000원 with 500원 of mileage: 14,500원 by card
    order, _buyer = place(shop, code="1", method="card", extra=("2",))
    delivered(operator, order)
    first = order.lines.get(product__code="1")
    page = operator.post(f"/console/orders/{order.number}/return/", {
        f"qty_{first.pk}": "1", "method": "card", "action": "quote"}).content.decode()
    # the 10,000원 line kept still carries the 500원 used: the 5,000원 line comes back as 5,000원 of money
    assert amounts_on(page) == {"cash_won": "5000", "store_points_won": "0", "mileage_won": "0"}


def test_a_whole_return_left_at_zero_is_shown_its_amounts_not_recorded(shop, operator):
    order, url, form = whole_return_at_zero(shop, operator)
    response = operator.post(url, form)
    page = response.content.decode()
    assert response.status_code == 400 and "돌려줄 금액이 0원입니다" in page
    assert amounts_on(page) == {"cash_won": "4500", "store_points_won": "0", "mileage_won": "500"}
    assert not ReturnRequest.objects.filter(order=order).exists()
    # confirmed with the amounts shown, it is recorded
    response = operator.post(url, {**form, "cash_won": "4500", "mileage_won": "500"})
    assert response.status_code == 302
    returned = ReturnRequest.objects.get(order=order)
    assert (returned.cash_won, returned.mileage_won) == (4_500, 500)


def test_a_whole_return_at_zero_sent_again_from_the_page_that_warned_is_taken_as_meant(shop, operator):
    # an order placed without mileage: the shop may take everything back and keep the money, if it says so twice
    order, _buyer = place(shop, code="1", method="card", use=None)
    delivered(operator, order)
    line = order.lines.get()
    url = f"/console/orders/{order.number}/return/"
    form = {f"qty_{line.pk}": "1", "cash_won": "0", "store_points_won": "0", "mileage_won": "0",
            "shipping_deduction_won": "0", "method": "card"}
    warned = operator.post(url, form).content.decode()
    assert 'name="zero_ok" value="1"' in warned
    assert operator.post(url, {**form, "zero_ok": "1"}).status_code == 302
    returned = ReturnRequest.objects.get(order=order)
    assert (returned.cash_won, returned.mileage_won) == (0, 0)


def test_a_whole_return_at_zero_still_gives_the_mileage_back(shop, operator):
    # the order used 500원 of mileage: even kept at 0원 of money, the whole return gives the mileage back (the
    # re-approval would ask the provider to hold 500원 of use on nothing)
    order, url, form = whole_return_at_zero(shop, operator)
    response = operator.post(url, {**form, "zero_ok": "1"})
    assert response.status_code == 400
    assert "주문시 사용한 네이버 마일리지 중 남은 500원을 그대로 반환해 주세요." in response.content.decode()
    assert not ReturnRequest.objects.filter(order=order).exists()
    assert operator.post(url, {**form, "mileage_won": "500", "zero_ok": "1"}).status_code == 302


def test_calculating_without_a_quantity_says_what_is_missing(shop, operator):
    order, _buyer = place(shop, code="1", method="card")
    delivered(operator, order)
    response = operator.post(f"/console/orders/{order.number}/return/", {"method": "card", "action": "quote"})
    assert response.status_code == 400 and "반품수량을 입력해 주세요." in response.content.decode()


def test_a_return_of_everything_that_refunds_money_gives_the_mileage_back_whole(shop, operator):
    # given a delivered card order of 5,000원 that used 500원 of mileage, all of it coming back
    order, url, form = whole_return_at_zero(shop, operator)
    # when the operator refunds the money but keeps the mileage (or part of it) at the provider
    for mileage in ("0", "300"):
        response = operator.post(url, {**form, "cash_won": "4500", "mileage_won": mileage})
        # then it is refused with what to enter, and nothing is recorded
        assert response.status_code == 400
        assert "주문 상품을 모두 반품합니다. 주문시 사용한 네이버 마일리지 중 남은 500원을 그대로 반환해 주세요." in (
            response.content.decode())
        assert not ReturnRequest.objects.filter(order=order).exists()
    assert operator.post(url, {**form, "cash_won": "4500", "mileage_won": "500"}).status_code == 302


def test_a_return_reason_too_long_is_said_plainly_and_records_nothing(shop, operator):
    order, url, form = whole_return_at_zero(shop, operator)
    response = operator.post(url, {**form, "cash_won": "4500", "mileage_won": "500", "reason": "가" * 201})
    page = response.content.decode()
    assert response.status_code == 400
    assert "200자까지 입력할 수 있습니다 (지금 201자)." in page
    assert not ReturnRequest.objects.filter(order=order).exists()
