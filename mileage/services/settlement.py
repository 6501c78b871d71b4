"""Settlement bookkeeping (S1): turn each provider answer into signed EARN/USE lines, the way the provider books
them — use when approved, earn when the deal is paid (approval with isConfirmed=Y, or stated), reversals when
cancelled, deltas on a re-approval — and build a month's statement and its reconciliation."""

from dataclasses import dataclass, field

from django.db.models import Q, Sum
from django.utils import timezone

from mileage.models import MileageEvent, MileageTransaction, SettlementKind, SettlementLine
from mileage.policy.constants import BUSINESS_TZ

NEGATIVE = Q(amount_won__lt=0)


def _month(moment) -> str:
    return moment.astimezone(BUSINESS_TZ).strftime("%Y-%m")


def record_settlement(*, mileage: MileageTransaction, event: MileageEvent, use_after: int | None,
                      earn_after: int, confirmed: bool = False) -> None:
    """Book the provider's new state for this order after `event` (inside the event's transaction)."""
    kind = event.kind
    use, granted, is_granted = mileage.provider_use_won, mileage.granted_earn_won, mileage.earn_granted
    if kind == "approve":
        use = use_after if use_after is not None else mileage.use_won
        is_granted = confirmed
        granted = earn_after if confirmed else 0
    elif kind == "stated":
        is_granted, granted = True, earn_after
    elif kind == "cancel_stated":
        is_granted, granted = False, 0
    elif kind in ("cancel", "abort", "auto_cancel"):
        use, granted, is_granted = 0, 0, False
    elif kind == "repayment":
        use = use_after if use_after is not None else use
        granted = earn_after if is_granted else 0
    else:
        return
    now = event.created_at or timezone.now()
    for line_kind, delta in ((SettlementKind.USE, use - mileage.provider_use_won),
                             (SettlementKind.EARN, granted - mileage.granted_earn_won)):
        if delta:
            SettlementLine.objects.create(order_id=mileage.order_id, event=event, kind=line_kind, amount_won=delta,
                                          month=_month(now), occurred_at=now)
    mileage.provider_use_won, mileage.granted_earn_won, mileage.earn_granted = use, granted, is_granted
    mileage.save(update_fields=["provider_use_won", "granted_earn_won", "earn_granted", "updated_at"])


@dataclass
class StatementLine:
    order_id: int
    order_number: str
    earned: int = 0
    used: int = 0
    cancelled: int = 0


@dataclass
class Statement:
    month: str
    earned: int
    used: int
    cancelled: int
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def net(self) -> int:
        """What the shop pays the provider (negative: what the provider pays the shop)."""
        return self.earned - self.used


def statement_totals(month: str) -> tuple[int, int, int]:
    """(earned, used, cancelled) for the month — one aggregate over the settlement lines."""
    rows = SettlementLine.objects.filter(month=month).values("kind").annotate(
        total=Sum("amount_won"), cancelled=Sum("amount_won", filter=NEGATIVE))
    earned = used = cancelled = 0
    for row in rows:
        if row["kind"] == SettlementKind.EARN:
            earned = row["total"] or 0
        else:
            used = row["total"] or 0
        cancelled += -(row["cancelled"] or 0)
    return earned, used, cancelled


def monthly_statement(month: str) -> Statement:
    earned, used, cancelled = statement_totals(month)
    by_order: dict[int, StatementLine] = {}
    rows = (SettlementLine.objects.filter(month=month).values("order_id", "order__number", "kind")
            .annotate(total=Sum("amount_won"), cancelled=Sum("amount_won", filter=NEGATIVE))
            .order_by("order__number"))
    for row in rows:
        line = by_order.setdefault(row["order_id"], StatementLine(row["order_id"], row["order__number"]))
        if row["kind"] == SettlementKind.EARN:
            line.earned += row["total"] or 0
        else:
            line.used += row["total"] or 0
        line.cancelled += -(row["cancelled"] or 0)
    return Statement(month, earned, used, cancelled, list(by_order.values()))


@dataclass(frozen=True)
class Mismatch:
    order_number: str
    problem: str  # missing_at_provider | missing_at_portal | different
    portal: tuple[int, int] | None
    provider: tuple[int, int] | None


def reconcile(statement: Statement, report: dict) -> list[Mismatch]:
    """Compare the portal's statement with the provider's settlement report, order by order."""
    ours = {line.order_number: (line.earned, line.used) for line in statement.lines}
    theirs = {line["orderNo"]: (int(line["earned"]), int(line["used"])) for line in report.get("lines", [])}
    mismatches = []
    for number in sorted(set(ours) | set(theirs)):
        mine, other = ours.get(number), theirs.get(number)
        if other is None:
            mismatches.append(Mismatch(number, "missing_at_provider", mine, None))
        elif mine is None:
            mismatches.append(Mismatch(number, "missing_at_portal", None, other))
        elif mine != other:
            mismatches.append(Mismatch(number, "different", mine, other))
    return mismatches
