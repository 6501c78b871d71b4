"""The operator console: the order queue (주문조회/취소/교환), the order detail and its actions."""

import dataclasses
import itertools
import logging
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import OperationalError
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import get_script_prefix, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from wagtail.models import PageLogEntry, Revision

from cms_pages.models import EarnBaseDisclosurePage
from core.dates import ymd_hms
from mileage.models import OutboxStatus
from mileage.models.outbox import MILEAGE_RETURN_KINDS
from mileage.selectors import DisclosureRules, open_operator_notices
from mileage.templatetags.money import won_format
from portal.accesslog.models import AccessAction
from portal.accesslog.services import access_record
from portal.accounts.audit import histories
from portal.aftersales import fulfilment
from portal.aftersales.buyer_requests import buyer_request_dismiss, open_request_kind
from portal.aftersales.common import ActionError
from portal.aftersales.exchanges import exchange_ship
from portal.aftersales.models import BuyerRequest, BuyerRequestKind, BuyerRequestStatus, Exchange
from portal.orders.earn import MILEAGE_USE_RETURNED
from portal.orders.models import WITHOUT_RECEIPT, Carrier, Order, OrderStatus, PaymentMethod
from portal.orders.selectors import awaited_won, order_detail
from portal.orders.services import TransitionNotAllowed
from portal.parsing import int_or_none
from portal.privacy import OrderContact, can_reveal, masked_name
from portal.receipts.render import receipt_storage
from portal.receipts.views import Audience

from .access import OPERATOR_PERMISSION, OPERATORS_ONLY, OperatorRequiredMixin
from .downloads import ExportMixin, clean_reason, download_with_reason, reason_error
from .exports import export_response
from .filters import OrderFilter, personal_search
from .forms import ShipForm
from .jinja_tables import JinjaTableSpec, per_language, render_table
from .models import ReceiptBatch, ReceiptBatchStatus
from .payment_views import payment_cancel_context
from .receipt_batches import MAX_BATCH, receipt_batch_request
from .tables import BoundedPagingMixin, CachedSearchFormMixin, OrderTable, PageSizeMixin

EXPORT_MAX = 100_000  # rows in one 주문조회 export
ORDER_COUNT_CAP = 10_000  # 주문조회 counts the matching orders exactly up to this many ("총 10,000건 이상" beyond)
EXPORT_COLUMNS = [("placed_at", gettext_lazy("주문일")), ("number", gettext_lazy("주문번호")),
                  ("orderer_name", gettext_lazy("주문자")), ("goods_won", gettext_lazy("총주문금액")),
                  ("collected_won", gettext_lazy("실결제금액")), ("payment_method", gettext_lazy("결제수단")),
                  ("mileage_use_won", gettext_lazy("네이버 마일리지 사용")), ("status", gettext_lazy("처리상태")),
                  # of the use, what went back to the buyer (주문상세정보's "(…원 반환)"): 사용 − 반환 is what the
                  # provider settles for the order
                  ("mileage_use_returned_won", gettext_lazy("네이버 마일리지 반환")),
                  # what the shop still awaits: 입금전, the whole amount; after an exchange, its 추가 결제예정 금액
                  ("awaited_won", gettext_lazy("결제예정금액"))]

log = logging.getLogger(__name__)

TABLE_FIELDS = ("id", "placed_at", "orderer_name", "number", "goods_won", "collected_won", "payable_won", "payment_method",
                "uses_mileage", "status", "buyer_request")


class OrderListView(OperatorRequiredMixin, ExportMixin, BoundedPagingMixin, PageSizeMixin, CachedSearchFormMixin,
                    SingleTableMixin, FilterView):
    """주문조회: the search (cached form), the total, the bulk actions and the page of orders.

    The rows are read as plain values (`TABLE_FIELDS`, no model instance per order) and written by
    jinja2/console/order_table.html; the OrderTable gives the headings and the sorting. A page not sorted by a
    column is paged without building the Table, and the queue as it opens without building the filter form."""

    template_name = "console/order_list.html"
    search_template = "console/includes/order_filters.html"
    table_class = OrderTable
    filterset_class = OrderFilter

    def get_queryset(self):
        return Order.objects.deferred_paging()

    def show_list(self, request, *args, **kwargs):
        if any(request.GET.get(name) for name in self.filterset_class.base_filters):
            return super().show_list(request, *args, **kwargs)
        self.filterset = None  # the queue as it opens: no filter form built (its HTML is cached)
        self.object_list = self.get_queryset()
        return self.render_to_response(self.get_context_data(filter=None, object_list=self.object_list))

    def get_table_data(self):
        # the table's columns only (an order has some forty), as plain rows: no model instance per order (the
        # export reads self.object_list, whole orders)
        return self.object_list.annotate(buyer_request=open_request_kind()).values(*TABLE_FIELDS)

    def get_context_data(self, **kwargs):
        if self.export_kind() is not None:  # the export reads self.object_list: no page of it is shown
            return kwargs
        context, table, page, paginator, records = self.shown_page(**kwargs)
        shown = self.queue_context(table, page, paginator, records)
        if searched := personal_search(getattr(self, "filterset", None)):
            # a search by a buyer's name or number: who searched, by what, and which orders it showed
            access_record(action=AccessAction.SEARCH, request=self.request, targets=[r["number"] for r in records],
                          count=shown["total"], reason=", ".join(searched))
        return {**context, **shown}

    def queue_context(self, table, page, paginator, records) -> dict:
        """What console/order_list.html shows besides the frame: rows, headings, pagination, total, search form."""
        total = self.order_total(page)
        query = self.request.GET.copy()
        query.pop("export", None)
        words = QueueWords.now()
        table_html = render_table(
            "console/order_table.html", spec=JinjaTableSpec.of(self.table_class), request=self.request, table=table,
            page=page, paginator=paginator, rows=queue_rows(records), select_all=words.select_all,
            mileage_label=words.mileage, detail_prefix=order_detail_prefix())
        return {
            "filter_form_html": self.search_form_html(getattr(self, "filterset", None)),
            "notices": open_operator_notices(), "table_html": table_html,
            "page": page, "total": min(total, ORDER_COUNT_CAP),
            "total_text": f"{min(total, ORDER_COUNT_CAP):,}", "total_capped": total > ORDER_COUNT_CAP,
            "bulk_query": query.urlencode(),
        }

    def export_title(self, kind: str) -> str:
        return _("주문조회 %(kind)s") % {"kind": kind.upper()}

    def export_build(self, orders, kind: str):
        return export_orders(orders.annotate(mileage_use_returned_won=MILEAGE_USE_RETURNED).order_by(
            "-placed_at")[:EXPORT_MAX], kind)

    def order_total(self, page) -> int:
        """The orders the search matched: read off its first page when that is the only one, else counted up to
        ORDER_COUNT_CAP (exact for every working queue: 입금전, 결제완료, a name, a day; a million-order history costs
        what ten thousand do, where an exact COUNT(*) would cost ten times the page)."""
        if page is not None and page.number == 1 and not page.has_next():
            return len(page.object_list)
        return self.object_list.order_by()[:ORDER_COUNT_CAP + 1].count()


_detail_prefixes: dict[str, str] = {}


def order_detail_prefix() -> str:
    """주문상세정보's path without the order number (a row's link is this and its number), per script prefix."""
    script = get_script_prefix()
    found = _detail_prefixes.get(script)
    if found is None:
        found = _detail_prefixes[script] = reverse("console:order", args=["0"]).removesuffix("0/")
    return found


@dataclass(slots=True)
class QueueRow:
    """One order of the queue as the template writes it (attributes, which Jinja2 reads first)."""

    id: int
    number: str
    status: str
    buyer_request: str
    uses_mileage: bool
    placed: str
    orderer: str
    goods: str
    collected: str
    due: str  # what the shop awaits (결제예정 입금전, 추가 결제예정 after an exchange), to match against the bank; else ""
    method: str
    status_label: str
    request_label: str
    select_label: str


@dataclass(frozen=True)
class QueueWords:
    """The queue's labels in one language, translated once per process."""

    statuses: dict
    methods: dict
    requests: dict
    select: str
    select_all: str
    mileage: str
    money: str  # the money format of the active language ("%(amount)s원", "%(amount)s won": mileage's `won`)
    due: str  # "결제예정 %(amount)s"
    exchange_due: str  # "추가 결제예정 %(amount)s": an exchange's part not paid yet

    _by_language: ClassVar[dict[str, "QueueWords"]] = {}

    @classmethod
    def now(cls) -> "QueueWords":
        return per_language(cls._by_language, lambda: cls(
            statuses={value: str(label) for value, label in OrderStatus.choices},
            methods={value: str(label) for value, label in PaymentMethod.choices},
            requests={kind: _("%(kind)s 신청") % {"kind": label} for kind, label in BuyerRequestKind.choices},
            select=_("%(number)s 선택"), money=won_format(), select_all=_("이 페이지의 주문 전체 선택"),
            mileage=_("네이버 마일리지"), due=_("결제예정 %(amount)s"),
            exchange_due=_("추가 결제예정 %(amount)s")))


def queue_rows(records) -> list[QueueRow]:
    """The queue's rows as the template writes them: business time, the buyer masked, figures grouped, labels in the
    active language."""
    words = QueueWords.now()
    statuses, methods, requests, select, money = words.statuses, words.methods, words.requests, words.select, words.money
    rows = []
    for o in records:
        kind, number, status, method = o.get("buyer_request") or "", o["number"], o["status"], o["payment_method"]
        awaited = awaited_won(payable_won=o["payable_won"], collected_won=o["collected_won"], status=status)
        due = words.due if status == OrderStatus.AWAITING_DEPOSIT else words.exchange_due
        rows.append(QueueRow(
            id=o["id"], number=number, status=status, buyer_request=kind, uses_mileage=o["uses_mileage"],
            placed=ymd_hms(o["placed_at"]), orderer=masked_name(o["orderer_name"]), goods=money % {"amount": f"{o['goods_won']:,}"},
            collected=money % {"amount": f"{o['collected_won']:,}"},
            due=due % {"amount": money % {"amount": f"{awaited:,}"}} if awaited else "",
            method=methods.get(method, method),
            status_label=statuses.get(status, status), request_label=requests.get(kind, ""),
            select_label=select % {"number": number}))
    return rows


def _export_rows(orders, numbers: list[str]):
    for order in orders.iterator(chunk_size=2000):
        numbers.append(order.number)
        # business time (Asia/Seoul), as every screen shows it
        yield [ymd_hms(order.placed_at), order.number,
               masked_name(order.orderer_name), order.goods_won,
               order.collected_won, order.get_payment_method_display(),  # the mileage has its own column
               order.mileage_use_won, order.get_status_display(), order.mileage_use_returned_won,
               awaited_won(payable_won=order.payable_won, collected_won=order.collected_won, status=order.status)]


def export_orders(orders, kind: str) -> tuple[HttpResponse, list[str], int]:
    """The orders as CSV/XLSX, the buyer masked; with the order numbers written (for the access log) and their
    count."""
    header = [label for _field, label in EXPORT_COLUMNS]
    numbers: list[str] = []
    response = export_response(itertools.chain([header], _export_rows(orders, numbers)), kind=kind,
                               filename="orders", sheet=_("주문"))
    return response, numbers, len(numbers)


class OrderDetailView(OperatorRequiredMixin, TemplateView):
    """주문상세정보 with the buyer masked (GET, one 주문상세정보 조회 record), or in full for this one response after
    개인정보 보기 (POST with a reason, by a holder of `accesslog.view_personal_data`: one 개인정보 보기 record)."""

    template_name = "console/order_detail.html"
    reveal_reason = ""

    def post(self, request, *args, **kwargs):
        if not can_reveal(request.user):
            raise PermissionDenied(_("개인정보 보기 권한이 없습니다."))
        self.reveal_reason = clean_reason(request.POST.get("reason", ""))
        if error := (reason_error(self.reveal_reason) if self.reveal_reason else _("개인정보를 보는 사유를 입력해 주세요.")):
            if not Order.objects.filter(number=kwargs["number"]).exists():
                raise Http404
            messages.error(request, error)
            return redirect("console:order", number=kwargs["number"])
        return self.get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        detail = order_detail(kwargs["number"])
        if detail is None:
            raise Http404
        revealed = bool(self.reveal_reason)
        if revealed:
            access_record(action=AccessAction.REVEAL, request=self.request, targets=[detail.order.number],
                          reason=self.reveal_reason)
        else:
            access_record(action=AccessAction.ORDER_VIEW, request=self.request, targets=[detail.order.number])
        disclosure_url = (reverse("console:disclosure", args=[detail.disclosure_revision_id])
                          + "?" + urlencode({"order": detail.order.number}) if detail.disclosure_revision_id else None)
        requests = list(BuyerRequest.objects.filter(order=detail.order).select_related("requested_by", "handled_by"))
        refund_changes = histories(detail.refunds)
        return {**super().get_context_data(**kwargs), **detail.as_context(), "ship_form": ShipForm(),
                "carriers": Carrier.choices, "exchange_unshipped": any(e.awaits_shipping for e in detail.exchanges),
                "disclosure_url": disclosure_url, "S": OrderStatus, **payment_cancel_context(detail.order),
                "buyer_requests": requests, "contact": OrderContact.of(detail.order, revealed=revealed),
                "refund_histories": [(refund, rows) for refund in detail.refunds
                                     if (rows := refund_changes.get(refund.pk))],
                "mileage_call_failed": any(m.status == OutboxStatus.FAILED and m.kind in MILEAGE_RETURN_KINDS
                                           for m in detail.outbox),
                # every provider call of the order the provider refused, waiting for an operator (입금확인's 거래완료,
                # 구매확정, 배송정보 …): the action said done for the shop, the provider has not taken it yet
                "failed_calls": [m for m in detail.outbox if m.status == OutboxStatus.FAILED],
                "can_reveal": can_reveal(self.request.user),
                "open_request": next((r for r in requests if r.status == BuyerRequestStatus.OPEN), None)}


class ExchangeShipView(OperatorRequiredMixin, View):
    """교환상품 배송 from 주문상세정보's 교환 table: the exchange's carrier and invoice number."""

    def post(self, request, pk: int):
        exchange = get_object_or_404(Exchange.objects.select_related("order"), pk=pk)
        try:
            exchange_ship(exchange=exchange, carrier=request.POST.get("carrier", ""),
                          invoice_no=request.POST.get("invoice_no", ""), by=request.user)
        except ActionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("교환상품을 배송처리했습니다."))
        return redirect("console:order", number=exchange.order.number)


class BuyerRequestDismissView(OperatorRequiredMixin, View):
    """반려 of a buyer's open 취소/반품/교환 신청, with the reason the buyer then reads on the order."""

    def post(self, request, pk: int):
        buyer_request = get_object_or_404(BuyerRequest.objects.select_related("order"), pk=pk)
        try:
            buyer_request_dismiss(request=buyer_request, reason=request.POST.get("dismiss_reason", ""),
                                  by=request.user)
        except ActionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("%(kind)s 신청을 반려했습니다.") % {"kind": buyer_request.get_kind_display()})
        return redirect("console:order", number=buyer_request.order.number)


ACTIONS = {
    "confirm_deposit": (fulfilment.order_confirm_deposit, gettext_lazy("입금확인 처리했습니다.")),
    "mark_unpaid": (fulfilment.order_mark_unpaid, gettext_lazy("미입금상태로 전환했습니다.")),
    "confirm_additional_deposit": (fulfilment.order_confirm_additional_deposit,
                                   gettext_lazy("추가입금확인 처리했습니다.")),
    "deliver": (fulfilment.order_deliver, gettext_lazy("배송완료 처리했습니다.")),
    "confirm_purchase": (fulfilment.order_confirm_purchase, gettext_lazy("구매확정 처리했습니다.")),
}


# the two moves that undo each other: a press from a stale page is refused (fulfilment.refuse_stale)
SEEN_ACTIONS = ("confirm_deposit", "mark_unpaid")


class OrderActionView(OperatorRequiredMixin, View):
    def post(self, request, number: str, action: str):
        order = get_object_or_404(Order, number=number)
        try:
            if action == "ship":
                form = ShipForm(request.POST)
                if not form.is_valid():
                    raise ActionError(next(iter(form.errors.values()))[0])
                fulfilment.order_ship(order=order, by=request.user, **form.cleaned_data)
                messages.success(request, _("배송 처리했습니다."))
            elif action in ACTIONS:
                service, done = ACTIONS[action]
                if action in SEEN_ACTIONS:  # the page's latest status change, compared under the order's lock
                    service(order=order, by=request.user, seen=int_or_none(request.POST.get("seen", "")))
                else:
                    service(order=order, by=request.user)
                messages.success(request, done)
            else:
                messages.error(request, _("알 수 없는 작업입니다."))
        except (ActionError, TransitionNotAllowed) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        except OperationalError:  # a lock conflict the database broke off (a deadlock, a serialization failure)
            log.warning("order %s: %s broken off by the database", number, action, exc_info=True)
            messages.error(request, _("다른 처리와 겹쳐 이 작업을 마치지 못했습니다. 주문 상태를 확인하고 필요하면 다시 눌러 "
                                      "주세요."))
        return redirect("console:order", number=number)


OPERATORS = Audience("operators", find_order=lambda request, number: get_object_or_404(Order, number=number),
                     login_required=True, permission=OPERATOR_PERMISSION,
                     refused=OPERATORS_ONLY, logged=True)  # every order's receipt, each one served logged


class ReceiptBatchView(OperatorRequiredMixin, View):
    """Receipts of the filtered order list (at most MAX_BATCH orders) in one zip, built by a task worker: the page
    says how many orders match, 만들기 records the batch and leads to its progress page."""

    def _orders(self, query):
        """The search's orders, or None when 주문조회 would refuse the search (a search it refuses is never every
        order)."""
        search = OrderFilter(query, queryset=Order.objects.order_by("-placed_at"))
        if not search.is_valid():
            return None
        return search.qs.exclude(status__in=WITHOUT_RECEIPT)[:MAX_BATCH]  # an order never placed has no receipt

    def _refused(self, query):
        messages.error(self.request, _("검색 조건이 올바르지 않아 영수증을 만들지 않았습니다. 주문조회에서 검색 조건을 고쳐 "
                                       "주세요."))
        return redirect(f"{reverse('console:orders')}?{query.urlencode()}")

    def get(self, request):
        orders = self._orders(request.GET)
        if orders is None:
            return self._refused(request.GET)
        return render(request, "console/receipt_batch_new.html", {
            "count": orders.count(), "query": request.GET.urlencode(), "max_batch": MAX_BATCH,
            "recent": ReceiptBatch.objects.filter(requested_by=request.user)[:5]})

    def post(self, request):
        query = QueryDict(request.POST.get("query", ""))
        orders = self._orders(query)
        if orders is None:
            return self._refused(query)
        ids = list(orders.values_list("pk", flat=True))
        if not ids:
            messages.error(request, _("조건에 맞는 주문이 없습니다."))
            return redirect(f"{reverse('console:receipts')}?{query.urlencode()}")
        batch = receipt_batch_request(order_ids=ids, query=query.urlencode(), by=request.user)
        return redirect("console:receipt-batch", pk=batch.pk)


class ReceiptBatchDetailView(OperatorRequiredMixin, View):
    """A batch's progress (the page refreshes itself while a worker builds it) and its download link when ready."""

    def get(self, request, pk):
        batch = get_object_or_404(ReceiptBatch, pk=pk)
        running = batch.status in (ReceiptBatchStatus.QUEUED, ReceiptBatchStatus.RUNNING)
        return render(request, "console/receipt_batch.html", {"batch": batch, "running": running,
                                                              "S": ReceiptBatchStatus})


class ReceiptBatchDownloadView(OperatorRequiredMixin, View):
    def get(self, request, pk):
        batch = get_object_or_404(ReceiptBatch, pk=pk, status=ReceiptBatchStatus.READY)
        storage = receipt_storage()
        if not batch.file_name or not storage.exists(batch.file_name):
            raise Http404
        numbers = list(Order.objects.filter(pk__in=batch.order_ids).order_by("pk").values_list("number", flat=True))
        return download_with_reason(request, title=_("영수증 일괄 다운로드"), count=len(numbers), build=lambda: (
            FileResponse(storage.open(batch.file_name, "rb"), as_attachment=True,
                         filename=f"receipts-{batch.created_at:%Y%m%d-%H%M%S}.zip",
                         content_type="application/zip"), numbers, len(numbers)))

    def post(self, request, pk):  # the 다운로드 사유 form posts back here
        return self.get(request, pk)


class DisclosureRevisionView(OperatorRequiredMixin, View):
    """The earn-base disclosure exactly as it was published when an order was placed (a Wagtail revision)."""

    def get(self, request, revision_id: int):
        # a revision of the 적립 기준 안내 that was published (an order was placed under it, or Wagtail logged its
        # publishing): never a draft, nor another page, under this page's heading
        revision = get_object_or_404(Revision, pk=revision_id,
                                     content_type=ContentType.objects.get_for_model(EarnBaseDisclosurePage))
        if not (Order.objects.filter(disclosure_revision_id=revision.pk).exists()
                or PageLogEntry.objects.filter(revision_id=revision.pk, action="wagtail.publish").exists()):
            raise Http404
        # the rules the page drew live from the settings, as the order kept them when it was placed
        number = request.GET.get("order", "")[:40]
        order = Order.objects.filter(number=number, disclosure_revision_id=revision.pk).only(
            "number", "disclosure_rules").first() if number else None
        rules = None
        if order is not None and order.disclosure_rules:
            known = {f.name for f in dataclasses.fields(DisclosureRules)}
            rules = DisclosureRules(**{k: v for k, v in order.disclosure_rules.items() if k in known})
        return render(request, "console/disclosure_revision.html", {"revision": revision, "page": revision.as_object(),
                                                                    "order": order, "rules": rules})
