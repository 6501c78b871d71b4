"""Settlement reads (S1): a month's statement over the signed EARN/USE lines (booked by
mileage.services.transactions with each provider answer) and its reconciliation against the provider's report."""

from dataclasses import dataclass, field

from django.db.models import Q, Sum

from mileage.models import SettlementKind, SettlementLine

NEGATIVE = Q(amount_won__lt=0)


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
