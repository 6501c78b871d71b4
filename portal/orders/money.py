"""The one owner of the shop's money records (docs/adr/0012-money-moves-at-refund-complete.md): `Payment`,
`PaymentCancel` and their `PaymentStateChange` rows are written here and nowhere else, along
`PAYMENT_TRANSITIONS` / `PAYMENT_CANCEL_TRANSITIONS`, a state-change row per move — as
mileage/services/transactions.py owns the mileage.

A payment's status is derived from what was charged and what went back (cancels at the gateway and cash refunds
the shop paid): 승인 while nothing went back, 부분취소 while part of it did, 취소 only when nothing is charged any
more. Money goes back in two ways, both here:
- `refund_payout` pays out a refund at 환불완료: a gateway cancel of the refund's amount (카드취소, 계좌이체취소,
  휴대폰결제취소) with an idempotency key bound to the refund, or a cash refund (현금환불) recorded with the account the
  money went to. The refund is done only when this returns.
- `payment_cancel` is 주문상세정보's 결제취소 button, for money no refund covers.
Every cancel is reserved under the payment's row lock (refunds + cancels ≤ the charge, summed over all of them), the
gateway is asked outside any transaction, and the answer recorded; asking again carries the same key, so the
gateway never pays the same money twice. A cancel left 요청중 by a process that died is finished by the scheduler
(`payment_cancels_resume`).
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.idempotency import action_key

from . import cash_receipts
from .gateway import GatewayResult, GatewayUnavailable, VirtualAccount, get_gateway
from .gateway_interface import PORTONE_NAME
from .models import (
    PAYMENT_CANCEL_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    Order,
    OrderStatus,
    Payment,
    PaymentCancel,
    PaymentCancelStatus,
    PaymentMethod,
    PaymentStateChange,
    PaymentStatus,
)
from .rules import (
    PG_PHONE_PARTIAL,
    PG_TRANSFER_PARTIAL,
    pg_cancel_refusal,
    pg_cancel_refusal_clause,
    pg_cancel_refusal_message,
    pg_cancel_refusal_reason,
)

log = logging.getLogger(__name__)

GATEWAY_METHODS = (PaymentMethod.CARD, PaymentMethod.REALTIME_TRANSFER, PaymentMethod.PHONE)
# the refund method (환불 방식) that pays back through each gateway payment method
REFUND_METHOD_OF = {PaymentMethod.CARD: "card", PaymentMethod.REALTIME_TRANSFER: "transfer",
                    PaymentMethod.PHONE: "phone"}
# refunds the shop pays itself (stored labels, shown through gettext): 현금환불 to an account, 적립금환불 as points
SHOP_PAID = dict(zip(("cash", "points"), PaymentCancel.SHOP_PAID_LABELS, strict=True))
STUCK_AFTER = timedelta(minutes=5)


class PaymentActionError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class PaymentTransitionNotAllowed(Exception):
    pass


def _uid(by):
    return by if (by is not None and getattr(by, "is_authenticated", False)) else None


def _move(payment: Payment, to_status: str, *, by=None, note: str = "", cancel: PaymentCancel | None = None,
          fields: tuple[str, ...] = (), changes: list[PaymentStateChange] | None = None) -> None:
    """Move a locked payment along PAYMENT_TRANSITIONS and write the change row (into `changes`, when the caller
    writes its moves' rows together)."""
    from_status = payment.status
    if to_status not in PAYMENT_TRANSITIONS.get(from_status, set()):
        if from_status == to_status:
            return  # already there (partly cancelled again is a move of its own, in the table)
        raise PaymentTransitionNotAllowed(f"payment {payment.pk}: {from_status} → {to_status}")
    payment.status = to_status
    payment.save(update_fields=["status", *fields])
    _change(changes, PaymentStateChange(payment=payment, cancel=cancel, from_status=from_status, to_status=to_status,
                                        changed_by=_uid(by), note=note[:200]))
    if to_status == PaymentStatus.APPROVED or (from_status == PaymentStatus.APPROVED
                                               and to_status in (PaymentStatus.WAITING, PaymentStatus.FAILED)):
        _sync_collected(payment.order_id)  # charged, or the charge undone (미입금상태로 전환)


def _change(changes: list[PaymentStateChange] | None, row: PaymentStateChange) -> None:
    if changes is None:
        row.save(force_insert=True)
    else:
        changes.append(row)


def _move_cancel(cancel: PaymentCancel, to_status: str, *, by=None, note: str = "",
                 fields: tuple[str, ...] = (), changes: list[PaymentStateChange] | None = None) -> None:
    from_status = cancel.status
    if to_status not in PAYMENT_CANCEL_TRANSITIONS.get(from_status, set()):
        raise PaymentTransitionNotAllowed(f"payment cancel {cancel.pk}: {from_status} → {to_status}")
    cancel.status = to_status
    cancel.save(update_fields=["status", *fields])
    _change(changes, PaymentStateChange(payment_id=cancel.payment_id, cancel=cancel, from_status=from_status,
                                        to_status=to_status, changed_by=_uid(by), note=note[:200]))


# --- reads ---------------------------------------------------------------------------------------------------------

def returned_won(payment: Payment) -> int:
    """What went back of the charge or is on its way (done and 요청중 cancels, cash refunds): never more than the
    charge."""
    return payment.cancels.exclude(status=PaymentCancelStatus.FAILED).aggregate(s=Sum("amount_won"))["s"] or 0


def _charged(order_id):
    # a cancelled payment counts when it was charged first (then given back), never when it was void (not paid)
    return Payment.objects.filter(order_id=order_id, status__in=(PaymentStatus.APPROVED, PaymentStatus.PARTIAL,
                                                                  PaymentStatus.CANCELLED), approved_at__isnull=False)


def collected_won(order: Order) -> int:
    """What the shop took of the order: its charged payments (an exchange's 추가 결제예정 금액 is not money taken
    until a payment takes it). The order's `collected_won` keeps the same figure for the lists (_sync_collected)."""
    return _charged(order.pk).aggregate(s=Sum("amount_won"))["s"] or 0


def _sync_collected(order_id: int) -> None:
    """Order.collected_won after a charge is taken or undone (inside the caller's transaction): what the order's
    lists and exports show as 실결제금액, the same figure 주문상세정보 reads from the payments."""
    total = _charged(OuterRef("pk")).order_by().values("order_id").annotate(s=Sum("amount_won")).values("s")
    Order.objects.filter(pk=order_id).update(collected_won=Coalesce(Subquery(total), Value(0)))


# A refund's payout in SQL (aftersales' Refund.payout_won): its cash part less the 배송비 the shop keeps.
REFUND_PAYOUT = F("cash_won") - F("shipping_deduction_won")


def _outside_refunds(order: Order):
    """The order's 결제취소 that no refund made: done, or asked and not answered yet."""
    return PaymentCancel.objects.filter(payment__order=order, refund_number="").exclude(
        status=PaymentCancelStatus.FAILED)


def returned_outside_refunds_won(order: Order) -> int:
    """What 결제취소 gave back without a refund (the refund limits leave it out)."""
    return _outside_refunds(order).aggregate(s=Sum("amount_won"))["s"] or 0


def cancels_outside_refunds(order: Order) -> list[PaymentCancel]:
    """Those 결제취소, oldest first: every statement lists them beside the refunds, as money given back."""
    return list(_outside_refunds(order).order_by("id"))


def _waiting_refunds_won(payment: Payment, *, but: str = "") -> int:
    """The money of the order's refunds still 환불전 whose payout is not reserved yet (leaving out refund `but`):
    환불완료 will pay it, so 결제취소 leaves it alone (a reserved payout is counted in returned_won already). Every
    refund counts, 현금환불 and 적립금환불 too: their payout is booked against the charge as well."""
    reserved = payment.cancels.exclude(status=PaymentCancelStatus.FAILED).exclude(refund_number="").values(
        "refund_number")
    return payment.order.refunds.filter(status="before").exclude(
        number__in=reserved).exclude(number=but).aggregate(s=Sum(REFUND_PAYOUT))["s"] or 0


# An order that still stands: its money goes back through 주문취소 or a return — a refund, which settles its mileage
# at the provider, its store points and every figure with it — never through 결제취소 alone.
STANDING = frozenset({OrderStatus.PLACING, OrderStatus.AWAITING_DEPOSIT, OrderStatus.PAID, OrderStatus.SHIPPED,
                      OrderStatus.DELIVERED, OrderStatus.CONFIRMED, OrderStatus.RETURN_REQUESTED,
                      OrderStatus.RETURNING})


def partly_returned(order: Order) -> bool:
    """Back at the shop (반송완료) with some of its goods still the buyer's: a partial return."""
    return order.status == OrderStatus.RETURNED and order.lines.filter(returned_quantity__lt=F("quantity")).exists()


def is_standing(order: Order) -> bool:
    """Whether the order still stands (STANDING), a partly returned one at 반송완료 included: the buyer keeps some of
    its goods, so what they paid for them goes back only through a return or a cancel, never 결제취소 alone."""
    return order.status in STANDING or partly_returned(order)


def held_beyond_owed_won(order: Order) -> int:
    """What the shop holds of a standing order beyond what the order costs and its refunds give back (money taken
    twice, say): the only part of it 결제취소 gives back on its own."""
    refunds = order.refunds.aggregate(s=Sum(REFUND_PAYOUT))["s"] or 0
    return max(0, collected_won(order) - order.payable_won - refunds - returned_outside_refunds_won(order))


def cancellable_won(payment: Payment) -> int:
    """What 결제취소 may cancel now: what is left of the charge, less what the refunds waiting in 환불관리 will pay
    back at 환불완료 (so a button and a refund can never pay the same money); of a standing order, no more than it
    holds beyond what it owes. 0 for money the gateway never took."""
    if payment.method not in GATEWAY_METHODS or payment.status not in (PaymentStatus.APPROVED, PaymentStatus.PARTIAL):
        return 0
    left = max(0, payment.amount_won - returned_won(payment) - _waiting_refunds_won(payment))
    order = payment.order
    if left and is_standing(order):
        left = min(left, held_beyond_owed_won(order))
    return left


def kept_charge_refusal(order: Order, kept_won: int) -> str | None:
    """Why a refund that ends the order may not leave `kept_won` of its charge with the shop, or None. What such a
    refund leaves is given back later only by 결제취소 (주문상세정보): a card's part, or a transfer's or a mobile
    payment's whole charge; a 무통장입금 or 가상계좌 deposit (an exchange's 추가입금 among them), a part of a transfer
    or of a mobile payment, a mobile payment past its day could never be — the money would stay with the shop for
    good. A refund pays back from the first payment, then from each later one (_shop_paid_across): what it leaves
    is the later payments' first."""
    if kept_won <= 0:
        return None
    # in the order a refund pays from them (by id: the first payment, then each later one), the ones still charged
    charged = [payment for payment in Payment.objects.filter(order=order).order_by("id")
               if payment.status in (PaymentStatus.APPROVED, PaymentStatus.PARTIAL)]
    left_out = kept_won
    for payment in reversed(charged):  # what is left out: the latest payment's first, the first payment's last
        part = min(left_out, still_charged_won(payment))
        if part <= 0:
            continue
        left_out -= part
        code = None
        if payment.method == PaymentMethod.BANK_TRANSFER:
            why = _("무통장입금은 결제취소가 없어 남긴 금액을 나중에 돌려줄 수 없습니다.")
        elif payment.method not in GATEWAY_METHODS:
            why = _("가상계좌 입금은 결제취소가 없어 남긴 금액을 나중에 돌려줄 수 없습니다.")
        elif (code := pg_refusal(payment, part, _at_gateway_won(payment))) is not None:
            why = _("%(why)s 남긴 금액을 나중에 결제취소로 돌려줄 수 없습니다.") % {"why": pg_cancel_refusal_clause(code)}
        else:
            continue
        if code in (PG_PHONE_PARTIAL, PG_TRANSFER_PARTIAL):  # cancelled whole, it may still be left out whole
            return _("%(why)s 주문을 끝내는 환불에는 결제된 금액을 모두 넣거나, 모두 남겨 나중에 결제취소로 돌려주세요 (남기려는 "
                     "%(kept)s원이 배송비라면 배송비적용에 입력해 주세요).") % {"why": why, "kept": f"{kept_won:,}"}
        return _("%(why)s 주문을 끝내는 환불에는 결제된 금액을 모두 넣어 주세요 (남기려는 %(kept)s원이 배송비라면 "
                 "배송비적용에 입력해 주세요).") % {"why": why, "kept": f"{kept_won:,}"}
    return None


def cancel_refusal_text(payment: Payment, left_won: int, at_gateway_won: int) -> str:
    """What 주문상세정보 says instead of a 결제취소 button the PG would refuse for every amount up to `left_won` (a part
    of a transfer or of a mobile payment, a mobile payment past its day), or "" when the PG takes it."""
    code = pg_refusal(payment, left_won, at_gateway_won) if left_won else None
    if code is None:
        return ""
    return _("%(why)s 남은 %(left)s원은 결제취소로 돌려줄 수 없습니다. 구매자에게는 쇼핑몰이 직접(계좌로) 돌려주어야 "
             "합니다.") % {"why": pg_cancel_refusal_clause(code), "left": f"{left_won:,}"}


def kept_charge_rule(order: Order, charged_won: int) -> str:
    """What a whole cancel's form says beforehand of leaving money out (kept_charge_refusal): "" (any part may be
    left, 결제취소 gives it back later), "whole" (only all of it: a transfer, a mobile payment on its day) or "none"."""
    if kept_charge_refusal(order, 1) is None:
        return ""
    return "whole" if kept_charge_refusal(order, charged_won) is None else "none"


def refund_method_for(order: Order, amount_won: int | None = None) -> str:
    """How a refund of this order pays back by default: through the gateway the order was paid with (카드취소,
    계좌이체취소, 휴대폰결제취소), else — and when the PG cannot take the cancel of `amount_won` (a part of a transfer or
    a mobile payment, a mobile payment past its day: portal.orders.rules) — 현금환불 to the buyer's account."""
    return refund_method_and_why(order, amount_won)[0]


def _first_payment(order: Order) -> Payment | None:
    """The payment the order was placed with (unlocked: _locked reads it under its lock)."""
    return Payment.objects.filter(order=order).order_by("id").first()


def refund_method_and_why(order: Order, amount_won: int | None = None, *, but: str = "") -> tuple[str, str]:
    """refund_method_for and, when it is 현금환불 because the PG cannot take the cancel, the line 환불관리 shows why
    (else ""). `but`: a refund of the order already recorded (its own amount is the one asked about)."""
    payment = _first_payment(order)
    if payment is None or payment.method not in REFUND_METHOD_OF:
        return "cash", ""
    if amount_won is None:  # no amount yet (the form's default): only the payment's day counts
        code = pg_refusal(payment, 0, 0)
    elif amount_won <= 0:  # nothing to pay back in money
        code = None
    else:
        left = payment.amount_won - returned_won(payment) - _waiting_refunds_won(payment, but=but)
        if amount_won > left and _other_payments_left_won(order, payment):
            return "cash", _("추가입금이 포함된 환불이라 현금환불(계좌)로 돌려줍니다.")
        # whole or partial against what the gateway holds; beyond what the shop holds: the limits refuse it
        code = pg_refusal(payment, amount_won, _at_gateway_won(payment)) if amount_won <= left else None
    if code is not None:
        return "cash", pg_cancel_refusal_reason(code)
    return REFUND_METHOD_OF[payment.method], ""


def refund_methods_offered(order: Order) -> frozenset[str]:
    """The 환불 방식 a refund of this order can take (the forms list them in their own order): the gateway's own
    cancel of the way it was paid (카드취소, 계좌이체취소, 휴대폰결제취소), 현금환불 always, 적립금환불 for a member's
    order."""
    payment = _first_payment(order)
    offered = {"cash"}
    if payment is not None and payment.method in REFUND_METHOD_OF:
        offered.add(REFUND_METHOD_OF[payment.method])
    if order.member_id:
        offered.add("points")
    return frozenset(offered)


def refund_method_error(order: Order, method: str, *, method_label: str, cash_won: int, has_account: bool,
                        refund_number: str = "") -> str:
    """Why a refund of `cash_won` cannot be paid back this way (`method`, shown as `method_label`), or "" (checked
    when the refund is recorded, and when its 환불 방식 is changed: `refund_number` is then the refund itself)."""
    if cash_won <= 0:
        return ""
    payment = _first_payment(order)
    if method in REFUND_METHOD_OF.values() and (payment is None or REFUND_METHOD_OF.get(payment.method) != method):
        paid = payment.get_method_display() if payment is not None else "-"
        return _("이 주문은 %(paid)s(으)로 결제되어 %(method)s(으)로 돌려줄 수 없습니다.") % {
            "paid": paid, "method": method_label}
    if method in REFUND_METHOD_OF.values():  # the gateway's own rules, so that 환불완료 cannot be refused for them
        left = payment.amount_won - returned_won(payment) - _waiting_refunds_won(payment, but=refund_number)
        if cash_won > left and _other_payments_left_won(order, payment):
            return _("%(method)s(으)로는 %(left)s원까지 돌려줄 수 있습니다. 추가입금이 포함된 환불은 현금환불로 처리해 주세요.") % {
                "method": method_label, "left": f"{max(0, left):,}"}
        try:  # whole or partial against what the gateway holds (a 현금환불 paid before leaves its charge there)
            _refuse_what_the_pg_refuses(payment, cash_won, _at_gateway_won(payment), timezone.now())
        except PaymentActionError as exc:
            return exc.message
    if method == "cash" and not has_account:
        return _("현금환불은 환불은행, 계좌번호, 예금주를 입력해 주세요.")
    if method == "points" and not order.member_id:
        return _("비회원 주문은 적립금으로 환불할 수 없습니다.")
    return ""


def refund_payout_pending(refund_number: str) -> bool:
    """Whether the refund's payout was asked of the gateway and is still unanswered (요청중)."""
    return PaymentCancel.objects.filter(refund_number=refund_number, status=PaymentCancelStatus.PENDING).exists()


def refunds_paid_out():
    """The numbers of the refunds whose payout is done (a queryset, for a subquery)."""
    return PaymentCancel.objects.filter(status=PaymentCancelStatus.DONE).exclude(refund_number="").values(
        "refund_number")


def still_charged_won(payment: Payment) -> int:
    if payment.status not in (PaymentStatus.APPROVED, PaymentStatus.PARTIAL):
        return 0
    return max(0, payment.amount_won - returned_won(payment))


def pg_refusal(payment: Payment, amount_won: int, left_won: int, now: datetime | None = None) -> str | None:
    """Why the PG would refuse to cancel `amount_won` of this payment with `left_won` still charged (a
    portal.orders.rules PG_* code), or None. Asked before either gateway is (TEST or PortOne): a refusal the PG would
    give is never sent to it."""
    return pg_cancel_refusal(method=payment.method, amount_won=amount_won, left_won=left_won,
                             paid_at=payment.approved_at, now=now or timezone.now())


def _refuse_what_the_pg_refuses(payment: Payment, amount_won: int, left_won: int, now: datetime) -> None:
    """A mobile payment is cancelled whole and on its day only, a real-time transfer whole only (manual §7)."""
    code = pg_refusal(payment, amount_won, left_won, now)
    if code is not None:
        raise PaymentActionError(pg_cancel_refusal_message(code))


def cancel_label(payment: Payment, amount_won: int, left_won: int) -> str:
    """The stored label of a gateway cancel of `amount_won` when `left_won` of the charge is left (shown through
    gettext)."""
    if payment.method == PaymentMethod.CARD:
        return "카드결제취소" if amount_won >= left_won else "카드부분취소"
    return {PaymentMethod.REALTIME_TRANSFER: "계좌이체취소", PaymentMethod.PHONE: "휴대폰결제취소"}.get(payment.method, "")


# --- the payment's own way -----------------------------------------------------------------------------------------

def payment_open(*, order: Order, method: str, amount_won: int, bank_account: str = "", window_id: str = "") -> Payment:
    """The order's payment, waiting for the charge (card-like) or the deposit (bank transfer). `window_id`: the
    payment id the buyer authenticated in a PG's window (PortOne), kept from the start so that the abandoned-order
    sweep and the webhooks find the payment before it is confirmed; one order per window (a unique constraint)."""
    card_like = method != PaymentMethod.BANK_TRANSFER
    name = get_gateway().name if card_like else ""
    payment = Payment.objects.create(order=order, method=method, amount_won=amount_won,
                                     status=PaymentStatus.WAITING, gateway=name,
                                     gateway_tid=window_id if card_like and name == PORTONE_NAME else "",
                                     bank_account="" if card_like else bank_account)
    PaymentStateChange.objects.create(payment=payment, from_status="", to_status=PaymentStatus.WAITING,
                                      note="주문")
    return payment


def _locked(order: Order) -> Payment | None:
    return Payment.objects.select_for_update().filter(order=order).order_by("id").first()


def charged_with_the_move(payment: Payment) -> dict:
    """What a placement's move to 결제완료 writes on the order beside its status, in the same UPDATE, when
    `payment_charged(..., with_the_move=True)` charged its one payment: 실 결제금액 is that payment."""
    return {"collected_won": payment.amount_won}


def payment_charged(*, order: Order, tid: str, note: str = "", payment: Payment | None = None,
                    with_the_move: bool = False) -> Payment:
    """The gateway charged the card (inside the caller's transaction). `payment`: the order's payment as its caller
    opened it (`payment_open`): the move is then one UPDATE by id guarded by that status, which locks the row as it
    writes; a payment that moved meanwhile is moved, or refused, the locked way. `with_the_move`: the caller writes
    the order's 실 결제금액 with its move to 결제완료 (charged_with_the_move), one statement less."""
    if payment is not None and PaymentStatus.APPROVED in PAYMENT_TRANSITIONS.get(payment.status, set()):
        now = timezone.now()
        if Payment.objects.filter(pk=payment.pk, status=payment.status).update(
                status=PaymentStatus.APPROVED, gateway_tid=tid, approved_at=now):
            from_status = payment.status
            payment.status, payment.gateway_tid, payment.approved_at = PaymentStatus.APPROVED, tid, now
            PaymentStateChange.objects.create(payment=payment, from_status=from_status,
                                              to_status=PaymentStatus.APPROVED, note=(note or "결제승인")[:200])
            if not with_the_move:
                _sync_collected(payment.order_id)
            return payment
    payment = _locked(order)
    payment.gateway_tid, payment.approved_at = tid, timezone.now()
    _move(payment, PaymentStatus.APPROVED, note=note or "결제승인", fields=("gateway_tid", "approved_at"))
    return payment


def payment_failed(*, order: Order, note: str = "") -> None:
    """Nothing was charged (a declined card, a refused mileage approval)."""
    payment = _locked(order)
    if payment is not None and payment.status == PaymentStatus.WAITING:
        _move(payment, PaymentStatus.FAILED, note=note)
        cash_receipts.requested_void(payment)  # nothing was paid: the 현금영수증 asked for will not be issued


def payment_deposit_confirmed(*, order: Order, by=None) -> None:
    """입금확인: the bank transfer arrived."""
    payment = _locked(order)
    if payment is not None and payment.status == PaymentStatus.WAITING:
        payment.approved_at = timezone.now()
        _move(payment, PaymentStatus.APPROVED, by=by, note="입금확인", fields=("approved_at",))


def payment_additional_deposit(*, order: Order, amount_won: int, bank_account: str, by=None) -> Payment:
    """추가입금확인 (§9): the buyer's 추가입금 for an exchange arrived in the shop's account (inside the caller's
    transaction, under the order's lock): a payment of its own, 무통장입금, charged from the start."""
    if amount_won <= 0:
        raise PaymentActionError(_("받을 추가입금이 없습니다."))
    payment = Payment.objects.create(order=order, method=PaymentMethod.BANK_TRANSFER, amount_won=amount_won,
                                     status=PaymentStatus.APPROVED, bank_account=bank_account,
                                     approved_at=timezone.now())
    PaymentStateChange.objects.create(payment=payment, from_status="", to_status=PaymentStatus.APPROVED,
                                      changed_by=_uid(by), note="추가입금확인")
    _sync_collected(order.pk)
    return payment


def payment_virtual_account_issued(*, order: Order, account: VirtualAccount) -> Payment:
    """The 가상계좌 the gateway issued for the order's payment (inside the caller's transaction): the payment keeps
    waiting for the deposit, with the account the buyer pays into."""
    payment = _locked(order)
    payment.gateway_tid, payment.vbank_bank, payment.vbank_number = account.tid, account.bank, account.account_number
    payment.vbank_holder, payment.vbank_due_at = account.holder, account.due_at
    payment.save(update_fields=["gateway_tid", "vbank_bank", "vbank_number", "vbank_holder", "vbank_due_at"])
    return payment


def virtual_account_paid(*, order: Order) -> bool:
    """Whether the gateway says the order's 가상계좌 payment is paid: ours, in KRW, for its amount (read back, never
    taken from a webhook's word). GatewayUnavailable when the gateway does not answer."""
    payment = Payment.objects.filter(order=order, method=PaymentMethod.VIRTUAL_ACCOUNT).exclude(
        gateway_tid="").order_by("id").first()
    if payment is None:
        return False
    return get_gateway(payment.gateway).verify(tid=payment.gateway_tid, amount_won=payment.amount_won).approved


def virtual_account_unpaid_at_gateway(*, order: Order) -> bool:
    """Whether the order's 가상계좌 was issued by a gateway that sees its deposits (PortOne) and that gateway says it is
    not paid yet: the operator's 입금확인 would then say the money is in when it is not. GatewayUnavailable when the
    gateway does not answer."""
    payment = Payment.objects.filter(order=order, method=PaymentMethod.VIRTUAL_ACCOUNT).exclude(
        gateway_tid="").order_by("id").first()
    if payment is None:
        return False
    found = get_gateway(payment.gateway)
    return found.sees_deposits and not found.verify(tid=payment.gateway_tid, amount_won=payment.amount_won).approved


def virtual_account_close(*, order: Order) -> bool:
    """The order's 가상계좌 takes no deposit any more (its deadline passed): True when closed at the gateway (or
    never issued), False when the deposit arrived first. GatewayUnavailable when the gateway does not answer."""
    payment = Payment.objects.filter(order=order, method=PaymentMethod.VIRTUAL_ACCOUNT).exclude(
        gateway_tid="").order_by("id").first()
    if payment is None:
        return True
    return get_gateway(payment.gateway).close_virtual_account(payment_id=payment.gateway_tid)


def payment_deposit_undone(*, order: Order, by=None) -> None:
    """미입금상태로 전환: the deposit was not there after all."""
    payment = _locked(order)
    if payment is not None and payment.status == PaymentStatus.APPROVED and not returned_won(payment):
        payment.approved_at = None  # no deposit was confirmed after all: none is shown, none counted as taken
        _move(payment, PaymentStatus.WAITING, by=by, note="미입금상태로 전환", fields=("approved_at",))


def payment_void(*, order: Order, by=None, note: str = "") -> None:
    """An order cancelled before it was paid: nothing was charged and nothing is owed."""
    payment = _locked(order)
    if payment is not None and payment.status == PaymentStatus.WAITING:
        _move(payment, PaymentStatus.CANCELLED, by=by, note=note)
        cash_receipts.requested_void(payment)  # the 현금영수증 asked for will not be issued


def _settle_status(payment: Payment, *, by=None, note: str = "", cancel: PaymentCancel | None = None,
                   done_won: int | None = None, changes: list[PaymentStateChange] | None = None) -> None:
    """The payment's status from what went back: 부분취소 while part of the charge is still charged, else 취소.
    `done_won`: what its done cancels sum to, when the caller read them under the payment's lock."""
    done = done_won if done_won is not None else payment.cancels.filter(
        status=PaymentCancelStatus.DONE).aggregate(s=Sum("amount_won"))["s"] or 0
    if done <= 0:
        return
    target = PaymentStatus.CANCELLED if done >= payment.amount_won else PaymentStatus.PARTIAL
    _move(payment, target, by=by, note=note, cancel=cancel, changes=changes)


# --- money going back ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Payout:
    """What 환불완료 paid: the cancel (gateway or cash) that carries the refund's money, or None when the refund has
    no money to pay (only points or mileage)."""

    cancel: PaymentCancel | None


def _reserve(payment: Payment, *, amount_won: int, key: str, label: str, refund_number: str, by,
             status: str = PaymentCancelStatus.PENDING,
             cancels: list[PaymentCancel] | None = None) -> tuple[PaymentCancel, bool]:
    """Under the payment's lock: the cancel for `key` (a new one, or the earlier one to retry), and whether the
    gateway is to be asked. Refuses more than is left of the charge. `cancels`: the payment's cancels (and any with
    `key`), when the caller read them under the payment's lock."""
    if cancels is None:
        existing = PaymentCancel.objects.select_for_update().filter(idempotency_key=key).first()
        returned = None
    else:
        existing = next((c for c in cancels if c.idempotency_key == key), None)
        returned = _returned_of(payment, cancels)
    if existing is not None and existing.status != PaymentCancelStatus.FAILED:
        return existing, existing.status == PaymentCancelStatus.PENDING
    # a refused cancel holds nothing: what is left is checked again
    left = payment.amount_won - (returned if returned is not None else returned_won(payment))
    if (existing.amount_won if existing is not None else amount_won) > left:
        raise PaymentActionError(_("남은 결제금액(%(left)s원)보다 많이 돌려줄 수 없습니다.") % {"left": f"{left:,}"})
    if existing is not None:  # the refused cancel asked again, with its own key
        _move_cancel(existing, PaymentCancelStatus.PENDING, by=by, note="다시 요청")
        return existing, True
    cancel = PaymentCancel.objects.create(payment=payment, label=label, amount_won=amount_won, idempotency_key=key,
                                          refund_number=refund_number, status=status, created_by=_uid(by))
    PaymentStateChange.objects.create(payment=payment, cancel=cancel, from_status="", to_status=status,
                                      changed_by=_uid(by), note=label)
    return cancel, status == PaymentCancelStatus.PENDING


def _locked_cancels(payment: Payment | None, refund_number: str = "") -> list[PaymentCancel]:
    """The payment's cancels (and the refund's, wherever they are), locked, in one read, after the payment's lock:
    what `_reserve`, `_record` and `_settle_status` would otherwise read one by one."""
    rows = PaymentCancel.objects.select_for_update()
    where = Q(payment=payment) if payment is not None else Q(pk__in=[])
    if refund_number:
        where |= Q(refund_number=refund_number)
    cancels = list(rows.filter(where).order_by("id"))
    for cancel in cancels:
        if payment is not None and cancel.payment_id == payment.pk:
            cancel.payment = payment
    return cancels


def _returned_of(payment: Payment, cancels: list[PaymentCancel]) -> int:
    """returned_won from the payment's cancels already read."""
    return sum(c.amount_won for c in cancels if c.payment_id == payment.pk and c.status != PaymentCancelStatus.FAILED)


def _at_gateway_of(payment: Payment, cancels: list[PaymentCancel]) -> int:
    """What the gateway still holds of the charge: the charge less its gateway cancels (done or asked). Money the
    shop paid back itself (현금환불, 적립금환불) leaves the charge at the gateway as it was: a later gateway cancel is
    whole or partial against this, and the PG's rules (a mobile payment cancelled whole only) apply to it."""
    return payment.amount_won - sum(c.amount_won for c in cancels if c.payment_id == payment.pk
                                    and c.status != PaymentCancelStatus.FAILED
                                    and c.label not in PaymentCancel.SHOP_PAID_LABELS)


def _at_gateway_won(payment: Payment) -> int:
    """_at_gateway_of with the payment's cancels read here."""
    return _at_gateway_of(payment, list(payment.cancels.all()))


@dataclass(frozen=True)
class ChargeView:
    """A payment as 주문상세정보 shows it: the charge, what the gateway cancelled, what the shop paid back itself, and
    what stays charged at the gateway (which a shop-paid refund does not lower)."""
    status_text: str
    gateway_cancelled_won: int
    shop_paid_won: int
    at_gateway_won: int
    # a charge a gateway cancels (card, 계좌이체, 휴대폰: GATEWAY_METHODS); a deposit (무통장입금, 가상계좌) is paid
    # back by the shop itself
    through_gateway: bool = True


def charge_view(payment: Payment, cancels: list[PaymentCancel]) -> ChargeView:
    live = [c for c in cancels if c.payment_id == payment.pk and c.status != PaymentCancelStatus.FAILED]
    shop_paid = sum(c.amount_won for c in live if c.label in PaymentCancel.SHOP_PAID_LABELS)
    at_gateway = _at_gateway_of(payment, live)
    status_text = payment.get_status_display()
    if shop_paid and payment.status in (PaymentStatus.PARTIAL, PaymentStatus.CANCELLED):
        # some of the money went back from the shop, not by a cancel of the charge: the gateway still holds that
        # part, so the payment is refunded (환불완료 once nothing is left to the shop), never "cancelled"
        status_text = _("환불완료") if payment.status == PaymentStatus.CANCELLED else _("부분환불")
    return ChargeView(status_text=status_text, gateway_cancelled_won=payment.amount_won - at_gateway,
                      shop_paid_won=shop_paid, at_gateway_won=at_gateway,
                      through_gateway=payment.method in GATEWAY_METHODS)


def _done_of(payment: Payment, cancels: list[PaymentCancel]) -> int:
    return sum(c.amount_won for c in cancels if c.payment_id == payment.pk and c.status == PaymentCancelStatus.DONE)


def _ask_gateway(payment: Payment, cancel: PaymentCancel) -> GatewayResult | None:
    """The gateway's answer to this cancel, or None when it gave none (ask again later with the same key)."""
    partial = cancel.amount_won < payment.amount_won
    try:
        return get_gateway(payment.gateway).cancel(tid=payment.gateway_tid, amount_won=cancel.amount_won,
                                                   partial=partial, idempotency_key=cancel.idempotency_key)
    except GatewayUnavailable as exc:
        log.warning("gateway cancel %s unanswered: %s", cancel.idempotency_key, type(exc).__name__)
        return None


def _record(cancel_pk: int, result: GatewayResult | None, by, *, payment_id: int | None = None) -> PaymentCancel:
    """The gateway's answer, recorded (inside the caller's transaction). Locks the payment (by `payment_id` when
    the caller knows it), then its cancels: the order every writer of the money takes (the order first where the
    caller holds it, then the payment)."""
    if payment_id is None:
        payment_id = PaymentCancel.objects.values_list("payment_id", flat=True).get(pk=cancel_pk)
    payment = Payment.objects.select_for_update().get(pk=payment_id)
    cancels = _locked_cancels(payment)
    cancel = next(c for c in cancels if c.pk == cancel_pk)
    moved_after_all = (cancel.status == PaymentCancelStatus.FAILED and result is not None and result.approved)
    if cancel.status != PaymentCancelStatus.PENDING and not moved_after_all:
        return cancel  # recorded meanwhile (the scheduler, or another press)
    # (moved_after_all: two presses asked at once with the same key, and the refusal of the one that came second —
    # the charge was already cancelled, by the first — was recorded first; the gateway says the money moved: it did)
    if moved_after_all and _returned_of(payment, cancels) + cancel.amount_won > payment.amount_won:
        # paid back another way meanwhile (the refusal read as final): the books say what happened, loudly
        log.error("payment %s: gateway cancel %s (%s원) confirmed after the money was paid back otherwise; "
                  "more than charged has gone back", payment.pk, cancel.idempotency_key, cancel.amount_won)
    if result is None:
        # no answer: whether the gateway acted is unknown, so the money stays reserved (요청중) until it answers —
        # pressing again, or the scheduler, asks the same thing with the same key
        cancel.message = str(_("결제대행사가 응답하지 않았습니다. 다시 누르면 같은 요청으로 다시 묻습니다."))[:200]
        cancel.save(update_fields=["message"])
        return cancel
    cancel.gateway_tid, cancel.message = result.tid, result.message[:200]
    if result.approved:
        changes = []  # the cancel's move and the payment's, written in one statement
        _move_cancel(cancel, PaymentCancelStatus.DONE, by=by, note=result.message, fields=("gateway_tid", "message"),
                     changes=changes)
        _settle_status(payment, by=by, note=_(cancel.label), cancel=cancel, done_won=_done_of(payment, cancels),
                       changes=changes)
        PaymentStateChange.objects.bulk_create(changes)
    else:
        _move_cancel(cancel, PaymentCancelStatus.FAILED, by=by, note=result.message, fields=("gateway_tid", "message"))
    return cancel


def refund_payout_prepare(*, order: Order, refund_number: str, method: str, method_label: str, amount_won: int,
                          account: str = "", by=None) -> tuple[PaymentCancel | None, bool]:
    """Inside 환불완료's first transaction: reserve the money movement of a refund. A cash refund is recorded done at
    once (the shop pays it, to `account`); a gateway refund is reserved 요청중 for the gateway. Returns the cancel and
    whether the gateway must be asked now."""
    if amount_won <= 0:
        return None, False
    payment = _locked(order)
    cancels = _locked_cancels(payment, refund_number)  # one read for the checks below
    # the refund's payout made before (by an earlier press, or the scheduler): found first, whatever the payment's
    # status is now (a whole refund leaves it 취소)
    earlier = next((c for c in cancels if c.refund_number == refund_number
                    and c.status != PaymentCancelStatus.FAILED), None)
    if earlier is not None:
        return earlier, earlier.status == PaymentCancelStatus.PENDING
    if payment is None:
        raise PaymentActionError(_("결제되지 않은 주문은 돈을 돌려줄 수 없습니다."))
    charged = payment.status in (PaymentStatus.APPROVED, PaymentStatus.PARTIAL)
    # bound to the refund and its 환불 방식: a refused 카드취소 changed to 현금환불 is a payout of its own
    key = action_key("refund", refund_number, "payout", *([] if method in REFUND_METHOD_OF.values() else [method]))
    if method in SHOP_PAID:  # the shop pays it (to the account, or as store points): done when recorded
        label = SHOP_PAID[method]
        if not charged or amount_won > payment.amount_won - _returned_of(payment, cancels):
            # more than the first payment has left (or it holds nothing any more): an exchange's 추가입금, a
            # payment of its own, pays the rest
            return _shop_paid_across(order, payment, cancels, amount_won=amount_won, key=key, label=label,
                                     refund_number=refund_number, account=account, by=by), False
        return _shop_paid(payment, cancels, amount_won=amount_won, key=key, label=label,
                          refund_number=refund_number, account=account, by=by), False
    if not charged:
        raise PaymentActionError(_("결제되지 않은 주문은 돈을 돌려줄 수 없습니다."))
    if REFUND_METHOD_OF.get(payment.method) != method:
        raise PaymentActionError(_("이 주문은 %(method)s(으)로 결제되지 않아 %(refund)s을(를) 할 수 없습니다. 환불 방식을 현금환불로 "
                                   "바꿔 주세요.") % {"method": payment.get_method_display(),
                                                   "refund": method_label})
    left = _at_gateway_of(payment, cancels)
    _refuse_what_the_pg_refuses(payment, amount_won, left, timezone.now())
    return _reserve(payment, amount_won=amount_won, key=key, label=cancel_label(payment, amount_won, left),
                    refund_number=refund_number, by=by, cancels=cancels)


def _shop_paid_across(order: Order, first: Payment, cancels: list[PaymentCancel], *, amount_won: int, key: str,
                      label: str, refund_number: str, account: str, by) -> PaymentCancel:
    """A refund the shop pays (현금환불, 적립금환불) larger than the first payment has left: booked against the
    order's payments in turn (the first, then each 추가입금), a cancel per payment, each under its payment's lock and
    keyed by the refund and that payment. Returns the first payment's cancel."""
    others = list(Payment.objects.select_for_update().filter(
        order=order, status__in=(PaymentStatus.APPROVED, PaymentStatus.PARTIAL)).exclude(pk=first.pk).order_by("id"))
    theirs = list(PaymentCancel.objects.select_for_update().filter(payment__in=others)) if others else []
    first_charged = first.status in (PaymentStatus.APPROVED, PaymentStatus.PARTIAL)
    if not first_charged and not others:
        raise PaymentActionError(_("결제되지 않은 주문은 돈을 돌려줄 수 없습니다."))
    parts, remaining = [], amount_won
    for payment, its in [*([(first, cancels)] if first_charged else []), *((other, theirs) for other in others)]:
        part = min(payment.amount_won - _returned_of(payment, its), remaining)
        if part > 0:
            parts.append((payment, its, part))
            remaining -= part
    if remaining > 0:
        raise PaymentActionError(_("남은 결제금액(%(left)s원)보다 많이 돌려줄 수 없습니다.")
                                 % {"left": f"{amount_won - remaining:,}"})
    booked = [_shop_paid(payment, its, amount_won=part, label=label, refund_number=refund_number, account=account,
                         by=by, key=key if index == 0 else action_key(key, "payment", str(payment.pk)))
              for index, (payment, its, part) in enumerate(parts)]
    return booked[0]


def _shop_paid(payment: Payment, cancels: list[PaymentCancel], *, amount_won: int, key: str, label: str,
               refund_number: str, account: str, by) -> PaymentCancel:
    """Under the payment's lock: `amount_won` of it paid back by the shop (현금환불 to `account`, 적립금환불), recorded
    done at once, and the payment's status settled."""
    cancel, _ask = _reserve(payment, amount_won=amount_won, key=key, label=label, refund_number=refund_number,
                            by=by, status=PaymentCancelStatus.DONE, cancels=cancels)
    if account and cancel.message != account[:200]:
        cancel.message = account[:200]
        cancel.save(update_fields=["message"])
    _settle_status(payment, by=by, note=label, cancel=cancel,
                   done_won=_done_of(payment, [*(c for c in cancels if c.pk != cancel.pk), cancel]))
    return cancel


def _other_payments_left_won(order: Order, first: Payment) -> int:
    """What the order's later payments (an exchange's 추가입금) still hold."""
    return sum(still_charged_won(payment) for payment in Payment.objects.filter(order=order).exclude(pk=first.pk))


def refund_payout_send(cancel: PaymentCancel) -> GatewayResult | None:
    """Outside any transaction: ask the gateway for a reserved refund cancel (its key bound to the refund); the
    payment is the one `refund_payout_prepare` locked, passed along with the cancel (its tid and amount do not change
    once charged)."""
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("the gateway is asked outside any database transaction")
    return _ask_gateway(cancel.payment, cancel)


def refund_payout_record(cancel: PaymentCancel, result: GatewayResult | None, *, by=None) -> PaymentCancel:
    """Inside 환불완료's second transaction: the gateway's answer."""
    return _record(cancel.pk, result, by, payment_id=cancel.payment_id)


STANDING_ORDER_REFUNDS = gettext_lazy(
    "주문이 유지되는 동안 결제금액은 결제취소가 아니라 주문취소(배송 전) 또는 반품(배송 후)으로 돌려줍니다. 환불관리에 "
    "남고, 네이버 마일리지와 적립금도 함께 정리됩니다.")


def payment_cancel(*, payment: Payment, amount_won: int, key: str, by=None,
                   now: datetime | None = None) -> PaymentCancel | None:
    """결제취소 on 주문상세정보: cancel `amount_won` of the charge that no refund covers. Returns the cancel, or None
    when this key was pressed before."""
    now = now or timezone.now()
    if payment.method not in GATEWAY_METHODS:
        raise PaymentActionError(_("무통장입금은 결제취소가 없습니다. 환불관리에서 현금환불(계좌)로 처리해 주세요."))
    key = action_key("payment", str(payment.pk), "cancel", key)
    with transaction.atomic():
        # the order first, then the payment: the lock order of every writer of the money (a refund recorded at the
        # same moment holds the order, so the two never promise the same money)
        Order.objects.select_for_update(no_key=True).only("pk").get(pk=payment.order_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if PaymentCancel.objects.filter(idempotency_key=key).exists():
            return None
        remaining = cancellable_won(payment)
        if remaining == 0 and is_standing(payment.order) and still_charged_won(payment):
            raise PaymentActionError(str(STANDING_ORDER_REFUNDS))
        if remaining == 0:
            raise PaymentActionError(_("취소할 결제금액이 없습니다. 환불관리의 환불은 환불완료 때 결제대행사에서 취소됩니다."))
        if not 0 < amount_won <= remaining:
            raise PaymentActionError(_("취소금액은 1원부터 %(left)s원까지입니다.") % {"left": f"{remaining:,}"})
        left = _at_gateway_won(payment)
        _refuse_what_the_pg_refuses(payment, amount_won, left, now)
        cancel, _ask = _reserve(payment, amount_won=amount_won, key=key, label=cancel_label(payment, amount_won, left),
                                refund_number="", by=by)
    result = _ask_gateway(payment, cancel)  # outside the transaction
    with transaction.atomic():
        cancel = _record(cancel.pk, result, by)
    if cancel.status != PaymentCancelStatus.DONE:  # refused, or no answer yet (요청중: the scheduler asks again)
        raise PaymentActionError(cancel.message)
    return cancel


def payment_cancels_resume(*, now: datetime | None = None) -> list[PaymentCancel]:
    """The scheduler: cancels left 요청중 by a process that died between reserving and recording are asked again
    with their own key (the gateway answers a repeat with its first answer) and recorded. Returns the cancels now
    done, for the caller to finish what they pay for (the refund's 환불완료)."""
    cutoff = (now or timezone.now()) - STUCK_AFTER
    finished = []
    for cancel in PaymentCancel.objects.filter(status=PaymentCancelStatus.PENDING, created_at__lte=cutoff):
        try:  # each on its own: one that fails is asked again at the next sweep, the others go on
            result = _ask_gateway(Payment.objects.get(pk=cancel.payment_id), cancel)
            with transaction.atomic():
                cancel = _record(cancel.pk, result, None)
        except Exception:
            log.exception("payment cancel %s: resume failed", cancel.pk)
            continue
        if cancel.status == PaymentCancelStatus.DONE:
            finished.append(cancel)
    return finished



def payment_cancels_erase_accounts(*, order: Order, marker: str) -> int:
    """The retention job (portal/retention): a 현금환불's record keeps the account it was paid to (bank, number,
    holder) in its message; past the order's retention period that becomes `marker`. Amounts, keys and statuses
    stay. Inside the caller's transaction; how many changed."""
    return (PaymentCancel.objects.filter(payment__order=order, label=SHOP_PAID["cash"]).exclude(message="")
            .exclude(message=marker).update(message=marker))
