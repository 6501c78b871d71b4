"""The console home (대시보드): what an operator checks first, in a handful of aggregate queries.

Today's orders and the deposits waiting, the refund queue, failed provider calls, this month's settlement, this and
next month's rate with the cut-off countdown (the provider's cached getAccumRate, as the 적립률 screen reads it), and
the last twelve months of earn and use for a chart (static/js/charts.js reads them from a json_script block), and
a small card of what /metrics tells Prometheus (backlog, refused approvals, the provider's latency and error rate).
"""

import re
from datetime import date

from dateutil.relativedelta import relativedelta
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from core.dates import ymd_hm
from mileage.models import MileageSettings, SettlementKind
from mileage.policy.calendar import next_cutoff
from mileage.policy.constants import BUSINESS_TZ
from mileage.provider import ProviderError, extensions, get_client
from mileage.selectors import open_operator_notices
from mileage.services.settlement import MonthTotals
from mileage.templatetags.money import won_format
from portal.aftersales.models import Refund, RefundStatus
from portal.ops.metrics import ops_summary
from portal.orders.models import Order, OrderStatus

from .access import OperatorRequiredMixin
from .models import SettlementMonthTotal

CHART_MONTHS = 12


def last_months(today: date, count: int = CHART_MONTHS) -> list[str]:
    """['YYYY-MM', …] ending with today's month, oldest first."""
    first = today.replace(day=1)
    return [(first - relativedelta(months=back)).strftime("%Y-%m") for back in range(count - 1, -1, -1)]


def month_sums(months: list[str]) -> dict[tuple[str, str], tuple[int, int]]:
    """{(month, kind): (sum, sum of the cancellations)} of the settlement lines, read from the sums the database
    keeps with every line (SettlementMonthTotal): one query of at most two rows a month, however long the ledger."""
    sums = {(m, k): (0, 0) for m in months for k in (SettlementKind.EARN, SettlementKind.USE)}
    for month, kind, total, negative in (SettlementMonthTotal.objects.filter(month__gte=months[0],
                                                                              month__lte=months[-1])
                                         .values_list("month", "kind", "total_won", "negative_won")):
        sums[(month, kind)] = (total, negative)
    return sums


def month_statement(sums, month: str) -> MonthTotals:
    """The month's totals, as mileage.services.settlement.monthly_statement adds them up."""
    totals = MonthTotals()
    for kind in (SettlementKind.EARN, SettlementKind.USE):
        total, negative = sums.get((month, kind), (0, 0))
        totals.add(kind, total, negative)
    return totals


def monthly_series(months: list[str], sums=None) -> dict:
    """Earn and use per month for the chart."""
    sums = month_sums(months) if sums is None else sums
    earned = [sums[(m, SettlementKind.EARN)][0] for m in months]
    used = [sums[(m, SettlementKind.USE)][0] for m in months]
    # the chart's axis and tooltips write money as every statement does, in the reader's language
    return {"months": months, "earned": earned, "used": used, "rows": list(zip(months, earned, used, strict=True)),
            "money": won_format()}


def rate_summary(now) -> dict:
    cutoff = next_cutoff(now)
    remaining = cutoff - now
    summary = {"cutoff": cutoff, "days": remaining.days, "hours": remaining.seconds // 3600, "error": ""}
    try:
        result = get_client().accum_rate()
    except ProviderError as exc:
        summary["error"] = exc.message
        return summary
    raw = result.raw
    summary.update(current=extensions.stated_rate(result), next_month=raw.get("nextMonth"),
                   next_rate=raw.get("nextMonthRate"), fixed=raw.get("nextMonthFixed") == "Y")
    return summary


def _plain(detail: str) -> str:
    """A noticed answer (`[code] message`, kept as it was first seen) as a clause of the sentence, in the reader's
    language: what the portal itself concluded is worded anew from its code; the provider's own message is quoted
    as it came. Without the code prefix and the closing full stop."""
    found = re.match(r"^\[([^\]]*)\]\s*(.*)$", detail, re.S)
    code, message = (found.group(1), found.group(2)) if found else ("", detail)
    if detail == extensions.NO_FIELDS_BEFORE:  # a notice kept before the code was written with it
        code = extensions.NO_FIELDS
    if status := re.fullmatch(r"HTTP(\d{3})", code):
        return _("네이버 마일리지 서버의 응답을 읽을 수 없습니다 (HTTP %(status)s)") % {"status": status.group(1)}
    if code == "BAD_ANSWER":
        return _("네이버 마일리지 서버의 응답을 읽을 수 없습니다")
    if code == extensions.NO_FIELDS:
        return _("응답에 이 기능의 항목이 없습니다")
    return message.rstrip(". ") or detail


def provider_profile_summary() -> dict:
    """How the portal talks to the provider (docs/adr/0011-provider-profiles.md): the extensions in use, and each
    extension the provider advertised but answered unexpectedly, as a plain sentence."""
    current = MileageSettings.load()
    if not all(current.effective_credentials()):
        return {"configured": False, "labels": [], "notices": []}
    info = extensions.provider_info()
    used = extensions.in_use(settings=current, info=info)
    advertised_text = _("네이버 마일리지가 알린 ‘%(name)s’ 기능이 %(when)s에 예상하지 못한 응답을 보냈습니다 (%(detail)s). "
                        "그 뒤로는 이 기능 없이 표준 프로토콜로 처리합니다.")
    # asked unadvertised where the protocol says to ask it (the status call, the settlement report)
    absent_text = _("네이버 마일리지에 ‘%(name)s’ 기능이 없습니다 (%(when)s에 확인: %(detail)s). 이 기능 없이 표준 "
                    "프로토콜로 처리합니다.")
    notices = [(advertised_text if n.extension in info.advertised else absent_text) % {
        "name": extensions.LABELS.get(n.extension, n.extension),
        "when": ymd_hm(n.noticed_at), "detail": _plain(n.detail)}
        for n in extensions.notices(current.effective_credentials()[0])]
    return {"configured": True, "labels": extensions.labels(used),
            "notices": notices}


class DashboardView(OperatorRequiredMixin, TemplateView):
    template_name = "console/dashboard.html"

    def get_context_data(self, **kwargs):
        now = timezone.now()
        local = now.astimezone(BUSINESS_TZ)
        today_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        month = local.strftime("%Y-%m")
        # the sums of the two money columns of 주문조회's 오늘날짜 list, which the card opens: 총주문금액 and 실결제금액
        # (what the order's payments charged; an order not paid yet adds nothing to it)
        today = Order.objects.filter(placed_at__gte=today_start).aggregate(
            count=Count("id"), goods=Sum("goods_won"), collected=Sum("collected_won"),
            # 마일리지 사용: the orders that spent some (the 주문조회 export's 네이버 마일리지 사용 above 0), not every
            # order that went through 적립/사용 (an earn alone uses none); one whose payment failed used none either:
            # its approval was refused or given back
            mileage=Count("id", filter=Q(mileage_use_won__gt=0) & ~Q(status=OrderStatus.PAYMENT_FAILED)))
        months = last_months(local.date())
        sums = month_sums(months)
        ops = ops_summary(now)
        return {
            **super().get_context_data(**kwargs),
            "today": {"count": today["count"], "goods": today["goods"] or 0, "collected": today["collected"] or 0,
                      "mileage": today["mileage"]},
            "awaiting_deposit": Order.objects.filter(status=OrderStatus.AWAITING_DEPOSIT).count(),
            "refunds_before": ops.refunds_waiting,
            "refunds_not_paid": Refund.objects.filter(status=RefundStatus.BEFORE).exclude(payout_error="").count(),
            "outbox_failed": ops.outbox_failed,
            "month": month, "settlement": month_statement(sums, month),
            "rates": rate_summary(now),
            "chart": monthly_series(months, sums),
            "ops": ops,  # the same numbers /metrics gives Prometheus
            "provider": provider_profile_summary(),
            "notices": open_operator_notices(),  # e.g. the disclosure unpublished: the checkout's button is off
            "S": OrderStatus, "RS": RefundStatus,
        }
