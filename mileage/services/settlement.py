"""Settlement reads (S1): a month's statement over the signed EARN/USE lines (booked by
mileage.services.transactions with each provider answer) and its reconciliation against the provider's report."""

from dataclasses import dataclass, field, replace

from django.db.models import Q, Sum
from django.utils.translation import gettext_lazy

from mileage.models import SettlementKind, SettlementLine

NEGATIVE = Q(amount_won__lt=0)


MERCHANT_PAYS, PROVIDER_PAYS = "merchant", "provider"
PAYER_LABELS = {MERCHANT_PAYS: gettext_lazy("가맹점이 네이버에 지급"), PROVIDER_PAYS: gettext_lazy("네이버가 가맹점에 지급"),
                "": gettext_lazy("주고받을 금액 없음")}


@dataclass(frozen=True)
class Balance:
    """정산 차액 as every screen and export states it: a positive amount and who pays whom (the shop pays the earn,
    the provider pays the use)."""

    amount_won: int
    payer: str  # MERCHANT_PAYS | PROVIDER_PAYS | "" (nothing to pay)

    @classmethod
    def of(cls, earned: int, used: int) -> "Balance":
        net = earned - used
        return cls(abs(net), MERCHANT_PAYS if net > 0 else PROVIDER_PAYS if net < 0 else "")

    @property
    def payer_label(self) -> str:
        return str(PAYER_LABELS[self.payer])


@dataclass
class MonthTotals:
    """A month's earn and use after their cancellations, and the cancellations of each (positive amounts)."""

    earned: int = 0
    used: int = 0
    earn_cancelled: int = 0
    use_cancelled: int = 0

    @property
    def earned_before_cancels(self) -> int:
        return self.earned + self.earn_cancelled

    @property
    def used_before_cancels(self) -> int:
        return self.used + self.use_cancelled

    @property
    def balance(self) -> Balance:
        return Balance.of(self.earned, self.used)

    def add(self, kind: str, total: int, negative: int) -> None:
        """A kind's sum of signed lines (`total`) and of its negative lines (`negative`, <= 0)."""
        if kind == SettlementKind.EARN:
            self.earned += total
            self.earn_cancelled -= negative
        else:
            self.used += total
            self.use_cancelled -= negative


@dataclass
class StatementLine(MonthTotals):
    order_id: int = 0
    order_number: str = ""


@dataclass
class Statement(MonthTotals):
    month: str = ""
    lines: list[StatementLine] = field(default_factory=list)


def monthly_statement(month: str) -> Statement:
    """The month's lines per order and its totals, the totals added up from those lines: one read, so that a line
    booked while the statement is read (a 환불완료 at that moment) is in both or in neither — the totals are always
    the sum of the rows shown beside them."""
    by_order: dict[int, StatementLine] = {}
    rows = (SettlementLine.objects.filter(month=month).values_list("order_id", "order__number", "kind")
            .annotate(total=Sum("amount_won"), cancelled=Sum("amount_won", filter=NEGATIVE))
            .order_by("order__number"))
    statement = Statement(month=month)
    for order_id, number, kind, total, cancelled in rows:
        line = by_order.get(order_id)
        if line is None:
            line = by_order[order_id] = StatementLine(order_id=order_id, order_number=number)
        line.add(kind, total or 0, cancelled or 0)
        statement.add(kind, total or 0, cancelled or 0)
    statement.lines = list(by_order.values())
    return statement


@dataclass(frozen=True)
class Mismatch:
    order_number: str
    problem: str  # missing_at_provider | missing_at_portal | different
    portal: tuple[int, int] | None
    provider: tuple[int, int] | None
    # the order's mileage is still on its way (an approval being asked, a call waiting in 전송 대기열): the two sides
    # may differ only until it arrives, which the screen says instead of calling the books wrong
    in_flight: bool = False


def _as_lines(value):
    """A report's value as its list of lines, or None when it is not one: a list of objects with an orderNo (an
    empty list too), one such object (one line alone, as XML reads it), or a wrapper of one child holding either
    (<lines><line>…</line>…</lines>)."""
    if isinstance(value, dict) and "orderNo" not in value and len(value) == 1:
        value = next(iter(value.values()))
    if isinstance(value, dict) and "orderNo" in value:
        return [value]
    if isinstance(value, list) and all(isinstance(line, dict) and "orderNo" in line for line in value):
        return value
    return None


def report_lines(report: dict) -> list | None:
    """The lines of a settlement report. docs/protocol.md §4 says "per txId/orderNo" and names no list: `lines` or
    `items`, else the first field of the answer that holds lines (e.g. `transactions`). None: no field holds any."""
    for name in ("lines", "items"):
        if name in report:
            return _as_lines(report[name]) or []
    for name, value in report.items():
        if name not in ("totals", "total") and (lines := _as_lines(value)) is not None:
            return lines
    return None


def _won(value) -> int:
    text = str(value if value is not None else "").strip()
    return int(text) if text.lstrip("-").isascii() and text.lstrip("-").isdigit() else 0


def _agrees(mine: "StatementLine | None", other: tuple[int, int], cancelled: int) -> bool:
    """Whether a provider's line agrees with the portal's line of an order (None: the portal booked nothing of it).
    docs/protocol.md §4 lists earned, used and cancelled per line and does not say whether earned and used are after
    their cancellations (as the sandbox reports them) or before, with the cancellations apart: a line agrees when it
    equals the portal's figures after the cancellations, or — read before them — the portal's figures before its own
    cancellations, with the same cancelled amount (all of them, or the use's alone, the earn then before or after its
    own); an order the portal never booked, or ended at nothing, agrees when everything of it was cancelled."""
    if mine is None:
        return other == (0, 0) or (cancelled > 0 and other[0] + other[1] == cancelled)
    if (mine.earned, mine.used) == other:
        return True
    if cancelled <= 0:
        return False
    if (mine.earned, mine.used, mine.earned_before_cancels) == (0, 0, 0) and other[1] == mine.used_before_cancels \
            and other[0] + other[1] == cancelled:
        # ended whole on both sides: the provider reported the same use before its cancellations, with an earn the
        # portal never booked (an unpaid transfer's, E7) reversed beside it
        return True
    if other == (mine.earned_before_cancels, mine.used_before_cancels) \
            and cancelled == mine.earn_cancelled + mine.use_cancelled:
        return True
    # `cancelled` the use given back alone (a provider keeping the earn's reversals apart, or reporting earn net)
    return (other[1] == mine.used_before_cancels and cancelled == mine.use_cancelled
            and other[0] in (mine.earned, mine.earned_before_cancels))


def reconcile(statement: Statement, report: dict) -> list[Mismatch]:
    """Compare the portal's statement with the provider's settlement report, order by order: the report's lines
    are per txId (a re-approved order has one per txId), summed per orderNo."""
    lines = {line.order_number: line for line in statement.lines}
    ours = {number: (line.earned, line.used) for number, line in lines.items()}
    theirs: dict[str, tuple[int, int]] = {}
    cancelled: dict[str, int] = {}
    # the same without the txIds the provider lists whole and cancelled whole (earned + used = cancelled) beside a
    # txId of the order that stands: a txId a re-approval replaced, reported before its cancellation, nets to nothing
    # (an order's only txId is held to its figures as they are)
    live: dict[str, tuple[int, int]] = {}
    live_cancelled: dict[str, int] = {}
    whole_cancelled: dict[str, int] = {}  # an order's txIds listed whole and cancelled whole
    listed: dict[str, int] = {}
    for line in report_lines(report) or []:
        number, line_earned, line_used = line["orderNo"], _won(line.get("earned")), _won(line.get("used"))
        line_cancelled = _won(line.get("cancelled"))
        earned, used = theirs.get(number, (0, 0))
        theirs[number] = (earned + line_earned, used + line_used)
        cancelled[number] = cancelled.get(number, 0) + line_cancelled
        listed[number] = listed.get(number, 0) + 1
        if line_cancelled > 0 and line_earned + line_used == line_cancelled:
            whole_cancelled[number] = whole_cancelled.get(number, 0) + 1
        else:
            earned, used = live.get(number, (0, 0))
            live[number] = (earned + line_earned, used + line_used)
            live_cancelled[number] = live_cancelled.get(number, 0) + line_cancelled
    mismatches = []
    for number in sorted(set(ours) | set(theirs)):
        mine, other = ours.get(number), theirs.get(number)
        if _agrees(lines.get(number), other or (0, 0), cancelled.get(number, 0)) or (
                number in live and (live[number], live_cancelled[number]) != (other, cancelled.get(number))
                and _agrees(lines.get(number), live[number], live_cancelled[number])) or (
                # a re-approved order cancelled in the end: every txId of it listed whole and cancelled whole, and
                # nothing of it standing at the portal either
                whole_cancelled.get(number, 0) == listed.get(number, 0) >= 2 and mine in (None, (0, 0))):
            continue  # the same on both sides, a line netting to nothing included (an approval undone)
        if other is None:
            mismatches.append(Mismatch(number, "missing_at_provider", mine, None))
        elif mine is None:
            mismatches.append(Mismatch(number, "missing_at_portal", None, other))
        else:
            mismatches.append(Mismatch(number, "different", mine, other))
    return mismatches


def in_flight_last(mismatches: list[Mismatch], in_flight: set[str]) -> list[Mismatch]:
    """`mismatches` with those of the orders `in_flight` (mileage.selectors.mileage_in_flight) marked so and put
    after the others, each part in the order it had."""
    marked = [replace(m, in_flight=m.order_number in in_flight) for m in mismatches]
    return sorted(marked, key=lambda m: m.in_flight)
