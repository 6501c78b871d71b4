"""The refund queue's 환불완료 (환불관리, docs/policy.md L3, L4): the moment the money moves.

환불완료 pays the refund's money back — a gateway cancel of its amount (카드취소, 계좌이체취소, 휴대폰결제취소) with an
idempotency key bound to the refund, or a 현금환불/적립금환불 the shop pays — through portal.orders.money, gives the
store points back and tells the provider the mileage outcome (cancel, or re-approval for a partial refund, decided
by mileage.policy.refund_plan). The refund reads 환불완료 only once the gateway confirmed: a refused or unanswered
cancel leaves it 환불전 with the gateway's reason, and pressing again asks again with the same key (never a second
cancel). See docs/adr/0012-money-moves-at-refund-complete.md.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.digest import digest
from core.idempotency import action_key
from core.state_machine import move
from mileage.models import MileageSettings
from mileage.policy import PolicyError, refund_plan
from mileage.policy.earn_choice import STORE
from mileage.policy.refund import CANCEL, DEFAULT_RULE, REPAYMENT
from mileage.services.transactions import (
    live_mileage,
    live_mileage_locked,
    mileage_cancel,
    mileage_repayment_request,
    payment_request,
)
from portal.accounts.audit import log_change
from portal.accounts.services import store_points_change
from portal.orders import cash_receipts, money
from portal.orders.models import Order, OrderStatus, Payment, PaymentCancelStatus
from portal.orders.rules import cash_receipt_method
from portal.orders.services import order_set_status
from portal.privacy import masked_account, masked_name

from .common import ActionError, has_account, lock_order, return_points
from .models import ProviderCall, Refund, RefundMethod, RefundReason, RefundStatus
from .selectors import refund_limits, remaining_amounts

log = logging.getLogger(__name__)


class RefundNotPaid(Exception):
    """The refund's money did not move (the gateway refused or did not answer, or the payment cannot pay it): the
    refund stays 환불전 with the reason."""

    def __init__(self, refund: Refund, message: str):
        super().__init__(message)
        self.refund, self.message = refund, message


def _plan(order: Order, mileage, refund: Refund, remaining):
    """What this refund does to the order's mileage (the one call of mileage.policy.refund_plan; the earn base rule
    is read only when something of the order remains to earn on)."""
    rule = MileageSettings.load().earn_base_rule if remaining is not None else DEFAULT_RULE
    return refund_plan(used_won=mileage.use_won, returned_before_won=mileage.returned_won,
                       mileage_back_won=refund.mileage_won, remaining=remaining,
                       original_rate_x10=mileage.total_rate_x10, rule=rule,
                       earns_mileage=order.earn_choice != STORE)


def _tell_provider(order: Order, refund: Refund, by) -> str:
    """The refund's mileage outcome, decided now by mileage.policy.refund_plan, sent through the outbox (the order's
    transaction locked once, by the order's id, and handed to the call). Returns the refund's provider call."""
    if refund.reason == RefundReason.EXCHANGE:  # an exchange re-approved when it was made
        return refund.provider_call
    mileage = live_mileage_locked(order)
    if mileage is None:
        return refund.provider_call
    remaining = remaining_amounts(order)
    plan = _plan(order, mileage, refund, remaining)
    if plan.call == CANCEL:
        mileage_cancel(order=order, because=refund.number, by=by, mileage=mileage)
    elif plan.call == REPAYMENT:
        lines = [] if remaining is None else list(order.lines.all())
        request = payment_request(order, mileage, order_amount_won=plan.order_amount_after_won,
                                  earn_base_won=plan.earn_base_after_won, use_won=plan.use_after_won, lines=lines,
                                  with_req_tx_id=False)
        mileage_repayment_request(order=order, request=request, key=action_key("repayment", refund.number), by=by,
                                  mileage=mileage)
    return {CANCEL: ProviderCall.CANCEL, REPAYMENT: ProviderCall.REPAYMENT}.get(plan.call, ProviderCall.NONE)


def refund_set_status(*, refund: Refund, to_status: str, fields: tuple[str, ...] = ()) -> Refund:
    """Move a locked refund along REFUND_TRANSITIONS (환불전 → 환불완료, once), saving `fields` beside."""
    move(refund, to_status, fields=fields)
    return refund


def _finish(refund: Refund, order: Order, by, now: datetime) -> None:
    """Everything 환불완료 does once the money moved, in one transaction with the refund's row locked; the refund's
    row written once, at the end (through its setter)."""
    return_points(order, refund.store_points_won, f"{refund.number}:points", by)
    if refund.method == RefundMethod.POINTS and refund.payout_won and order.member_id:  # 적립금환불: the money as points
        store_points_change(member=order.member, delta_won=refund.payout_won, reason="적립금환불",
                            idempotency_key=action_key("refund", refund.number, "points-payout"), order=order, by=by)
    refund.provider_call = _tell_provider(order, refund, by)
    refund.completed_by, refund.completed_at, refund.payout_error = by, now, ""
    refund_set_status(refund=refund, to_status=RefundStatus.DONE,
                      fields=("completed_by", "completed_at", "payout_error", "provider_call"))
    if money.partly_returned(order):
        order_set_status(order=order, to_status=OrderStatus.DELIVERED, by=by, note="부분반품 환불완료", now=now)


def _blocker(refund: Refund) -> str:
    """Why 환불완료 would refuse `refund` before anything moves ("" when nothing stands in the way): a 현금환불
    with no account to pay to. The confirmation says it before the press; 환불완료 refuses it all the same."""
    if refund.method == RefundMethod.CASH and refund.payout_won and not _has_account(refund):
        return _("현금환불할 계좌가 없습니다. 환불 방식 변경에서 환불은행, 계좌번호, 예금주를 입력해 주세요.")
    return ""


def _has_account(refund: Refund) -> bool:
    return has_account(refund.bank, refund.account_no, refund.holder)


def _account(refund: Refund) -> str:
    return " ".join(part for part in (refund.bank, refund.account_no, refund.holder) if part)


def _not_paid(refund: Refund, message: str) -> RefundNotPaid:
    with transaction.atomic():
        Refund.objects.filter(pk=refund.pk, status=RefundStatus.BEFORE).update(payout_error=message[:300])
    return RefundNotPaid(refund, message)


def refund_complete(*, refund: Refund, by, now: datetime | None = None, seen: str | None = None) -> bool:
    """환불완료: pay the refund's money back, return the store points, tell the provider. True when this press
    completed it; False when it was completed before (pressed twice, or by two operators at once: the money moves
    once). Raises RefundNotPaid when the money did not move; the refund stays 환불전 with the reason.
    Once paid out, the order's 현금영수증 is cancelled and reissued for the cash left (after the refund's
    transaction: a gateway refusing it is recorded on the receipt for 현금영수증 재발급, the refund stands).
    `seen`: the refund_fingerprint the operator confirmed; a refund changed since raises RefundNotPaid, nothing moved."""
    completed, order = _refund_complete(refund=refund, by=by, now=now, seen=seen)
    if completed:
        _cash_receipts_after_refund(order)
    return completed


def _cash_receipts_after_refund(order: Order) -> None:
    """The order's 현금영수증 follows the cash it keeps; a card order has none (and costs no query)."""
    if not cash_receipt_method(order.payment_method):
        return
    for payment in Payment.objects.filter(order_id=order.pk):
        cash_receipts.after_refund_recorded(payment)


def _refund_complete(*, refund: Refund, by, now: datetime | None, seen: str | None) -> tuple[bool, Order | None]:
    asked_at = now  # the moment is read once the locks are held (below): the history keeps the order of events
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status == RefundStatus.DONE:
            return False, None
        if seen is not None and seen != refund_fingerprint(refund):
            raise RefundNotPaid(refund, _("확인한 뒤에 환불 내용이 바뀌었습니다. 다시 확인해 주세요."))
        order = lock_order(refund.order_id)
        try:
            blocker = _blocker(refund)
            if blocker:
                raise money.PaymentActionError(blocker)
            cancel, ask = money.refund_payout_prepare(
                order=order, refund_number=refund.number, method=refund.method,
                method_label=refund.get_method_display(), amount_won=refund.payout_won, account=_account(refund), by=by)
        except money.PaymentActionError as exc:
            error = exc.message
        else:
            error = ""
            if not ask and (cancel is None or cancel.status == PaymentCancelStatus.DONE):
                _finish(refund, order, by, asked_at or timezone.now())
                return True, order
    if error:
        raise _not_paid(refund, error)
    result = money.refund_payout_send(cancel)  # outside any transaction
    with transaction.atomic():
        # the same lock order as above (refund, order, payment, cancel): two refunds of one order never deadlock
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        order = lock_order(refund.order_id)
        cancel = money.refund_payout_record(cancel, result, by=by)
        if refund.status == RefundStatus.DONE:
            return False, None  # another press finished it with the same cancel
        if cancel.status == PaymentCancelStatus.DONE:
            _finish(refund, order, by, asked_at or timezone.now())
            return True, order
    raise _not_paid(refund, cancel.message)


def refunds_resume(*, now: datetime | None = None) -> int:
    """The scheduler: a refund whose gateway cancel a dead process left 요청중 is asked again with its key, and every
    refund still 환불전 whose payout the gateway confirmed (now, or at an earlier sweep whose finish failed) is
    completed — each on its own, so that one that fails is tried again at the next sweep and the others go on.
    Returns how many refunds it completed."""
    money.payment_cancels_resume(now=now)
    completed = 0
    for pk in Refund.objects.filter(status=RefundStatus.BEFORE,
                                    number__in=money.refunds_paid_out()).values_list("pk", flat=True):
        try:
            with transaction.atomic():
                refund = Refund.objects.select_for_update().get(pk=pk)
                order = lock_order(refund.order_id)
                if refund.status != RefundStatus.BEFORE:
                    continue
                _finish(refund, order, refund.completed_by, now or timezone.now())
                completed += 1
        except Exception:
            log.exception("refund %s: finishing after its payout failed; tried again at the next sweep", pk)
            continue
        _cash_receipts_after_refund(order)
    return completed


def refund_change_method(*, refund: Refund, method: str, bank: str = "", account_no: str = "", holder: str = "",
                         by) -> Refund:
    """환불 방식 변경 of a refund still 환불전: how its money goes back (카드취소 → 현금환불 when the gateway refuses,
    a mobile payment past its day, a bank transfer's account). Refused while the gateway has not answered a
    payout already asked for (the money may be on its way)."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status != RefundStatus.BEFORE:
            raise ActionError(_("환불완료된 환불은 환불 방식을 바꿀 수 없습니다."))
        order = lock_order(refund.order_id)
        if money.refund_payout_pending(refund.number):
            raise ActionError(_("결제대행사가 아직 답하지 않은 환불입니다. 답을 받은 뒤에 환불 방식을 바꿀 수 있습니다."))
        if method not in RefundMethod.values:
            raise ActionError(_("환불 방식을 선택해 주세요."), "method")
        before = (refund.method, masked_account(refund.account_no), refund.bank, masked_name(refund.holder))
        # the account belongs to a 현금환불 only: paid back any other way, none is kept (nor shown on 환불관리)
        cash = method == RefundMethod.CASH
        refund.bank, refund.account_no, refund.holder = ((bank.strip(), account_no.strip(), holder.strip()) if cash
                                                         else ("", "", ""))
        error = money.refund_method_error(order, method, method_label=RefundMethod(method).label,
                                          cash_won=refund.payout_won, has_account=_has_account(refund),
                                          refund_number=refund.number)
        if error:
            raise ActionError(error, "method")
        refund.method, refund.payout_error = method, ""
        # paid as 현금환불 because the PG cannot take its cancel: 환불관리 says why
        with translation.override("ko"):  # stored in the shop's language, shown in the reader's
            _default, why = money.refund_method_and_why(order, refund.payout_won, but=refund.number)
        refund.cash_reason = why if method == RefundMethod.CASH else ""
        refund.save(update_fields=["method", "bank", "account_no", "holder", "payout_error", "cash_reason"])
        # 변경 이력 on 주문상세정보: who changed the way the money goes back, from what (the account masked)
        after = (refund.method, masked_account(refund.account_no), refund.bank, masked_name(refund.holder))
        log_change(refund, dict(zip(("method", "account_no", "bank", "holder"), zip(before, after, strict=True),
                                    strict=True)), by=by)
    return refund


@dataclass(frozen=True)
class RefundPreview:
    """What 환불완료 will move for one refund: shown on the confirmation before anything moves."""

    refund: Refund
    payout_label: str  # 카드취소 / 계좌이체취소 / 휴대폰결제취소 / 현금환불 / 적립금환불
    payout_won: int
    account: str
    points_won: int
    mileage_won: int
    provider_call: str  # cancel | repayment | ""
    earn_after_won: int | None  # the order's Naver earn afterwards (None: no mileage)
    fingerprint: str  # refund_fingerprint: the confirmation sends it back, 환불완료 compares
    blocker: str = ""  # why 환불완료 would refuse it before anything moves (a 현금환불 without an account)
    # a whole order's cancel giving back less than was charged: what stays charged after it (결제취소 gives it back)
    kept_won: int = 0


def refund_preview(refund: Refund) -> RefundPreview | None:
    """What 환불완료 of `refund` (read 환불전) will move; None when it was completed meanwhile (another operator's
    환불완료 between the list's read and this one: the order's mileage already says it)."""
    order = refund.order
    mileage = live_mileage(order)
    call, earn_after, blocker = "", None, ""
    if mileage is not None and refund.reason != RefundReason.EXCHANGE and refund.status == RefundStatus.BEFORE:
        try:
            plan = _plan(order, mileage, refund, remaining_amounts(order))
        except PolicyError as exc:  # the mileage moved since the refund was read
            if Refund.objects.filter(pk=refund.pk).exclude(status=RefundStatus.BEFORE).exists():
                return None
            blocker = str(exc)  # 환불완료 would refuse it the same way: shown, not sent
        else:
            call, earn_after = plan.call, plan.earn_after_won
    account = _account(refund) if refund.method == RefundMethod.CASH else ""  # a gateway refund goes to the card
    kept = refund_limits(order)["cash"] if refund.reason == RefundReason.CANCEL and refund.status == RefundStatus.BEFORE \
        else 0
    return RefundPreview(refund, refund.get_method_display(), refund.payout_won, account,
                         refund.store_points_won, refund.mileage_won, call, earn_after, refund_fingerprint(refund),
                         blocker or _blocker(refund), kept)


def refund_fingerprint(refund: Refund) -> str:
    """A short digest of what the confirmation of 환불완료 showed for `refund`: its way, the money, the account, the
    store points and the mileage. 환불완료 confirmed from a page whose refund has changed since (환불 방식 변경 in
    another tab) is shown again instead of paying what the operator did not see."""
    terms = (refund.method, refund.payout_won, refund.bank, refund.account_no, refund.holder, refund.store_points_won,
             refund.mileage_won, refund.status)
    return digest(*terms)
