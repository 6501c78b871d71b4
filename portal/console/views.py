"""The operator console: the order queue (주문조회/취소/교환), the order detail and its actions."""

import hashlib
import itertools

from django.contrib import messages
from django.core.cache import cache
from django.http import FileResponse, Http404, HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from wagtail.models import Revision

from core.dates import ymd_hms
from mileage.models import OperatorNotice
from portal.accesslog.models import AccessAction
from portal.accesslog.services import access_record
from portal.aftersales import fulfilment
from portal.aftersales.buyer_requests import buyer_request_dismiss, open_request_kind
from portal.aftersales.common import ActionError
from portal.aftersales.models import BuyerRequest, BuyerRequestStatus
from portal.orders.models import Order, OrderStatus
from portal.orders.selectors import order_detail
from portal.orders.services import TransitionNotAllowed
from portal.privacy import masked_name
from portal.receipts.render import receipt_storage
from portal.receipts.views import Audience

from .access import OPERATOR_PERMISSION, OPERATORS_ONLY, OperatorRequiredMixin
from .exports import export_response
from .filters import OrderFilter
from .forms import ShipForm
from .frame import console_response
from .models import ReceiptBatch, ReceiptBatchStatus
from .order_table_html import order_table_html, plain_order_table_html
from .payment_views import payment_cancel_context
from .receipt_batches import MAX_BATCH, receipt_batch_request
from .tables import BoundedPagingMixin, OrderTable, PageSizeMixin

FILTER_FORM_CACHE_SECONDS = 3600
ORDER_COUNT_CAP = 10_000  # 주문조회 counts the matching orders exactly up to this many ("총 10,000건 이상" beyond)
EXPORT_COLUMNS = [("placed_at", gettext_lazy("주문일")), ("number", gettext_lazy("주문번호")),
                  ("orderer_name", gettext_lazy("주문자")), ("goods_won", gettext_lazy("총주문금액")),
                  ("payable_won", gettext_lazy("실결제금액")), ("payment_method", gettext_lazy("결제수단")),
                  ("mileage_use_won", gettext_lazy("네이버 마일리지 사용")), ("status", gettext_lazy("처리상태"))]

TABLE_FIELDS = ("id", "placed_at", "orderer_name", "number", "goods_won", "payable_won", "payment_method",
                "uses_mileage", "status", "buyer_request")


class OrderListView(OperatorRequiredMixin, BoundedPagingMixin, PageSizeMixin, SingleTableMixin, FilterView):
    template_name = "console/order_list.html"
    table_class = OrderTable
    filterset_class = OrderFilter

    def get_queryset(self):
        return Order.objects.deferred_paging()

    def get(self, request, *args, **kwargs):
        if any(request.GET.get(name) for name in self.filterset_class.base_filters):
            return super().get(request, *args, **kwargs)
        # No filter given (the queue as it opens): every order, without building and validating the filter form
        # (its HTML comes from the cache; filter_form_html builds the form on a miss).
        self.filterset = None
        self.object_list = self.get_queryset()
        if self.table_class._meta.order_by_field not in request.GET and "export" not in request.GET:
            # and unsorted: its page without a django-tables2 Table (the same markup, from order_table_html.py)
            page_number, per_page = self.bound_page(), self.kept_page_size()
            table_html, page = plain_order_table_html(self.table_class, self.get_table_data(), request,
                                                      per_page=per_page, page_number=page_number)
            return self.render_to_response({"filter_form_html": self.filter_form_html(None),
                                            "table_html": table_html, "page": page, "notices": self.open_notices()})
        return self.render_to_response(self.get_context_data(filter=None, object_list=self.object_list))

    def get_table_data(self):
        # the table's columns only (an order has some forty), as plain rows: no model instance per order (the
        # export reads self.object_list, whole orders)
        return self.object_list.annotate(buyer_request=open_request_kind()).values(*TABLE_FIELDS)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter_form_html"] = self.filter_form_html(context["filter"])
        context["table_html"] = order_table_html(context["table"], self.request)
        context["page"] = context["table"].page
        context["notices"] = self.open_notices()
        return context

    @staticmethod
    def open_notices():
        """The five newest operator notices not yet resolved, shown above the queue."""
        return OperatorNotice.objects.filter(resolved_at__isnull=True)[:5]

    def filter_form_html(self, filterset) -> str:
        """The filter form, rendered once per distinct query (its twelve widgets cost more than the rows)."""
        params = sorted((k, v) for k, v in self.request.GET.items() if k in self.filterset_class.base_filters)
        per_page = self.page_size()
        key = "console:order-filters:" + hashlib.sha256(f"{get_language()}|{per_page}|{params}".encode()).hexdigest()
        html = cache.get(key)
        if html is None:
            filterset = filterset or self.get_filterset(self.filterset_class)
            html = render_to_string("console/includes/order_filters.html", {
                "filter": filterset, "page_sizes": self.page_sizes, "per_page": per_page},
                request=self.request)
            cache.set(key, html, FILTER_FORM_CACHE_SECONDS)
        return mark_safe(html)  # rendered by our own template with autoescaping

    def render_to_response(self, context, **kwargs):
        export = self.request.GET.get("export")
        if export in ("csv", "xlsx"):
            rows = self.object_list.order_by("-placed_at")[:100_000]
            return export_orders(rows, export)
        notices = "".join(f'<div class="alert alert-danger py-2 messages" role="alert"><span class="error">'
                          f'{escape(notice.text)}</span></div>' for notice in context["notices"])
        title, legend = escape(_("주문조회/취소/교환")), escape(_("네이버 마일리지를 사용한 주문"))  # outside the
        # f-string, where makemessages finds them
        content = (f'<h1>{title}</h1>\n{notices}\n{context["filter_form_html"]}\n'
                   '<p class="small text-body-secondary mb-2"><span class="mileage-legend" aria-hidden="true">M</span> '
                   f'{legend}</p>\n{self.bulk_form(context["table_html"], context["page"])}\n')
        return console_response(self.request, self.template_name, content)

    def order_total(self, page) -> int:
        """The orders the search matched: read off its first page when that is the only one, else counted up to
        ORDER_COUNT_CAP (exact for every working queue: 입금전, 결제완료, a name, a day; a million-order history costs
        what ten thousand do, where an exact COUNT(*) would cost ten times the page)."""
        if page is not None and page.number == 1 and not page.has_next():
            return len(page.object_list)
        return self.object_list.order_by()[:ORDER_COUNT_CAP + 1].count()

    def bulk_form(self, table_html, page) -> str:
        """The table inside the form of the bulk actions: the total the search matched, the checked orders'
        입금확인, 배송처리 (to 송장 일괄등록) and 구매확정 (posted to OrderBulkView with the search, to come back to)."""
        total = self.order_total(page)
        query = self.request.GET.copy()
        query.pop("export", None)
        buttons = "".join(
            f'<button type="submit" name="action" value="{action}" class="btn btn-sm btn-dark" id="bulk-{action}">'
            f'{escape(label)}</button>'
            for action, label in (("confirm_deposit", _("입금확인")), ("ship", _("배송처리")),
                                  ("confirm_purchase", _("구매확정"))))
        count = escape(_("총 %(count)s건") % {"count": f"{total:,}"} if total <= ORDER_COUNT_CAP
                       else _("총 %(count)s건 이상") % {"count": f"{ORDER_COUNT_CAP:,}"})
        selected, uploads = escape(_("선택한 주문")), escape(_("송장 일괄등록"))
        return (f'<form method="post" action="{escape(reverse("console:orders-bulk"))}" id="bulk-form">'
                f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(get_token(self.request))}">'
                f'<input type="hidden" name="query" value="{escape(query.urlencode())}">'
                '<div class="d-flex flex-wrap gap-2 align-items-center mb-2 bulk-bar">'
                f'<strong id="order-count">{count}</strong><span class="vr mx-1"></span>'
                f'<span class="small">{selected}</span>{buttons}'
                f'<a class="btn btn-sm btn-outline-dark" href="{escape(reverse("console:invoices"))}">{uploads}</a>'
                f'</div>{table_html}</form>')


def _export_rows(orders):
    for order in orders.iterator(chunk_size=2000):
        # business time (Asia/Seoul), as every screen shows it
        yield [ymd_hms(order.placed_at), order.number,
               masked_name(order.orderer_name), order.goods_won,
               order.payable_won, ("M " if order.uses_mileage else "") + order.get_payment_method_display(),
               order.mileage_use_won, order.get_status_display()]


def export_orders(orders, kind: str) -> HttpResponse:
    header = [label for _field, label in EXPORT_COLUMNS]
    return export_response(itertools.chain([header], _export_rows(orders)), kind=kind, filename="orders",
                           sheet=_("주문"))


class OrderDetailView(OperatorRequiredMixin, TemplateView):
    template_name = "console/order_detail.html"

    def get_context_data(self, **kwargs):
        detail = order_detail(kwargs["number"])
        if detail is None:
            raise Http404
        access_record(action=AccessAction.ORDER_VIEW, request=self.request, targets=[detail.order.number])
        disclosure_url = (reverse("console:disclosure", args=[detail.disclosure_revision_id])
                          if detail.disclosure_revision_id else None)
        requests = list(BuyerRequest.objects.filter(order=detail.order).select_related("requested_by", "handled_by"))
        return {**super().get_context_data(**kwargs), **detail.as_context(), "ship_form": ShipForm(),
                "disclosure_url": disclosure_url, "S": OrderStatus, **payment_cancel_context(detail.order),
                "buyer_requests": requests,
                "open_request": next((r for r in requests if r.status == BuyerRequestStatus.OPEN), None)}


class BuyerRequestDismissView(OperatorRequiredMixin, View):
    """반려 of a buyer's open 취소/반품 신청, with the reason the buyer then reads on the order."""

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
    "deliver": (fulfilment.order_deliver, gettext_lazy("배송완료 처리했습니다.")),
    "confirm_purchase": (fulfilment.order_confirm_purchase, gettext_lazy("구매확정 처리했습니다.")),
}


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
                service(order=order, by=request.user)
                messages.success(request, done)
            else:
                messages.error(request, _("알 수 없는 작업입니다."))
        except (ActionError, TransitionNotAllowed) as exc:
            messages.error(request, getattr(exc, "message", str(exc)))
        return redirect("console:order", number=number)


OPERATORS = Audience("operators", find_order=lambda request, number: get_object_or_404(Order, number=number),
                     login_required=True, permission=OPERATOR_PERMISSION,
                     refused=OPERATORS_ONLY, logged=True)  # every order's receipt, each one served logged


class ReceiptBatchView(OperatorRequiredMixin, View):
    """Receipts of the filtered order list (at most MAX_BATCH orders) in one zip, built by a task worker: the page
    says how many orders match, 만들기 records the batch and leads to its progress page."""

    def _orders(self, query):
        return OrderFilter(query, queryset=Order.objects.order_by("-placed_at")).qs[:MAX_BATCH]

    def get(self, request):
        count = self._orders(request.GET).count()
        return render(request, "console/receipt_batch_new.html", {
            "count": count, "query": request.GET.urlencode(), "max_batch": MAX_BATCH,
            "recent": ReceiptBatch.objects.filter(requested_by=request.user)[:5]})

    def post(self, request):
        query = QueryDict(request.POST.get("query", ""))
        ids = list(self._orders(query).values_list("pk", flat=True))
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
        access_record(action=AccessAction.RECEIPT, request=request, targets=numbers, reason=batch.query)
        return FileResponse(storage.open(batch.file_name, "rb"), as_attachment=True,
                            filename=f"receipts-{batch.created_at:%Y%m%d-%H%M%S}.zip",
                            content_type="application/zip")


class DisclosureRevisionView(OperatorRequiredMixin, View):
    """The earn-base disclosure exactly as it was published when an order was placed (a Wagtail revision)."""

    def get(self, request, revision_id: int):
        revision = get_object_or_404(Revision, pk=revision_id)
        return render(request, "console/disclosure_revision.html", {"revision": revision,
                                                                    "page": revision.as_object()})
