"""Masking by default (issue 25): every console list, export and receipt a staff member sees names the buyer masked
(홍*동, 010-****-5678, the address cut after its 동). A holder of `accesslog.view_personal_data` reveals one order's
full data on 주문상세정보 with a reason, recorded once; without it the button is absent and a forged POST is 403. A
현금환불 is paid to the stored account whatever the screen showed."""

import io

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from openpyxl import load_workbook
from pypdf import PdfReader

from portal.accesslog.models import AccessAction, AccessRecord
from portal.aftersales.models import Refund
from portal.orders.models import Order, PaymentCancel
from tests.portal.console.downloads import download

from .conftest import place
from .test_payment_cancel import press_refund_complete, refund_by

pytestmark = pytest.mark.sandbox

PHONE, RECIPIENT_PHONE = "010-2468-1357", "010-9753-8642"
ACCOUNT = {"bank": "농협", "account_no": "302-1234-5678", "holder": "김영희"}
# what must never appear in full: phones (with and without dashes), names, the address past its 동, the account
FULL = (PHONE, "01024681357", RECIPIENT_PHONE, "01097538642", "김영희", "박철수", "395-12", "1001호",
        "younghee@", "문 앞에", "302-1234", "3021234")


def buyer_order(shop) -> Order:
    order, _ = place(shop, method="card")
    Order.objects.filter(pk=order.pk).update(
        orderer_name="김영희", orderer_phone=PHONE, orderer_email="younghee@example.com", recipient_name="박철수",
        recipient_phone=RECIPIENT_PHONE, zipcode="07050", address="서울 동작구 신대방2동 395-12",
        address_detail="101동 1001호", shipping_message="문 앞에 두세요", depositor_name="김영희")
    return Order.objects.get(pk=order.pk)


def sheet_text(body: bytes) -> str:
    book = load_workbook(io.BytesIO(body))
    return "\n".join(",".join(str(c.value) for c in row) for sheet in book.worksheets for row in sheet.iter_rows())


def pdf_text(body: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)


def assert_masked(text: str, where: str) -> None:
    found = [value for value in FULL if value in text]
    assert not found, f"{where} shows {found}"


def grant(username: str) -> Client:
    user = User.objects.get(username=username)
    user.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def test_no_console_screen_export_or_receipt_shows_the_buyer_in_full(shop, operator):
    order = buyer_order(shop)
    number = order.number
    assert_masked(operator.get(f"/console/orders/{number}/cancel/").content.decode(), "주문취소")
    refund = refund_by(operator, order, "cash", order.payable_won, **ACCOUNT)
    pages = {
        "주문조회": operator.get("/console/orders/").content.decode(),
        "주문상세정보": operator.get(f"/console/orders/{number}/").content.decode(),
        "대시보드": operator.get("/console/").content.decode(),
        "환불관리": operator.get("/console/refunds/").content.decode(),
        "환불 방식 변경": operator.get(f"/console/refunds/{refund.pk}/method/").content.decode(),
        "영수증 일괄 다운로드": operator.get("/console/receipts/").content.decode(),
        "CSV": download(operator, "/console/orders/", {"export": "csv"}).content.decode("utf-8-sig"),
        "XLSX": sheet_text(download(operator, "/console/orders/", {"export": "xlsx"}).content),
        "송장 양식": sheet_text(download(operator, "/console/invoices/template.xlsx", data={"selection": [order.pk]}).content),
        "영수증": pdf_text(operator.get(f"/console/orders/{number}/receipt.pdf").content),
    }
    detail = pages["주문상세정보"]
    assert "김*희" in detail and "010-****-1357" in detail and "서울 동작구 신대방2동" in detail
    assert "박*수" in detail and "010-****-8642" in detail
    assert 'id="reveal-form"' not in detail  # no permission, no button
    assert "김*희" in pages["주문조회"] and number in pages["CSV"] and number in pages["송장 양식"]
    assert "***-****-5678" in pages["환불관리"] and "김*희" in pages["환불관리"]
    assert "***-****-5678" in pages["환불 방식 변경"]
    for where, text in pages.items():
        assert_masked(text, where)
    confirmation = press_refund_complete(operator, refund)
    assert "농협 ***-****-5678 김*희" in confirmation
    assert_masked(confirmation, "환불완료 확인")
    # the payout went to the stored account in full, never to the masked text
    assert PaymentCancel.objects.get(label="현금환불").message == "농협 302-1234-5678 김영희"
    assert not AccessRecord.objects.filter(action=AccessAction.REVEAL).exists()


def test_without_the_permission_a_forged_reveal_is_refused_and_leaves_no_record(shop, operator):
    order = buyer_order(shop)
    response = operator.post(f"/console/orders/{order.number}/", {"reason": "배송 문의"})
    assert response.status_code == 403
    assert PHONE not in response.content.decode()
    assert not AccessRecord.objects.exists()


def test_a_holder_of_the_permission_reveals_one_order_with_a_reason_recorded_once(shop):
    order = buyer_order(shop)
    other = buyer_order(shop)
    client = grant("operator")
    page = client.get(f"/console/orders/{order.number}/").content.decode()
    assert 'id="reveal-form"' in page and "개인정보 보기" in page
    assert_masked(page, "주문상세정보 before the reveal")
    # a reason of only spaces is refused with a message, reveals nothing and records nothing
    refused = client.post(f"/console/orders/{order.number}/", {"reason": " \u3000 \t"}, follow=True)
    assert "개인정보를 보는 사유를 입력해 주세요." in refused.content.decode()
    assert_masked(refused.content.decode(), "a refused reveal")
    assert not AccessRecord.objects.filter(action=AccessAction.REVEAL).exists()
    before = AccessRecord.objects.order_by("-seq").first().seq
    shown = client.post(f"/console/orders/{order.number}/", {"reason": "  배송지   확인 요청  "})
    body = shown.content.decode()
    assert shown.status_code == 200
    for value in (PHONE, RECIPIENT_PHONE, "김영희", "박철수", "서울 동작구 신대방2동 395-12 101동 1001호",
                  "younghee@example.com", "문 앞에 두세요"):
        assert value in body, value
    [record] = AccessRecord.objects.filter(seq__gt=before)  # the reveal only, not a 조회 as well
    assert (record.action, record.targets, record.reason, record.actor_name) == (
        AccessAction.REVEAL, [order.number], "배송지 확인 요청", "operator")
    # the next view of the same order, and any other order, are masked again
    assert_masked(client.get(f"/console/orders/{order.number}/").content.decode(), "the next view")
    assert_masked(client.get(f"/console/orders/{other.number}/").content.decode(), "another order")
    assert client.post("/console/orders/NOPE/", {"reason": "x"}).status_code == 404


def test_the_refund_account_is_shown_to_a_holder_logged_and_kept_when_others_leave_it_blank(shop, operator):
    order = buyer_order(shop)
    refund = refund_by(operator, order, "cash", order.payable_won, **ACCOUNT)
    # an operator without the permission changes the way and leaves the account blank: the stored one stays
    response = operator.post(f"/console/refunds/{refund.pk}/method/",
                             {"method": "cash", "bank": "", "account_no": "", "holder": ""})
    assert response.status_code == 302
    refund = Refund.objects.get(pk=refund.pk)
    assert (refund.bank, refund.account_no, refund.holder) == ("농협", "302-1234-5678", "김영희")
    assert not AccessRecord.objects.filter(action=AccessAction.REVEAL).exists()
    # a holder of the permission sees the full account to check it, recorded once
    client = grant("operator")
    page = client.get(f"/console/refunds/{refund.pk}/method/").content.decode()
    assert 'value="302-1234-5678"' in page and 'value="김영희"' in page
    [record] = AccessRecord.objects.filter(action=AccessAction.REVEAL)
    assert record.targets == [order.number] and refund.number in record.reason
    confirmation = client.post("/console/refunds/", {"selection": [refund.pk]}).content.decode()
    assert "농협 302-1234-5678 김영희" in confirmation
    assert AccessRecord.objects.filter(action=AccessAction.REVEAL).count() == 2


def test_the_django_admin_shows_orders_without_the_buyers_data(shop):  # noqa: F811
    """Superusers read orders in the Django admin too: the orderer masked in the list, the personal fields absent from
    the order's page."""
    order = buyer_order(shop)
    admin = Client()
    admin.force_login(User.objects.get(username="admin"))
    listing = admin.get("/django-admin/orders/order/").content.decode()
    detail = admin.get(f"/django-admin/orders/order/{order.pk}/change/").content.decode()
    assert "김*희" in listing and order.number in detail
    for text in FULL:
        assert text not in listing and text not in detail, text


def test_masked_free_text_masks_phones_emails_and_account_runs_and_keeps_the_rest():
    from portal.privacy import masked_free_text

    assert masked_free_text("010-2468-1357로 연락, younghee@example.com, 국민 302-1234-567890 환불, 사이즈 230") == (
        "010-****-1357로 연락, y***@example.com, 국민 ***-****-**7890 환불, 사이즈 230")
    assert masked_free_text("01024681357") == "010-****-1357" and masked_free_text("") == ""


def test_a_buyers_request_reason_is_masked_on_the_detail_and_full_only_after_a_reveal(shop):
    from portal.aftersales.buyer_requests import buyer_request_create, requestable_kinds

    order = buyer_order(shop)
    reason = "010-2468-1357로 연락 주세요 younghee@example.com 농협 302-1234-567890"
    buyer_request_create(order=order, kind=requestable_kinds(order)[0], reason=reason)
    client = grant("operator")
    page = client.get(f"/console/orders/{order.number}/").content.decode()
    assert 'id="buyer-requests"' in page and "연락 주세요" in page
    assert_masked(page, "a request's 신청 사유")
    assert "302-1234-567890" not in page
    shown = client.post(f"/console/orders/{order.number}/", {"reason": "환불 계좌 확인"}).content.decode()
    assert reason in shown
