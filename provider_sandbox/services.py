"""The provider's rules: balances, approval, the transaction state machine and the settlement ledger.

Each function runs inside the caller's transaction with the buyer row locked, so concurrent calls for the
same buyer never read-decide-write on stale balances.
"""

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Sum

from mileage import wire

from . import rules
from .constants import BUSINESS_TZ
from .models import (
    ACTIVE_STATES,
    Buyer,
    Clock,
    EntryKind,
    Merchant,
    PopupSession,
    PopupState,
    RateRequest,
    SettlementEntry,
    Transaction,
    TxState,
)


class ApiError(Exception):
    """A result code other than success, with its message (Korean, then English)."""

    def __init__(self, code: str, message: str, http_status: int = 200):
        super().__init__(message)
        self.code, self.message, self.http_status = code, message, http_status


class AlreadyDone(Exception):
    """3092: the same operation was applied before; carries the transaction to answer with."""

    def __init__(self, tx: Transaction):
        super().__init__("already done")
        self.tx = tx


# --- rates ---------------------------------------------------------------------------------------------------

def rate_changes(merchant: Merchant) -> list[rules.RateRequestFact]:
    return [rules.RateRequestFact(r.requested_at, r.rate_x10) for r in merchant.rate_requests.order_by("id")]


def base_rate(merchant: Merchant, moment: datetime) -> int:
    return rules.rate_at(rate_changes(merchant), merchant.initial_rate_x10, moment)


def extra_rate(ncisy: str, moment: datetime) -> int:
    """E5/I3: the token's extra rate, only for a token this provider signed and that has not expired."""
    if not ncisy or not wire.napm_signature_ok(settings.SANDBOX_PROVIDER_KEY, ncisy):
        return 0
    return rules.extra_rate_of(wire.parse_napm(ncisy), moment)


def request_rate(merchant: Merchant, rate_x10: int, now: datetime) -> RateRequest:
    year, month = rules.first_month_of(now)
    return RateRequest.objects.create(merchant=merchant, rate_x10=rate_x10, requested_at=now,
                                      effective_from=date(year, month, 1))


def _application_fields(merchant: Merchant) -> dict:
    """Extension: a merchant that joined through the partner sign-up also learns its application's state here."""
    application = getattr(merchant, "application", None)
    if application is None:
        return {}
    return {"applicationStatus": application.status, "rejectReason": application.reject_reason}


def rates_report(merchant: Merchant, now: datetime) -> dict:
    """getAccumRate's answer: this month's rate, next month's and whether it is fixed (R2), the history."""
    ny, nm = rules.next_month(now)
    changes = rate_changes(merchant)
    return {
        "baseAccumRate": wire.rate_to_wire(base_rate(merchant, now)),
        "addAccumRate": wire.rate_to_wire(merchant.ad_extra_rate_x10),
        "nextMonth": f"{ny:04d}-{nm:02d}",
        "nextMonthRate": wire.rate_to_wire(rules.rate_of_month(changes, merchant.initial_rate_x10, ny, nm)),
        "nextMonthFixed": "Y" if rules.next_month_is_fixed(now) else "N",
        "serviceStatus": merchant.service_status,
        **_application_fields(merchant),
        "nextCutoff": rules.next_cutoff_after(now).isoformat(),
        "serverTime": now.isoformat(),
        "history": [{"requestedAt": r.requested_at.isoformat(), "rate": wire.rate_to_wire(r.rate_x10),
                     "effectiveFrom": r.effective_from.isoformat()} for r in merchant.rate_requests.all()],
    }


# --- balances ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Balance:
    available_won: int  # what the buyer can spend now: holds of confirmed popups already taken off
    pending_won: int
    held_won: int = 0


def holds(buyer: Buyer, now: datetime, exclude_popup: PopupSession | None = None):
    """Popup choices still holding their use (docs/protocol.md §1 hold): confirmed, not yet approved,
    aborted or expired."""
    held = PopupSession.objects.filter(buyer=buyer, state=PopupState.OK, hold_expires_at__gt=now)
    return held.exclude(pk=exclude_popup.pk) if exclude_popup is not None else held


def balance(buyer: Buyer, now: datetime, exclude_tx: Transaction | None = None,
            exclude_popup: PopupSession | None = None) -> Balance:
    active = Transaction.objects.filter(buyer=buyer, state__in=ACTIVE_STATES)
    if exclude_tx is not None:
        active = active.exclude(pk=exclude_tx.pk)
    used = active.aggregate(s=Sum("use_won"))["s"] or 0
    earned = active.filter(available_at__lte=now).aggregate(s=Sum("earn_won"))["s"] or 0
    pending = active.filter(available_at__gt=now).aggregate(s=Sum("earn_won"))["s"] or 0
    held = holds(buyer, now, exclude_popup).aggregate(s=Sum("use_won"))["s"] or 0
    return Balance(available_won=buyer.opening_balance_won + earned - used - held, pending_won=pending,
                   held_won=held)


def popup_hold(popup: PopupSession, buyer: Buyer, use_won: int, base_rate_x10: int, add_rate_x10: int,
               now: datetime) -> Balance:
    """The buyer pressed 확인: under the buyer's row lock, check the use against the balance (other holds counted)
    and hold it against the reqTxId for SANDBOX_HOLD_MINUTES. Raises rules.RuleError when it does not fit."""
    Buyer.objects.select_for_update().get(pk=buyer.pk)
    # the popup read again under its lock: a reqTxId an approval used or the buyer cancelled meanwhile is not held
    if not PopupSession.objects.select_for_update().filter(pk=popup.pk, state=PopupState.OPEN).exists():
        raise rules.RuleError("popup_done", "이미 완료된 요청입니다.")
    expire_unpaid(now, buyer)
    bal = balance(buyer, now, exclude_popup=popup)
    rules.check_use(use_won, balance_won=bal.available_won, max_use_won=popup.max_use_won)
    popup.buyer, popup.use_won = buyer, use_won
    popup.base_rate_x10, popup.add_rate_x10 = base_rate_x10, add_rate_x10
    popup.state, popup.completed_at = PopupState.OK, now
    popup.hold_expires_at = (now + timedelta(minutes=settings.SANDBOX_HOLD_MINUTES)
                             if popup.merchant.holds else None)
    # only what 확인 decides: an edit of the popup meanwhile (its doneUrl, its maximum) stands
    popup.save(update_fields=["buyer", "use_won", "base_rate_x10", "add_rate_x10", "state", "completed_at",
                              "hold_expires_at"])
    return Balance(bal.available_won - use_won, bal.pending_won, bal.held_won + use_won)


def expire_unpaid(now: datetime, buyer: Buyer | None = None) -> int:
    """E8: approvals of unpaid bank transfers older than 15 days are cancelled, use and earn returned."""
    candidates = Transaction.objects.filter(state=TxState.APPROVED, is_confirmed=False)
    if buyer is not None:
        candidates = candidates.filter(buyer=buyer)
    lapsed = [(pk, buyer_id) for pk, buyer_id, approved_at in candidates.values_list("pk", "buyer_id", "approved_at")
              if rules.unpaid_has_lapsed(approved_at, now)]
    if not lapsed:
        return 0
    # under the buyers' row locks (in one order, as every call takes its buyer's), each read again: a cancel or a
    # payment that got there first has changed it, and its mileage is never returned twice
    list(Buyer.objects.select_for_update().filter(pk__in={buyer_id for _pk, buyer_id in lapsed})
         .order_by("pk").values_list("pk", flat=True))
    count = 0
    for tx in (Transaction.objects.select_for_update(of=("self",)).select_related("merchant")
               .filter(pk__in=[pk for pk, _buyer_id in lapsed], state=TxState.APPROVED, is_confirmed=False)
               .order_by("pk")):
        if rules.unpaid_has_lapsed(tx.approved_at, now):
            _end(tx, TxState.AUTO_CANCELLED, now, reason="AUTO_CANCEL")
            count += 1
    return count


# --- ledger --------------------------------------------------------------------------------------------------

def _month(moment: datetime) -> str:
    return moment.astimezone(BUSINESS_TZ).strftime("%Y-%m")


def _entry(tx: Transaction, kind: str, amount: int, reason: str, now: datetime) -> None:
    if amount:
        SettlementEntry.objects.create(merchant=tx.merchant, tx=tx, order_no=tx.order_no, kind=kind,
                                       amount_won=amount, reason=reason, occurred_at=now, month=_month(now))


def _granted(tx: Transaction) -> bool:
    return tx.available_at is not None


def _end(tx: Transaction, state: str, now: datetime, reason: str) -> None:
    _entry(tx, EntryKind.USE, -tx.use_won, reason, now)
    if _granted(tx):
        _entry(tx, EntryKind.EARN, -tx.earn_won, reason, now)
    tx.state, tx.ended_at = state, now
    tx.save(update_fields=["state", "ended_at"])


def _new_tx_id(prefix: str = "T") -> str:
    return prefix + secrets.token_hex(10).upper()


def new_req_tx_id() -> str:
    return _new_tx_id("R")


# --- calls ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Amounts:
    order_no: str
    product_name: str
    qty: int
    order_amount_won: int
    amount_won: int
    mileage_use_won: int
    cash_use_won: int
    is_member: bool
    items: list


def _grant(tx: Transaction, buyer: Buyer, now: datetime) -> None:
    """Compute the earning (E2, E3 at the tx's rates, E4 against the buyer's other holdings) and start E7. E4 reads
    the holding before this order's use, as the popup did when it said whether the order earns: neither the
    transaction nor its popup's hold (while the approval runs the hold is still there) counts."""
    held = balance(buyer, now, exclude_tx=tx, exclude_popup=tx.popup)
    # the uses other open popups hold are still the buyer's (rules.can_only_use counts them so)
    tx.earn_won = rules.within_holding_cap(rules.order_earning(tx.amount_won, tx.base_rate_x10 + tx.add_rate_x10),
                                           available_won=max(0, held.available_won + held.held_won),
                                           pending_won=held.pending_won)
    tx.available_at = rules.available_from(now)


def approve(merchant: Merchant, req_tx_id: str, amounts: Amounts, is_confirmed: bool, now: datetime) -> Transaction:
    popup = PopupSession.objects.select_for_update().filter(merchant=merchant, req_tx_id=req_tx_id).first()
    if popup is None:
        raise ApiError("3001", "거래 정보가 없습니다.")
    existing = Transaction.objects.filter(popup=popup, root__isnull=True).first()
    if existing is not None:
        if existing.order_no != amounts.order_no:
            raise ApiError("3002", "이미 사용된 reqTxId입니다.")
        if existing.state in (TxState.ABORTED, TxState.CANCELLED, TxState.AUTO_CANCELLED):
            raise ApiError("3006", "이미 취소된 거래입니다.")
        raise AlreadyDone(latest(existing))
    if popup.state == PopupState.ABORTED:
        raise ApiError("3006", "승인취소된 reqTxId입니다.")
    if popup.state != PopupState.OK:
        raise ApiError("3002", "적립/사용 선택이 완료되지 않았습니다.")
    if popup.hold_expires_at is not None and popup.hold_expires_at <= now:
        raise ApiError("3005", "적립/사용 선택의 유효시간이 지났습니다.")
    if amounts.mileage_use_won != popup.use_won:
        raise ApiError("3003", f"사용금액이 구매자가 선택한 금액({popup.use_won}원)과 다릅니다. "
                               f"(mileageUseAmount differs from the buyer's choice.)")
    if amounts.amount_won > amounts.order_amount_won:
        raise ApiError("2002", "적립대상금액이 주문금액보다 큽니다.")
    buyer = Buyer.objects.select_for_update().get(pk=popup.buyer_id)
    expire_unpaid(now, buyer)
    if amounts.mileage_use_won > balance(buyer, now, exclude_popup=popup).available_won:
        raise ApiError("3004", "네이버 마일리지 잔액이 부족합니다.")
    tx = Transaction(
        tx_id=_new_tx_id(), merchant=merchant, buyer=buyer, popup=popup, order_no=amounts.order_no,
        state=TxState.APPROVED, is_confirmed=is_confirmed, is_member=amounts.is_member,
        order_amount_won=amounts.order_amount_won, amount_won=amounts.amount_won,
        use_won=amounts.mileage_use_won, cash_use_won=amounts.cash_use_won,
        base_rate_x10=base_rate(merchant, now), add_rate_x10=extra_rate(popup.ncisy, now),
        product_name=amounts.product_name, qty=amounts.qty, items=amounts.items, approved_at=now,
    )
    if is_confirmed:
        tx.stated_at = now
        _grant(tx, buyer, now)
    else:
        # Not granted yet: the expected earn, not counted as pending (E7).
        tx.earn_won = rules.order_earning(tx.amount_won, tx.base_rate_x10 + tx.add_rate_x10)
    tx.save()
    popup.state = PopupState.USED
    popup.save(update_fields=["state"])
    _entry(tx, EntryKind.USE, tx.use_won, "APPROVE", now)
    if _granted(tx):
        _entry(tx, EntryKind.EARN, tx.earn_won, "APPROVE", now)
    return tx


def latest(tx: Transaction) -> Transaction:
    """The transaction that stands now for tx's order: tx, or the re-approval that superseded it, and so on."""
    while tx.superseded_by_id is not None:
        tx = Transaction.objects.get(pk=tx.superseded_by_id)
    return tx


POPUP_STATUS = {PopupState.OPEN: "OPEN", PopupState.OK: "HELD", PopupState.CANCELLED: "CANCELLED",
                PopupState.ABORTED: "ABORTED", PopupState.USED: "USED"}


def status(merchant: Merchant, req_tx_id: str, now: datetime) -> tuple[str, Transaction | None, PopupSession]:
    """Extension (docs/protocol.md §2 status): what became of a reqTxId, the transaction standing for it now,
    and the popup (whose doneUrl lets the shop check that a result came back to the browser session that
    opened it)."""
    popup = PopupSession.objects.filter(merchant=merchant, req_tx_id=req_tx_id).first()
    if popup is None:
        raise ApiError("3001", "거래 정보가 없습니다.")
    tx = Transaction.objects.filter(popup=popup, root__isnull=True).first()
    state = POPUP_STATUS[popup.state]
    if state == "HELD" and popup.hold_expires_at is not None and popup.hold_expires_at <= now:
        state = "EXPIRED"
    return state, latest(tx) if tx is not None else None, popup


def lock_tx(merchant: Merchant, tx_id: str, now: datetime) -> Transaction:
    tx = Transaction.objects.filter(merchant=merchant, tx_id=tx_id).first()
    if tx is None:
        raise ApiError("3001", "거래 정보가 없습니다.")
    Buyer.objects.select_for_update().get(pk=tx.buyer_id)
    expire_unpaid(now, tx.buyer)
    return Transaction.objects.select_for_update().get(pk=tx.pk)


def _not_allowed(tx: Transaction, action: str) -> ApiError:
    return ApiError("3002", f"'{tx.state}' 상태에서는 {action}할 수 없습니다.")


def abort(merchant: Merchant, req_tx_id: str, now: datetime) -> Transaction | None:
    popup = PopupSession.objects.select_for_update().filter(merchant=merchant, req_tx_id=req_tx_id).first()
    if popup is None:
        raise ApiError("3001", "거래 정보가 없습니다.")
    tx = Transaction.objects.filter(popup=popup, root__isnull=True).first()
    if tx is None:
        if popup.state == PopupState.ABORTED:
            raise AlreadyDone(None)
        popup.state = PopupState.ABORTED
        popup.save(update_fields=["state"])
        return None
    tx = lock_tx(merchant, tx.tx_id, now)
    if tx.state == TxState.ABORTED:
        raise AlreadyDone(tx)
    if tx.state != TxState.APPROVED:
        raise _not_allowed(tx, "승인취소")
    _end(tx, TxState.ABORTED, now, "ABORT")
    return tx


def stated(tx: Transaction, now: datetime) -> Transaction:
    if tx.state in (TxState.STATED, TxState.CONFIRMED) or (tx.state == TxState.APPROVED and tx.is_confirmed
                                                           and tx.stated_at is not None):
        if tx.state == TxState.APPROVED:
            tx.state = TxState.STATED
            tx.save(update_fields=["state"])
            return tx
        raise AlreadyDone(tx)
    if tx.state != TxState.APPROVED:
        raise _not_allowed(tx, "거래완료")
    tx.state, tx.is_confirmed, tx.stated_at = TxState.STATED, True, now
    _grant(tx, tx.buyer, now)
    tx.save(update_fields=["state", "is_confirmed", "stated_at", "earn_won", "available_at"])
    _entry(tx, EntryKind.EARN, tx.earn_won, "STATED", now)
    return tx


def cancel_stated(tx: Transaction, now: datetime) -> Transaction:
    if tx.state == TxState.APPROVED and not tx.is_confirmed:
        raise AlreadyDone(tx)
    if tx.state != TxState.STATED:
        raise _not_allowed(tx, "거래완료 취소")
    _entry(tx, EntryKind.EARN, -tx.earn_won, "CANCEL_STATED", now)
    tx.state, tx.is_confirmed, tx.stated_at, tx.available_at = TxState.APPROVED, False, None, None
    tx.approved_at = now  # the unpaid period starts again
    tx.earn_won = rules.order_earning(tx.amount_won, tx.base_rate_x10 + tx.add_rate_x10)
    tx.save(update_fields=["state", "is_confirmed", "stated_at", "available_at", "approved_at", "earn_won"])
    return tx


def cancel(tx: Transaction, now: datetime) -> Transaction:
    if tx.state in (TxState.CANCELLED, TxState.AUTO_CANCELLED):  # E8 cancelled it before: the same cancel, done
        raise AlreadyDone(tx)
    if tx.state not in (TxState.APPROVED, TxState.STATED):
        raise _not_allowed(tx, "취소")
    _end(tx, TxState.CANCELLED, now, "CANCEL")
    return tx


def confirmed(tx: Transaction, now: datetime) -> Transaction:
    if tx.state == TxState.CONFIRMED:
        raise AlreadyDone(tx)
    # APPROVED → STATED → CONFIRMED (docs/protocol.md §2): the extended profile also confirms a card order's
    # APPROVED (isConfirmed Y) transaction at once; the standard one, read strictly, wants deal done said first
    if tx.state != TxState.STATED and not (tx.state == TxState.APPROVED and tx.is_confirmed and tx.merchant.extended):
        raise _not_allowed(tx, "구매확정")
    tx.state, tx.confirmed_at = TxState.CONFIRMED, now
    tx.save(update_fields=["state", "confirmed_at"])
    return tx


def invoice(tx: Transaction, fields: dict, now: datetime) -> Transaction:
    if tx.state not in ACTIVE_STATES or not tx.is_confirmed:
        raise _not_allowed(tx, "송장 등록")
    tx.invoice = {**fields, "registeredAt": now.isoformat()}
    tx.save(update_fields=["invoice"])
    return tx


def repayment(tx: Transaction, amounts: Amounts, now: datetime) -> Transaction:
    """A new txId replacing the old one, at the ORIGINAL rates (R3); use may only shrink."""
    if tx.state == TxState.SUPERSEDED and tx.superseded_by is not None:
        raise AlreadyDone(tx.superseded_by)
    if tx.state not in (TxState.APPROVED, TxState.STATED):
        raise _not_allowed(tx, "재승인")
    if amounts.mileage_use_won > tx.use_won:
        raise ApiError("3003", f"사용금액은 기존 사용금액({tx.use_won}원)을 넘을 수 없습니다. "
                               f"(mileageUseAmount is above what was used.)")
    if amounts.amount_won > amounts.order_amount_won:
        raise ApiError("2002", "적립대상금액이 주문금액보다 큽니다.")
    new = Transaction(
        tx_id=_new_tx_id(), merchant=tx.merchant, buyer=tx.buyer, popup=tx.popup, root=tx.root or tx,
        order_no=tx.order_no, state=tx.state, is_confirmed=tx.is_confirmed, is_member=tx.is_member,
        order_amount_won=amounts.order_amount_won, amount_won=amounts.amount_won,
        use_won=amounts.mileage_use_won, cash_use_won=amounts.cash_use_won,
        base_rate_x10=tx.base_rate_x10, add_rate_x10=tx.add_rate_x10, product_name=amounts.product_name,
        qty=amounts.qty, items=amounts.items, approved_at=tx.approved_at, stated_at=tx.stated_at,
        invoice=tx.invoice,
    )
    if _granted(tx):
        held = balance(tx.buyer, now, exclude_tx=tx)
        new.earn_won = rules.within_holding_cap(
            rules.order_earning(new.amount_won, new.base_rate_x10 + new.add_rate_x10),
            available_won=max(0, held.available_won), pending_won=held.pending_won)
        new.available_at = tx.available_at
    else:
        new.earn_won = rules.order_earning(new.amount_won, new.base_rate_x10 + new.add_rate_x10)
    tx.state, tx.ended_at = TxState.SUPERSEDED, now
    tx.save(update_fields=["state", "ended_at"])
    new.save()
    tx.superseded_by = new
    tx.save(update_fields=["superseded_by"])
    _entry(new, EntryKind.USE, new.use_won - tx.use_won, "REPAYMENT", now)
    if _granted(new):
        _entry(new, EntryKind.EARN, new.earn_won - tx.earn_won, "REPAYMENT", now)
    return new


# --- settlement ----------------------------------------------------------------------------------------------

def settlement(merchant: Merchant, month: str) -> dict:
    rows: dict[str, dict] = {}
    for entry in SettlementEntry.objects.filter(merchant=merchant, month=month).select_related("tx").order_by("id"):
        row = rows.setdefault(entry.order_no, {"orderNo": entry.order_no, "txId": entry.tx.tx_id,
                                               "earned": 0, "used": 0, "cancelled": 0})
        row["txId"] = entry.tx.tx_id
        if entry.amount_won >= 0:
            row["earned" if entry.kind == EntryKind.EARN else "used"] += entry.amount_won
        else:
            row["cancelled"] += -entry.amount_won
            row["earned" if entry.kind == EntryKind.EARN else "used"] += entry.amount_won
    lines = list(rows.values())
    earned = sum(r["earned"] for r in lines)
    used = sum(r["used"] for r in lines)
    return {"month": month, "merchant": merchant.api_id, "lines": lines,
            "totals": {"earned": earned, "used": used, "cancelled": sum(r["cancelled"] for r in lines),
                       "net": earned - used}}


def now() -> datetime:
    return Clock.now()
