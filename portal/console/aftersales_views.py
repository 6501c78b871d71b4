"""Console screens after the sale: 입금전 취소 (§6), 배송전 취소 (§7), 상품반송 (§8), 상품교환 (§9), 환불관리, and
the outbox queue of provider calls that failed after their retries."""

import dataclasses

from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from cms_pages.models import ExchangePolicyPage
from cms_pages.selectors import live_in_reader_language
from core.dates import ymd_hms
from mileage.models import OutboxMessage, OutboxStatus
from mileage.models.outbox import MILEAGE_RETURN_KINDS
from mileage.selectors import mileage_for_order, outbox_waiting_for
from mileage.services.transactions import (
    RESOLVED_BY_HAND,
    TransitionNotAllowed,
    cancelled_after,
    invoiced_after,
)
from mileage.services.transactions import outbox_resolve_by_hand as resolve_by_hand
from mileage.services.transactions import outbox_retry_by_hand as retry_by_hand
from mileage.templatetags.money import won
from portal.accesslog.models import AccessAction
from portal.accesslog.services import access_record
from portal.aftersales.cancellations import (
    CancelChanged,
    cancel_changed_message,
    order_cancel_after_payment,
    order_cancel_before_payment,
)
from portal.aftersales.common import ActionError, RefundInput
from portal.aftersales.exchanges import ExchangeChanged, exchange_complete
from portal.aftersales.models import Refund, RefundMethod, RefundStatus, ReturnRequest
from portal.aftersales.refunds import (
    RefundNotPaid,
    refund_change_method,
    refund_complete,
    refund_fingerprint,
    refund_preview,
)
from portal.aftersales.returns import (
    RETURN_REFUND_OPEN,
    return_complete,
    return_mark_shipping,
    return_request,
)
from portal.aftersales.selectors import (
    ReturnQuote,
    cancel_fingerprint,
    exchange_fingerprint,
    exchange_quote,
    mileage_still_used_won,
    open_request,
    refund_limits,
    return_quote,
    return_takes_everything,
)
from portal.catalog.models import Product
from portal.orders.models import Order, OrderStatus
from portal.orders.money import kept_charge_rule, refund_method_for, refund_methods_offered
from portal.parsing import int_or_none
from portal.privacy import can_reveal, masked_account, masked_name

from .access import OperatorRequiredMixin
from .downloads import ExportMixin
from .exports import export_response
from .filters import SEARCH_MAX_LENGTH, OutboxFilter, RefundFilter, personal_search
from .forms import (
    ExchangeForm,
    LineQuantitiesForm,
    NewProductsForm,
    RefundForm,
    RefundMethodForm,
    ReturnForm,
    merge_errors,
    refund_summary,
)
from .tables import BoundedPagingMixin, OutboxTable, PageSizeMixin, RefundTable


def _order(number: str) -> Order:
    return get_object_or_404(Order.objects.select_related("member"), number=number)


def masked_refund_account(refund: Refund) -> str:
    """A 현금환불's account as a list shows it: the bank, the number's last four digits, the holder masked."""
    return " ".join(part for part in (refund.bank, masked_account(refund.account_no), masked_name(refund.holder))
                    if part)


def _apply_form_error(form, exc: ActionError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _offer_methods(form, order):
    """The form's 환불 방식 lists only the ways this order's money can go back (and the one chosen, if another, so
    that a refused form shows what was sent); every choice is still checked with its own reason when sent."""
    offered = refund_methods_offered(order)
    chosen = form["method"].value() if form.is_bound else form.initial.get("method")
    form.fields["method"].widget.choices = [(value, label) for value, label in form.fields["method"].choices
                                            if value in offered or value == chosen]
    return form


def _refused(request, order, why: str):
    """A form no action could take for the order as it stands: its detail says why, instead of a form refused only
    once sent."""
    messages.error(request, _("%(why)s (처리상태: %(status)s)") % {"why": why, "status": order.get_status_display()})
    return redirect("console:order", number=order.number)


class CancelView(OperatorRequiredMixin, View):
    """주문취소: before payment (§6) the use returns at once; after payment (§7) a refund waits for 환불완료."""

    def _not_cancellable(self, request, order):
        """An order no cancel can take (cancelled already, shipped): its detail says so, rather than a form
        offering 0원."""
        if any(Order.transitions.opens(gate, order.status) for gate in ("cancel_before_payment", "cancel_after_payment")):
            return None
        messages.error(request, _("이 주문은 취소할 수 없습니다 (처리상태: %(status)s). 아무것도 바꾸지 않았습니다.")
                       % {"status": order.get_status_display()})
        return redirect("console:order", number=order.number)

    def get(self, request, number):
        order = _order(number)
        if (refused := self._not_cancellable(request, order)) is not None:
            return refused
        limits = refund_limits(order)
        form = RefundForm(initial={"cash_won": limits["cash"], "store_points_won": limits["points"],
                                   "mileage_won": limits["mileage"],
                                   "method": refund_method_for(order)})
        return self.render(request, order, form)

    def render(self, request, order, form, status=200):
        _offer_methods(form, order)
        template = "console/cancel_before.html" if Order.transitions.opens("cancel_before_payment", order.status) \
            else "console/cancel_after.html"
        limits = refund_limits(order)
        return render(request, template, {"order": order, "form": form, "limits": limits,
                                          "seen": cancel_fingerprint(order, limits),
                                          "summary": refund_summary(form, charged_won=limits["cash"]),
                                          # what of the charge may be left out (결제취소 gives it back later)
                                          "kept_rule": kept_charge_rule(order, limits["cash"]),
                                          "mileage": mileage_for_order(order), "open_request": open_request(order)},
                      status=status)

    def post(self, request, number):
        order = _order(number)
        if (refused := self._not_cancellable(request, order)) is not None:  # cancelled or shipped meanwhile
            return refused
        kind = request.POST.get("kind")
        if kind not in (None, "before_payment", "after_payment"):  # a form of no cancel: nothing is cancelled
            messages.error(request, _("알 수 없는 취소 요청입니다. 취소 양식을 다시 열어 주세요. 아무것도 취소하지 않았습니다."))
            return redirect("console:cancel", number=number)
        if Order.transitions.opens("cancel_before_payment", order.status):
            try:
                order_cancel_before_payment(order=order, by=request.user)
            except Exception as exc:  # TransitionNotAllowed or ActionError
                messages.error(request, getattr(exc, "message", str(exc)))
                return redirect("console:order", number=number)
            messages.success(request, _("입금전 취소를 완료했습니다. 사용한 네이버 마일리지가 반환됩니다.")
                             if order.mileage_use_won else _("입금전 취소를 완료했습니다."))
            return redirect("console:order", number=number)
        if request.POST.get("kind") == "before_payment":  # the 입금전 form, sent after the order was paid meanwhile
            messages.warning(request, _("그 사이 입금이 확인되어 결제완료된 주문입니다. 아래 배송전 취소 양식으로 환불할 금액을 "
                                        "확인한 뒤 다시 취소해 주세요. 아무것도 취소하지 않았습니다."))
            return self.get(request, number)
        form = RefundForm(request.POST)
        if form.is_valid():
            paid_back_at_most = refund_limits(order)["cash"]
            try:
                refund = order_cancel_after_payment(
                    order=order, data=RefundInput(**form.cleaned_data), by=request.user,
                    seen=request.POST.get("seen") or None)  # absent from a form posted without the page
            except CancelChanged as exc:  # shown again with the order as it is now, the operator's figures kept
                messages.error(request, exc.message)
                return self.render(request, _order(number), form, status=409)
            except ActionError as exc:
                _apply_form_error(form, exc)
            else:
                messages.success(request, _("취소완료: 환불관리에 등록된 환불 %(number)s (환불전).")
                                 % {"number": refund.number})
                if (kept := paid_back_at_most - refund.cash_won) > 0:  # the whole order cancelled, money kept
                    messages.warning(request, _(
                        "결제된 금액 중 %(kept)s은 이 환불로 돌려주지 않습니다. 돌려주려면 아래 결제 정보의 결제취소로 "
                        "취소해 주세요.") % {"kept": won(kept)})
                return redirect("console:order", number=number)
        if request.POST.get("seen") not in (None, "", cancel_fingerprint(order)):
            # refused for what was typed, on a form opened before the order changed: both are said
            messages.error(request, cancel_changed_message())
        return self.render(request, order, form, status=400)


class ReturnView(OperatorRequiredMixin, View):
    """상품반송 (§8): 반품접수 with lines, quantities and the mileage to return (capped by what remains)."""

    def get(self, request, number):
        order = _order(number)
        if order.status in (OrderStatus.RETURN_REQUESTED, OrderStatus.RETURNING):
            return _refused(request, order, _("이 주문에는 진행 중인 반품이 있습니다. 그 반품이 반송완료된 뒤에 다시 접수해 주세요."))
        if order.status == OrderStatus.RETURNED:
            return _refused(request, order, RETURN_REFUND_OPEN)
        if not Order.transitions.opens("return_request", order.status):
            return _refused(request, order, _("배송완료된 주문만 반품할 수 있습니다."))
        return self.render(request, order, ReturnForm(initial={"method": refund_method_for(order)}))

    @staticmethod
    def lines_of(order) -> list:
        """The order's lines, each with how much of it went out by exchange (`exchanged`) and by return
        (`returned`): `returned_quantity` counts both."""
        exchanged: dict[str, int] = {}
        for exchange in order.exchanges.all():
            for line_id, quantity in exchange.old_lines.items():
                exchanged[line_id] = exchanged.get(line_id, 0) + int(quantity)
        lines = list(order.lines.all())
        for line in lines:
            line.exchanged = min(line.returned_quantity, exchanged.get(str(line.pk), 0))
            line.returned = line.returned_quantity - line.exchanged
        return lines

    def render(self, request, order, form, status=200, chosen=None, zero_ok=False):
        _offer_methods(form, order)
        return render(request, "console/return.html", {
            "order": order, "form": form, "summary": refund_summary(form), "lines": self.lines_of(order),
            "chosen": chosen or {},
            "zero_ok": zero_ok,
            "limits": refund_limits(order), "returns": order.returns.all(), "open_request": open_request(order)},
            status=status)

    def post(self, request, number):
        order = _order(number)
        form = ReturnForm(request.POST)
        lines_form = LineQuantitiesForm(request.POST, lines=order.lines.all())
        lines = {key.removeprefix("qty_"): value for key, value in request.POST.items() if key.startswith("qty_")}
        if request.POST.get("action") == "quote":  # 금액 계산: the amounts for the quantities typed, nothing recorded
            return self.quote(request, order, form, lines_form, lines)
        if form.is_valid() and not lines_form.is_valid():
            merge_errors(form, lines_form)
        elif form.is_valid() and request.POST.get("zero_ok") != "1" \
                and (quoted := self.whole_return_at_zero(order, form, lines_form.chosen())) is not None:
            # the whole order coming back with nothing given back is most likely a form left at 0: its amounts are
            # filled in to confirm; 0원 sent again from that page is taken as meant
            messages.error(request, _("주문 전체를 반품하는데 돌려줄 금액이 0원입니다. 계산한 금액을 채웠으니 확인한 뒤 "
                                      "반품접수완료를 눌러 주세요. 정말 0원으로 접수하려면 금액을 0으로 바꾸고 누르세요."))
            return self.quoted(request, order, lines, quoted, status=400, zero_ok=True)
        elif form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "reason"}
            try:
                return_request(order=order, lines=lines_form.chosen(), data=RefundInput(**data),
                                          reason=form.cleaned_data["reason"], by=request.user)
            except ActionError as exc:
                _apply_form_error(form, exc)
            else:
                messages.success(request, _("반품접수를 완료했습니다."))
                return redirect("console:order", number=number)
        return self.render(request, order, form, status=400, chosen=lines)

    @staticmethod
    def whole_return_at_zero(order, form, chosen: dict[int, int]) -> ReturnQuote | None:
        """The amounts a whole return sent with every amount at 0 would give back, when it would give anything."""
        data = form.cleaned_data
        if data["cash_won"] or data["store_points_won"] or data["mileage_won"]:
            return None
        if not return_takes_everything(order, chosen):
            return None
        quote = return_quote(order, chosen)
        return quote if quote.cash_won + quote.store_points_won + quote.mileage_won else None

    def quote(self, request, order, form, lines_form, lines):
        if not lines_form.is_valid() or not lines_form.chosen():
            if lines_form.is_valid():
                form.add_error(None, _("반품수량을 입력해 주세요."))
            else:
                merge_errors(form, lines_form)
            return self.render(request, order, form, status=400, chosen=lines)
        return self.quoted(request, order, lines, return_quote(order, lines_form.chosen()))

    def quoted(self, request, order, lines, quote: ReturnQuote, status=200, zero_ok=False):
        """The form again with `quote`'s amounts filled in, the rest as posted."""
        initial = {name: request.POST.get(name, "") for name in ReturnForm.base_fields}
        initial.update(cash_won=quote.cash_won, store_points_won=quote.store_points_won, mileage_won=quote.mileage_won,
                       shipping_deduction_won=request.POST.get("shipping_deduction_won") or 0)
        posted = request.POST.get("method", "")
        # the way back follows the amount (an exchange's 추가입금 is paid back in cash) unless the shop pays it anyway
        initial["method"] = posted if posted in ("cash", "points") else refund_method_for(order, quote.cash_won)
        return self.render(request, order, ReturnForm(initial=initial), chosen=lines, status=status, zero_ok=zero_ok)


class ReturnStepView(OperatorRequiredMixin, View):
    def post(self, request, pk, step):
        return_request = get_object_or_404(ReturnRequest.objects.select_related("order"), pk=pk)
        back = redirect("console:order", number=return_request.order.number)
        try:
            if step == "shipping":
                return_mark_shipping(request=return_request, by=request.user)
                messages.success(request, _("반송중으로 바꿨습니다."))
            elif step == "complete":
                refund = return_complete(request=return_request, by=request.user)
                messages.success(request, _("반송완료: 환불관리에 등록된 환불 %(number)s (환불전).")
                                 % {"number": refund.number})
            else:  # only the table's two steps move a return; anything else is refused and changes nothing
                messages.error(request, _("알 수 없는 반품 처리 단계입니다: %(step)s") % {"step": step[:40]})
        except ActionError as exc:
            messages.error(request, exc.message)
        return back


class ExchangeView(OperatorRequiredMixin, View):
    """상품교환 (§9): pick the lines and the new products, see 추가 결제예정 금액 or the refund, then complete."""

    def _state(self, request, order):
        """The chosen lines and new products as typed (`old`, for the form) and as parsed by the line forms."""
        source = request.POST if request.method == "POST" else request.GET
        old = {k.removeprefix("qty_"): v for k, v in source.items() if k.startswith("qty_") and v not in ("", "0")}
        lines_form = LineQuantitiesForm(source, lines=order.lines.all())
        new_form = NewProductsForm(source)
        chosen = lines_form.chosen() if lines_form.is_valid() else {}
        new = new_form.chosen() if new_form.is_valid() else []
        return old, chosen, new, [lines_form, new_form]

    def get(self, request, number):
        order = _order(number)
        if not Order.transitions.opens("exchange", order.status):
            return _refused(request, order, _("이 주문은 교환할 수 없습니다."))
        return self.render(request, order, ExchangeForm(request.GET or None))

    def render(self, request, order, form, status=200):
        old, chosen, new, line_forms = self._state(request, order)
        term = (request.POST or request.GET).get("q", "").strip()
        if len(term) > SEARCH_MAX_LENGTH:  # a search term longer than any product's name finds nothing
            messages.error(request, _("검색어는 %(max)s자까지 입력할 수 있습니다.") % {"max": SEARCH_MAX_LENGTH})
            term = ""
        products = Product.objects.filter(is_displayed=True).order_by("id")
        if term:
            products = products.filter(name__icontains=term)
        quote = seen = None
        if form.is_bound and form.is_valid() and any(f.errors for f in line_forms):
            merge_errors(form, *line_forms)
        elif chosen and new and form.is_bound and form.is_valid():
            returned = form.cleaned_data["mileage_returned_won"]
            try:
                quote = exchange_quote(order=order, old_lines=chosen, new_products=new, mileage_returned_won=returned)
            except ActionError as exc:
                _apply_form_error(form, exc)
            else:
                seen = exchange_fingerprint(order, quote, old_lines=chosen, new_products=new,
                                            mileage_returned_won=returned)
        elif form.is_bound and (request.POST or request.GET).get("action") == "quote":
            form.add_error(None, _("교환할 주문상품의 교환수량과 교환해 줄 상품의 주문수량을 모두 입력한 뒤 금액 계산을 눌러 "
                                   "주세요."))
        # the new products chosen stay listed (first, with their quantities) whatever the search shows beside them
        picked = [product for product, _quantity in new]
        listed = picked + [p for p in products[:20] if p.pk not in {kept.pk for kept in picked}]
        return render(request, "console/exchange.html", {
            "order": order, "form": form, "lines": order.lines.all(), "products": listed, "q": term,
            "old": old, "new": new, "new_codes": {p.code: q for p, q in new}, "quote": quote, "seen": seen,
            "mileage": mileage_for_order(order), "returnable": mileage_still_used_won(order),
            "limits": refund_limits(order), "notice": live_in_reader_language(ExchangePolicyPage),
            "open_request": open_request(order)},
            status=status)

    def post(self, request, number):
        order = _order(number)
        form = ExchangeForm(request.POST)
        _old, chosen, new, line_forms = self._state(request, order)
        if request.POST.get("action") == "complete" and form.is_valid() and not any(f.errors for f in line_forms):
            try:
                exchange = exchange_complete(
                    order=order, old_lines=chosen, new_products=new, by=request.user,
                    mileage_returned_won=form.cleaned_data["mileage_returned_won"],
                    seen=request.POST.get("seen") or None)  # absent from a form posted without 금액 계산
            except ExchangeChanged as exc:  # shown again with what would happen now, to be pressed again
                messages.error(request, exc.message)
                return self.render(request, _order(number), ExchangeForm(request.POST), status=409)
            except ActionError as exc:
                _apply_form_error(form, exc)
            else:
                messages.success(request, _("상품교환완료: 추가 결제예정 금액 %(additional)s원, 환불 %(refund)s원") % {
                    "additional": f"{exchange.additional_payment_won:,}", "refund": f"{exchange.refund_won:,}"})
                return redirect("console:order", number=number)
        return self.render(request, order, form, status=400 if request.POST.get("action") == "complete" else 200)


REFUND_EXPORT_MAX = 100_000
REFUND_EXPORT_COLUMNS = [
    gettext_lazy("접수일"), gettext_lazy("반송완료일"), gettext_lazy("주문번호"), gettext_lazy("환불정보"),
    gettext_lazy("사유"), gettext_lazy("환불금액"), gettext_lazy("적립금 반환"), gettext_lazy("환불방식"),
    gettext_lazy("현금/카드"), gettext_lazy("배송비"),
    gettext_lazy("적립금"), gettext_lazy("네이버 마일리지"), gettext_lazy("환불은행"), gettext_lazy("환불 계좌번호"),
    gettext_lazy("예금주"), gettext_lazy("환불상태"), gettext_lazy("환불완료일"), gettext_lazy("환불 실패 사유")]


def export_refunds(refunds, kind: str):
    """환불관리's list as CSV/XLSX, each refund's figures as the list shows them (환불금액, 적립금 반환), then split as an
    accountant adds them up (현금/카드: money paid out; 적립금: the shop's points given back, a 적립금환불's included),
    the account and its holder masked; with the order numbers (for the access log) and the count."""
    numbers: list[str] = []
    rows = []
    for r in refunds.iterator(chunk_size=2000):
        numbers.append(r.order.number)
        rows.append([ymd_hms(r.created_at), ymd_hms(r.returned_at) if r.returned_at else "", r.order.number,
                     r.number, r.get_reason_display(), r.payout_won, r.store_points_won, r.payout_way,
                     r.money_back_won,
                     r.shipping_deduction_won, r.points_back_won, r.mileage_won, r.bank,
                     masked_account(r.account_no), masked_name(r.holder), r.get_status_display(),
                     ymd_hms(r.completed_at) if r.completed_at else "", r.payout_error_text])
    response = export_response([[str(label) for label in REFUND_EXPORT_COLUMNS], *rows], kind=kind,
                               filename="refunds", sheet=_("환불관리"))
    return response, sorted(set(numbers)), len(rows)


class RefundListView(OperatorRequiredMixin, ExportMixin, BoundedPagingMixin, PageSizeMixin, SingleTableMixin,
                     FilterView):
    template_name = "console/refund_list.html"
    table_class = RefundTable
    filterset_class = RefundFilter

    def export_title(self, kind: str) -> str:
        return _("환불관리 %(kind)s") % {"kind": kind.upper()}

    def export_build(self, refunds, kind: str):
        return export_refunds(refunds.select_related("order").order_by("-created_at")[:REFUND_EXPORT_MAX], kind)

    def get_queryset(self):
        # a refund done whose mileage call the provider refused for good (전송 대기열: 실패) says so: its money moved,
        # the buyer's mileage has not come back yet
        failed = OutboxMessage.objects.filter(order_id=OuterRef("order_id"), status=OutboxStatus.FAILED,
                                              kind__in=MILEAGE_RETURN_KINDS)
        return Refund.objects.select_related("order").annotate(mileage_call_failed=Exists(failed))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if searched := personal_search(getattr(self, "filterset", None)):
            # a search by a buyer's name or a refund account's holder: one access-log record, as 주문조회's
            numbers = list(dict.fromkeys(row.record.order.number for row in context["table"].page.object_list))
            access_record(action=AccessAction.SEARCH, request=self.request, targets=numbers,
                          reason=", ".join(searched))
        return context

    def get_filterset_kwargs(self, filterset_class):
        kwargs = super().get_filterset_kwargs(filterset_class)
        if kwargs["data"] is None or "status" not in kwargs["data"]:
            # A QueryDict copy, not {**data}: unpacking a QueryDict yields its value lists, which match nothing.
            data = kwargs["data"].copy() if kwargs["data"] is not None else QueryDict(mutable=True)
            data["status"] = RefundStatus.BEFORE
            kwargs["data"] = data
        return kwargs

    def export_post(self, request, *args, **kwargs):
        """Bulk 환불완료 of the checked refunds: first a confirmation of exactly what will move (server-rendered),
        then, confirmed, each refund pays out and reverses exactly once."""
        ids = [i for i in (int_or_none(raw) for raw in request.POST.getlist("selection")) if i is not None]
        if not ids:
            messages.error(request, _("환불완료할 항목을 선택해 주세요."))
            return redirect("console:refunds")
        refunds = list(Refund.objects.filter(pk__in=ids).select_related("order").order_by("pk"))
        if not refunds:  # ids that are no refund (a stale page after a deletion, a forged form): nothing to do
            messages.error(request, _("선택한 환불을 찾을 수 없습니다. 목록을 다시 확인해 주세요."))
            return redirect("console:refunds")
        if request.POST.get("confirm") != "1":
            return render(request, "console/refund_confirm.html",
                          refund_confirmation(refunds, request.get_full_path(), request=request))
        changed = [refund.number for refund in refunds if refund.status == RefundStatus.BEFORE
                   and request.POST.get(f"seen-{refund.pk}") not in (None, refund_fingerprint(refund))]
        if changed:  # confirmed from a page that no longer shows what would move: shown again, nothing moves
            context = refund_confirmation(refunds, request.get_full_path(), request=request)
            return render(request, "console/refund_confirm.html", {**context, "changed": changed}, status=409)
        done = skipped = 0
        for refund in refunds:
            try:
                completed = refund_complete(refund=refund, by=request.user,
                                            seen=request.POST.get(f"seen-{refund.pk}"))
            except RefundNotPaid as exc:
                messages.error(request, _("%(number)s 환불전: %(reason)s") % {"number": refund.number, "reason": exc.message})
                continue
            done, skipped = done + completed, skipped + (not completed)
        if done or skipped:
            messages.success(request, _("환불완료 %(done)s건 (이미 완료된 %(skipped)s건 제외)") % {"done": done, "skipped": skipped}
                             if skipped else _("환불완료 %(done)s건") % {"done": done})
        return redirect(request.get_full_path())


class RefundMethodView(OperatorRequiredMixin, View):
    """환불 방식 변경 of a refund still 환불전: the way its money goes back and the account of a 현금환불."""

    def _refund(self, pk) -> Refund:
        return get_object_or_404(Refund.objects.select_related("order"), pk=pk)

    def get(self, request, pk):
        refund = self._refund(pk)
        if refund.status != RefundStatus.BEFORE:  # said before anything is typed, not after
            messages.info(request, _("환불 %(number)s: 환불완료된 환불이라 환불 방식을 바꿀 수 없습니다.")
                          % {"number": refund.number})
            return redirect("console:refunds")
        initial = {"method": refund.method, "bank": refund.bank}
        if can_reveal(request.user):  # the full account to check and correct, logged as a reveal
            initial.update(account_no=refund.account_no, holder=refund.holder or refund.order.orderer_name)
            access_record(action=AccessAction.REVEAL, request=request, targets=[refund.order.number],
                          reason=_("환불 방식 변경 %(number)s") % {"number": refund.number})
        return self.render(request, refund, RefundMethodForm(initial=initial))

    def render(self, request, refund, form, status=200):
        _offer_methods(form, refund.order)
        return render(request, "console/refund_method.html", {
            "refund": refund, "form": form, "full": can_reveal(request.user),
            "stored_account": masked_account(refund.account_no), "stored_holder": masked_name(refund.holder)},
            status=status)

    def post(self, request, pk):
        refund = self._refund(pk)
        form = RefundMethodForm(request.POST)
        if not form.is_valid():
            return self.render(request, refund, form, status=400)
        data = dict(form.cleaned_data)
        if not can_reveal(request.user):
            # the fields were shown empty (the stored account masked beside them): an empty one keeps the stored
            # full value, so the payout goes to the real account and never to masked text
            for field in ("bank", "account_no", "holder"):
                if not data[field].strip():
                    data[field] = getattr(refund, field)
        try:
            refund_change_method(refund=refund, by=request.user, **data)
        except ActionError as exc:
            _apply_form_error(form, exc)
            return self.render(request, refund, form, status=400)
        messages.success(request, _("%(number)s의 환불 방식을 %(method)s(으)로 바꿨습니다.") % {
            "number": refund.number, "method": RefundMethod(form.cleaned_data["method"]).label})
        return redirect("console:refunds")


def refund_confirmation(refunds: list[Refund], back: str, *, request) -> dict:
    """What the confirmation of 환불완료 shows: per refund what moves, and the totals of the selection. A 현금환불's
    account is masked unless the operator holds `accesslog.view_personal_data` (then shown in full, to make the
    transfer, and logged as one 개인정보 보기 of those orders); the payout itself reads the stored account."""
    previews, done_meanwhile = [], []
    # read again: one completed by another operator since the list was read is listed as done
    done_now = set(Refund.objects.filter(pk__in=[r.pk for r in refunds if r.status == RefundStatus.BEFORE])
                   .exclude(status=RefundStatus.BEFORE).values_list("pk", flat=True))
    for refund in refunds:
        if refund.status == RefundStatus.BEFORE:
            preview = None if refund.pk in done_now else refund_preview(refund)
            if preview is None:  # another operator's 환불완료 came between the list's read and this one
                done_meanwhile.append(refund)
            else:
                previews.append(preview)
    shown = [p for p in previews if p.account]
    if shown and can_reveal(request.user):
        access_record(action=AccessAction.REVEAL, request=request, targets=[p.refund.order.number for p in shown],
                      reason=_("환불완료 확인"))
    elif shown:
        previews = [dataclasses.replace(p, account=masked_refund_account(p.refund)) if p.account else p
                    for p in previews]
    # a refund 환불완료 would refuse (a 현금환불 without an account) is shown with why, and neither sent nor counted
    going = [p for p in previews if not p.blocker]
    totals = {"gateway": sum(p.payout_won for p in going if p.refund.method in ("card", "transfer", "phone")),
              "cash": sum(p.payout_won for p in going if p.refund.method == "cash"),
              "points_payout": sum(p.payout_won for p in going if p.refund.method == "points"),
              "points": sum(p.points_won for p in going), "mileage": sum(p.mileage_won for p in going)}
    return {"previews": previews, "going": going, "totals": totals, "back": back,
            "already_done": [refund for refund in refunds if refund.status == RefundStatus.DONE] + done_meanwhile}


NOTE_MAX = 200  # an operator's note on a call recorded by hand (it is kept as the event's message)


class OutboxListView(OperatorRequiredMixin, BoundedPagingMixin, PageSizeMixin, SingleTableMixin, FilterView):
    template_name = "console/outbox.html"
    table_class = OutboxTable
    model = OutboxMessage
    filterset_class = OutboxFilter

    def get_queryset(self):
        """The calls not sent yet (대기, as the dashboard counts them) and the failed ones; the ones sent when 완료 is
        asked for."""
        if self.request.GET.get("status") in (OutboxStatus.SENT, OutboxStatus.SUPERSEDED):
            return OutboxMessage.objects.select_related("order")
        return OutboxMessage.objects.filter(status__in=(OutboxStatus.PENDING, OutboxStatus.FAILED)).select_related("order")

    def get_context_data(self, **kwargs):
        """Each call waiting on the page with the earlier call of its order it waits for, by the outbox's own rule."""
        context = super().get_context_data(**kwargs)
        outbox_waiting_for([row.record for row in context["table"].page.object_list])
        return context

    def post(self, request):
        pk = int_or_none(request.POST.get("message", ""))
        if pk is None:
            messages.error(request, _("재전송할 항목을 선택해 주세요."))
            return redirect("console:outbox")
        message = get_object_or_404(OutboxMessage, pk=pk)
        if request.POST.get("action") == "resolve":
            return self.resolve(request, message)
        if message.status == OutboxStatus.FAILED and cancelled_after(message):
            messages.error(request, _("이 주문의 취소 요청이 이미 나가 있어 %(kind)s 요청은 다시 보내지 않습니다.")
                           % {"kind": message.get_kind_display()})
            return redirect("console:outbox")
        if message.status == OutboxStatus.FAILED and invoiced_after(message):
            messages.error(request, _("이 주문의 나중 배송정보가 이미 나가 있어 이 배송정보는 다시 보내지 않습니다 (보내면 나중 것을 "
                                      "덮어씁니다)."))
            return redirect("console:outbox")
        result = retry_by_hand(message.pk)
        if result is not None and result.status == OutboxStatus.SENT:
            messages.success(request, _("%(kind)s 전송 완료") % {"kind": message.get_kind_display()})
        elif result is not None and result.status == OutboxStatus.PENDING and not getattr(
                result, "sent_by_this_press", True):
            # another operator's 다시 보내기 (or the worker) is sending it at this moment: not a failure of this press
            messages.info(request, _("%(kind)s: 이미 다시 보내는 중입니다. 잠시 후 전송 대기열에서 결과를 확인해 주세요.")
                          % {"kind": message.get_kind_display()})
        else:
            messages.error(request, _("%(kind)s 전송 실패: %(error)s")
                           % {"kind": message.get_kind_display(), "error": result.last_error if result else ""})
        return redirect("console:outbox")

    @staticmethod
    def resolve(request, message):
        """취소된 것으로 기록: a failed cancel the provider refused because it had cancelled the transaction already,
        as the operator checked on the partner site; the note says what was checked."""
        note = request.POST.get("note", "").strip()
        if not message.resolvable_by_hand:
            messages.error(request, _("네이버 마일리지가 거래 상태를 이유로 거절한 취소 요청만 취소된 것으로 기록할 수 있습니다 (키나 "
                                      "요청 오류, 응답 없음은 제외)."))
        elif not note:
            messages.error(request, _("네이버 마일리지 파트너센터에서 확인한 내용을 적어 주세요. 아무것도 바꾸지 않았습니다."))
        elif len(note) > NOTE_MAX:
            messages.error(request, _("확인 내용은 %(max)s자까지 적을 수 있습니다 (지금 %(length)s자).")
                           % {"max": NOTE_MAX, "length": len(note)})
        else:
            try:
                resolved = resolve_by_hand(message.pk, by=request.user, note=note)
            except TransitionNotAllowed:  # the order's transaction ended otherwise meanwhile (confirmed, aborted)
                resolved = None
            if resolved is None or resolved.status != OutboxStatus.SENT or \
                    (resolved.response or {}).get("resultCode") != RESOLVED_BY_HAND:
                messages.error(request, _("이 요청은 그사이 다른 처리로 바뀌어 기록하지 않았습니다. 목록을 다시 확인해 주세요."))
                return redirect("console:outbox")
            messages.success(request, _("주문 %(order)s의 %(kind)s 요청을 네이버 마일리지에서 이미 취소된 것으로 기록했습니다.")
                             % {"order": message.order.number if message.order else "-",
                                "kind": message.get_kind_display()})
        return redirect("console:outbox")
