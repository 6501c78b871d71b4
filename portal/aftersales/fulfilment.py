"""The order's way after placement (docs/policy.md L1): 입금확인 and back to 입금전, 배송 with the invoice, 배송완료 and
구매확정 with the shop's 적립금.

Each function locks the order row, checks the status table, changes the portal's state, and records the provider
call in the outbox in the same transaction; the call goes out after commit."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.dates import ymd_hm
from core.idempotency import action_key
from mileage import wire
from mileage.models import MileageSettings
from mileage.policy import earn_base, store_points_earn, unpaid_deadline
from mileage.policy.constants import BUSINESS_TZ
from mileage.provider.client import Invoice
from mileage.services.transactions import live_mileage, mileage_call, mileage_invoice_send
from portal.accounts.services import store_points_change
from portal.orders import cash_receipts
from portal.orders.amounts import Goods, build_amounts
from portal.orders.gateway_interface import GatewayUnavailable
from portal.orders.models import Carrier, Order, OrderStatus, PaymentMethod
from portal.orders.money import (
    PaymentActionError,
    payment_additional_deposit,
    payment_deposit_confirmed,
    payment_deposit_undone,
    virtual_account_unpaid_at_gateway,
)
from portal.orders.selectors import exchange_due_account, exchange_due_won
from portal.orders.services import order_set_status

from .common import ActionError, lock_order, past_deposit_deadline
from .models import BuyerRequestKind
from .selectors import exchanges_awaiting_shipping, mileage_returned_so_far, open_request, remaining_amounts


def last_change_id(order: Order) -> int:
    """The id of the order's latest status change: the business identity of the move just made."""
    return order.status_changes.order_by("-id").values_list("id", flat=True).first()


def refuse_stale(order: Order, seen: int | None) -> None:
    """Under the order's lock: a press from a page whose latest status change (`seen`) is no longer the order's
    moves nothing. 입금확인 and 미입금상태로 전환 undo each other, so a press made before another operator's pair of
    moves would otherwise apply to a state its operator never saw. None: no page to compare (bulk, the buyer)."""
    if seen is not None and seen != last_change_id(order):
        raise ActionError(_("이 화면을 연 뒤에 주문 상태가 바뀌었습니다 (지금: %(status)s). 아무것도 처리하지 않았습니다. 처리 "
                            "이력을 확인한 뒤 다시 눌러 주세요.") % {"status": order.get_status_display()})


def order_confirm_deposit(*, order: Order, by, paid_at_gateway: bool = False, seen: int | None = None) -> Order:
    """입금확인: the bank transfer arrived; the provider is told the deal is done (stated). A 가상계좌 whose PG sees
    its deposits (PortOne) is confirmed only once the PG says it is paid (`paid_at_gateway`: the caller read it so)."""
    if not paid_at_gateway and order.payment_method == PaymentMethod.VIRTUAL_ACCOUNT:
        try:
            unpaid = virtual_account_unpaid_at_gateway(order=order)
        except GatewayUnavailable:
            raise ActionError(_("결제대행사가 응답하지 않아 입금을 확인하지 못했습니다. 잠시 후 다시 눌러 주세요.")) from None
        if unpaid:
            raise ActionError(_("결제대행사에 아직 입금되지 않은 가상계좌입니다. 입금되면 자동으로 결제완료가 됩니다."))
    with transaction.atomic():
        order = lock_order(order)
        refuse_stale(order, seen)
        if past_deposit_deadline(order):
            # E8: a transfer unpaid past its deadline lapses, its mileage cancelled with it (orders_expire_unpaid)
            raise ActionError(_("입금기한(%(deadline)s)이 지나 네이버 마일리지가 자동 취소된 주문입니다. 입금확인할 수 "
                                "없고, 주문은 자동으로 취소됩니다.") % {"deadline": ymd_hm(order.deposit_deadline)})
        order_set_status(order=order, to_status=OrderStatus.PAID, by=by, note="입금확인")
        payment_deposit_confirmed(order=order, by=by)
        if live_mileage(order):  # keyed by the 입금확인 itself (its change row): a second 입금확인 is another call
            mileage_call(order=order, kind="stated", because=str(last_change_id(order)), by=by)
    for payment in order.payments.all():  # the cash is in: the 현금영수증 the buyer asked for (its failure kept on it)
        cash_receipts.issue_requested(payment)
    return order


def order_confirm_additional_deposit(*, order: Order, by) -> Order:
    """추가입금확인 (§9): the 추가 결제예정 금액 an exchange left arrived in the shop's account; it is recorded as a
    payment of its own (무통장입금), and the order owes nothing more. The amount is the one owed when pressed, read
    under the order's lock: a second press, or two operators at once, record it once."""
    with transaction.atomic():
        order = lock_order(order)
        due = exchange_due_won(order)
        if due <= 0:
            raise ActionError(_("받을 추가입금이 없습니다."))
        try:
            payment_additional_deposit(order=order, amount_won=due, bank_account=exchange_due_account(), by=by)
        except PaymentActionError as exc:
            raise ActionError(exc.message) from None
    return order


def order_mark_unpaid(*, order: Order, by, seen: int | None = None) -> Order:
    """미입금상태로 전환: back to 입금전 with a new deposit deadline from now (E8: the provider, told by cancel/stated,
    starts its 15 days again); the provider's deal-done is cancelled."""
    with transaction.atomic():
        order = lock_order(order)
        refuse_stale(order, seen)
        # only a bank transfer whose deposit nothing has been paid back from: a card's charge stays at the gateway
        if order.payment_method != PaymentMethod.BANK_TRANSFER or order.refunds.exists() \
                or order.payments.count() > 1:  # an exchange's 추가입금 was recorded on top of the deposit
            raise ActionError(_("미입금상태로 전환은 환불과 추가입금이 없는 무통장입금 주문만 할 수 있습니다."))
        order_set_status(order=order, to_status=OrderStatus.AWAITING_DEPOSIT, by=by, note="미입금상태로 전환")
        order.deposit_deadline = unpaid_deadline(timezone.now())
        order.save(update_fields=["deposit_deadline"])
        payment_deposit_undone(order=order, by=by)
        if live_mileage(order):
            mileage_call(order=order, kind="cancel_stated", because=str(last_change_id(order)), by=by)
    for payment in order.payments.all():  # a 현금영수증 issued for that deposit is cancelled, the ask kept
        cash_receipts.deposit_undone(payment)
    return order


INVOICE_NO_MAX = 40


def clean_invoice_no(raw: str) -> str:
    """운송장번호 as the provider takes it: letters, digits and hyphens, at most INVOICE_NO_MAX characters."""
    invoice_no = (raw or "").strip()
    if not invoice_no or len(invoice_no) > INVOICE_NO_MAX or not invoice_no.replace("-", "").isascii() \
            or not invoice_no.replace("-", "").isalnum() or invoice_no.startswith("-") or invoice_no.endswith("-"):
        if len(invoice_no) > INVOICE_NO_MAX:
            raise ActionError(_("운송장번호는 %(max)s자까지 입력할 수 있습니다.") % {"max": INVOICE_NO_MAX}, "invoice_no")
        raise ActionError(_("운송장번호를 입력해 주세요 (영문/숫자)."), "invoice_no")
    return invoice_no


def clean_carrier(raw: str) -> Carrier:
    """택배사: one of `Carrier`; anything else is refused."""
    if raw not in Carrier.values:
        raise ActionError(_("택배사를 목록에서 골라 주세요."), "carrier")
    return Carrier(raw)


def order_ship(*, order: Order, invoice_no: str, carrier: str, by) -> Order:
    """배송: the order leaves with its carrier and invoice number; the provider gets the delivery invoice."""
    invoice_no, carrier = clean_invoice_no(invoice_no), clean_carrier(carrier)
    company = carrier.korean_name
    with transaction.atomic():
        order = lock_order(order)
        asked = open_request(order)  # read under the order's lock: a request filed meanwhile is seen
        if asked is not None and asked.kind == BuyerRequestKind.CANCEL:
            raise ActionError(_("구매자가 취소를 신청한 주문입니다. 주문취소하거나 신청을 반려한 뒤에 배송해 주세요."))
        order_set_status(order=order, to_status=OrderStatus.SHIPPED, by=by, note=f"{company} {invoice_no}")
        order.invoice_no, order.carrier = invoice_no, carrier.value
        order.save(update_fields=["invoice_no", "carrier"])
        invoice_to_provider(order=order, carrier=carrier, invoice_no=invoice_no, by=by)
    return order


def invoice_to_provider(*, order: Order, carrier: Carrier, invoice_no: str, by, because: str = "") -> None:
    """The delivery invoice call (docs/protocol.md §2, "shipped") of goods leaving for the order's recipient, inside
    the caller's transaction: the order's own shipment, or an exchange's new goods (`because`: the exchange, sent
    on the txId its re-approval gave). Nothing when the order has no live mileage transaction. The Invoice masks
    the name and the phone on the wire."""
    if live_mileage(order):
        mileage_invoice_send(order=order, by=by, because=because, invoice=Invoice(
            shipped_date=timezone.now().astimezone(BUSINESS_TZ).strftime("%Y%m%d"), invoice_no=invoice_no,
            recipient_name=order.recipient_name, service_company=carrier.korean_name,
            address=wire.mask_address(order.address), recipient_cph_no=order.recipient_phone))


def order_deliver(*, order: Order, by) -> Order:
    return order_set_status(order=order, to_status=OrderStatus.DELIVERED, by=by, note="배송완료")


def order_confirm_purchase(*, order: Order, by) -> Order:
    """구매확정: the provider is told (confirmed) and the shop's 적립금 granted. Refused, by the buyer or an operator
    alike, while a 취소/반품/교환 request of the order is open (it would be left with nothing to settle it), an
    exchange's 추가 결제예정 금액 is not paid yet, or its new goods have not been sent (교환상품 배송); all read under
    the order's lock."""
    with transaction.atomic():
        order = lock_order(order)
        if open_request(order) is not None:
            raise ActionError(_("취소/반품/교환 신청이 처리 중인 주문은 구매확정할 수 없습니다. 신청을 처리하거나 반려한 뒤에 "
                                "구매확정합니다."))
        due = exchange_due_won(order)
        if due:
            raise ActionError(_("교환의 추가 결제예정 금액 %(amount)s원이 아직 입금되지 않아 구매확정할 수 없습니다. "
                                "추가입금확인 뒤에 구매확정해 주세요.") % {"amount": f"{due:,}"})
        if exchanges_awaiting_shipping(order):
            raise ActionError(_("교환상품이 아직 배송되지 않아 구매확정할 수 없습니다. 교환상품을 배송한 뒤에 구매확정합니다."))
        order_set_status(order=order, to_status=OrderStatus.CONFIRMED, by=by, note="구매확정")
        if live_mileage(order):
            mileage_call(order=order, kind="confirmed", by=by)
        _grant_store_points(order, by)
    return order


def _grant_store_points(order: Order, by) -> None:
    """E9: the shop's 적립금 is granted at 구매확정, on what remains of the order after returns and exchanges (so a
    cancelled or returned order never gets it)."""
    if not order.member_id or order.store_points_earn_won <= 0:
        return
    settings = MileageSettings.load()
    remaining = remaining_amounts(order)
    still_used = max(0, order.mileage_use_won - mileage_returned_so_far(order))  # what returns did not give back
    base = earn_base(build_amounts(Goods(remaining.goods_won, remaining.excluded_goods_won),
                                   store_points_won=remaining.store_points_won,
                                   mileage_use_won=min(still_used, remaining.goods_won)),
                     settings.earn_base_rule) if remaining else 0
    earned = min(order.store_points_earn_won, store_points_earn(base, settings.store_points_rate_x10))
    if earned:
        store_points_change(member=order.member, delta_won=earned, reason="구매확정 적립", order=order, by=by,
                            idempotency_key=action_key(order.number, "earn"))
    order.store_points_granted_won = earned
    order.save(update_fields=["store_points_granted_won"])
