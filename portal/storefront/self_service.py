"""The order detail and what the buyer does on it (issue 24): cancel an order still 입금전 — the operator's own
service, so the whole mileage use returns at once (manual §6, docs/policy.md L2) — or ask for 취소/반품 of a paid
order, a request the operator sees in 주문조회 and acts on. A member acts on their own orders, logged in; a guest
confirms each action with the order's password, counted by django-axes as at 비회원 주문조회."""

from datetime import timedelta

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mileage.selectors import refunds_returning
from portal.aftersales.buyer_requests import buyer_request_create, requestable_kinds
from portal.aftersales.cancellations import order_cancel_before_payment
from portal.aftersales.errors import ActionError
from portal.aftersales.fulfilment import order_confirm_purchase
from portal.aftersales.models import BuyerRequestKind, BuyerRequestStatus, RefundStatus, ReturnStatus
from portal.aftersales.selectors import exchanges_awaiting_shipping, open_request
from portal.orders.models import Order, OrderStatus
from portal.orders.selectors import exchange_due_won, order_statement
from portal.orders.services import TransitionNotAllowed

from .forms import BuyerCancelForm, BuyerConfirmPurchaseForm, BuyerRequestForm
from .views import ORDERS_KEY, _guest_verified, _member, _order_for  # the access rules of every buyer page


def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    if not request.user.is_authenticated and number not in request.session.get(ORDERS_KEY, []):
        # a member's order opened from an e-mail while logged out: not found here, with the way to it — the login,
        # then back to the order, or 비회원 주문조회 for a guest's; whichever number is asked, the same answer, so
        # that it tells nobody which numbers are orders
        return render(request, "storefront/order_not_shown.html", status=404)
    return _detail(request, _order_for(request, number))


def _kind_choices(order: Order) -> list[tuple[str, str]]:
    return [(kind, BuyerRequestKind(kind).label) for kind in requestable_kinds(order)]


def _detail(request, order: Order, *, cancel_form=None, request_form=None, confirm_form=None,
            status: int = 200) -> HttpResponse:
    """The order detail with what the buyer may do on it: cancel it while 입금전, ask for 취소/반품 once paid (교환 once delivered), and
    confirm the purchase once delivered."""
    pending = open_request(order)
    kinds = _kind_choices(order)
    can_cancel = order.status == OrderStatus.AWAITING_DEPOSIT
    if can_cancel and cancel_form is None:
        cancel_form = BuyerCancelForm(is_guest=order.is_guest)
    if kinds and pending is None and request_form is None:
        request_form = BuyerRequestForm(is_guest=order.is_guest, kinds=kinds)
    # 구매확정 once delivered, with no request open, nothing of an exchange left to pay and its goods sent (it would
    # be refused)
    unshipped = order.status == OrderStatus.DELIVERED and bool(exchanges_awaiting_shipping(order))
    confirmable = order.status == OrderStatus.DELIVERED and pending is None and not exchange_due_won(order) \
        and not unshipped
    if confirmable and confirm_form is None:
        confirm_form = BuyerConfirmPurchaseForm(is_guest=order.is_guest)
    refunds = list(order.refunds.all())
    refund_waiting = any(refund.status == RefundStatus.BEFORE for refund in refunds)
    buyer_requests = list(order.buyer_requests.all())
    _mark_progress(order, buyer_requests, refunds)
    return render(request, "storefront/order_detail.html", {
        "order": order, **order_statement(order), "can_cancel": can_cancel, "cancel_form": cancel_form,
        "confirm_form": confirm_form if confirmable else None,
        "request_form": request_form if pending is None else None, "open_request": pending,
        "buyer_requests": buyer_requests, "refunds": refunds, "refund_waiting": refund_waiting,
        # the completed refunds whose mileage the provider has not given back yet (each row says 반환 예정)
        "refunds_returning": refunds_returning(order.pk, [r.number for r in refunds if r.mileage_won]),
        "mileage_waiting": any(r.status == RefundStatus.BEFORE and r.mileage_won for r in refunds),
        "exchange_unshipped": unshipped},
        status=status)


# the operator's action that handles a request (반품접수, 배송전 취소, 상품교환완료) writes its return or refund in the
# same transaction as the request's handling: within this much of `handled_at`, the first such row is the request's
_SAME_ACTION = timedelta(seconds=2)


def _mark_progress(order: Order, buyer_requests: list, refunds: list) -> None:
    """Each handled request reads its own outcome, never 처리완료 while that is under way (`progress`): the return
    registered when it was handled still coming back or its refund still 환불전, or the cancel's or exchange's refund
    made then still 환불전. What the operator did later on their own (another return, an exchange) is not its."""
    handled = [r for r in buyer_requests if r.status == BuyerRequestStatus.HANDLED and r.handled_at]
    if not handled:
        return
    returns = list(order.returns.select_related("refund")) if any(
        r.kind == BuyerRequestKind.RETURN for r in handled) else []

    def made_by(rows, req):
        """The first of `rows` written by the action that handled `req`, or None."""
        near = [row for row in rows if abs(row.created_at - req.handled_at) <= _SAME_ACTION]
        return min(near, key=lambda row: (row.created_at, row.pk), default=None)

    for req in handled:
        if req.kind == BuyerRequestKind.RETURN:
            own = made_by(returns, req)
            if own is not None and own.status != ReturnStatus.RETURNED:
                req.progress = _("접수완료 · 반품 진행중")
            elif own is not None and own.refund is not None and own.refund.status == RefundStatus.BEFORE:
                req.progress = _("접수완료 · 환불 진행중")
        else:
            own = made_by([f for f in refunds if f.reason == req.kind], req)
            if own is not None and own.status == RefundStatus.BEFORE:
                req.progress = _("접수완료 · 환불 진행중")


def _actor(request):
    return request.user if request.user.is_authenticated else None


def _member_only(request, order: Order) -> HttpResponse | None:
    """A member's order is acted on by that member, logged in (a browser that merely placed it may only look)."""
    member = _member(request)
    if order.is_guest or (member is not None and member.pk == order.member_id):
        return None
    messages.error(request, _("회원 주문은 로그인한 후 취소하거나 신청할 수 있습니다."))
    return redirect(f"{reverse('accounts:login')}?next={reverse('storefront:order-detail', args=[order.number])}")


def _confirm_guest(request, order: Order, form) -> HttpResponse | None:
    """A guest's order: the password typed into `form` must be the order's, counted by django-axes as at 비회원
    주문조회. A wrong one becomes the form's error; a locked-out browser gets the lockout page."""
    if not order.is_guest:
        return None
    matches, lockout = _guest_verified(request, order.number, order, form.cleaned_data["password"])
    if lockout is not None:
        return lockout
    if not matches:
        form.add_error("password", _("비밀번호가 올바르지 않습니다. 주문은 바뀌지 않았습니다."))
    return None


def _posted(request, number: str, form_class) -> tuple[Order, object, HttpResponse | None]:
    """The order and its posted confirmation form, a guest's password checked; or the answer that ends the request
    here (a member's order asks for its member's login, a locked-out guest gets the lockout page)."""
    order = _order_for(request, number)
    denied = _member_only(request, order)
    if denied is not None:
        return order, None, denied
    form = form_class(request.POST, is_guest=order.is_guest)
    if form.is_valid():
        lockout = _confirm_guest(request, order, form)
        if lockout is not None:
            return order, form, lockout
    return order, form, None


@require_POST
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    """입금전 취소 by the buyer (manual §6, docs/policy.md L2): the operator's own service, so the whole mileage
    use goes back to the buyer at once, the pending earn is cancelled and any 적립금 used is returned."""
    order, form, answered = _posted(request, number, BuyerCancelForm)
    if answered is not None:
        return answered
    if form.is_valid():
        try:
            order_cancel_before_payment(order=order, by=_actor(request))
        except (ActionError, TransitionNotAllowed) as exc:  # paid or cancelled meanwhile: nothing changed
            messages.error(request, getattr(exc, "message", str(exc)))
            order.refresh_from_db()
            return _detail(request, order, status=400)
        else:
            if order.mileage_use_won:
                messages.success(request, _("주문을 취소했습니다. 사용하신 네이버 마일리지 %(amount)s원은 네이버에 바로 반환을 요청했습니다 (반환 예정 → "
                                    "반환 완료).")
                                 % {"amount": f"{order.mileage_use_won:,}"})
            else:
                messages.success(request, _("주문을 취소했습니다."))
            return redirect("storefront:order-detail", number=order.number)
    order.refresh_from_db()
    if order.status != OrderStatus.AWAITING_DEPOSIT:  # the form is not on the page any more: why, above the order
        messages.error(request, _("이 주문은 지금 취소할 수 없습니다 (처리상태: %(status)s).")
                       % {"status": order.get_status_display()})
    return _detail(request, order, cancel_form=form, status=400)


@require_POST
def order_request(request: HttpRequest, number: str) -> HttpResponse:
    """취소/반품/교환 신청 of a paid order: recorded for the operator, who sees it in 주문조회; nothing moves yet."""
    order = _order_for(request, number)
    denied = _member_only(request, order)
    if denied is not None:
        return denied
    kinds = _kind_choices(order)
    form = BuyerRequestForm(request.POST, is_guest=order.is_guest, kinds=kinds)
    if form.is_valid():
        lockout = _confirm_guest(request, order, form)
        if lockout is not None:
            return lockout
    if not kinds:
        messages.error(request, _("이 주문은 지금 취소/반품/교환을 신청할 수 없습니다 (처리상태: %(status)s).")
                       % {"status": order.get_status_display()})
        return _detail(request, order, status=400)
    if form.is_valid():
        try:
            created = buyer_request_create(order=order, kind=form.cleaned_data["kind"],
                                           reason=form.cleaned_data["reason"], by=_actor(request))
        except ActionError as exc:
            if exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            else:  # a request already open, or the order moved on: shown above the order, nothing changed
                messages.error(request, exc.message)
                return _detail(request, order, status=400)
        else:
            messages.success(request, _("%(kind)s 신청을 접수했습니다. 운영자가 확인한 후 처리합니다.")
                             % {"kind": created.get_kind_display()})
            return redirect("storefront:order-detail", number=order.number)
    return _detail(request, order, request_form=form, status=400)


@require_POST
def order_confirm(request: HttpRequest, number: str) -> HttpResponse:
    """구매확정 by the buyer of a delivered order (docs/protocol.md §2): as the operator's — the provider is told
    (confirmed) and the shop's 적립금 granted — and it closes the order to returns."""
    order, form, answered = _posted(request, number, BuyerConfirmPurchaseForm)
    if answered is not None:
        return answered
    if form.is_valid():
        try:
            order_confirm_purchase(order=order, by=_actor(request))
        except ActionError as exc:  # a 취소/반품/교환 request open (filed in another tab, say): nothing changed
            messages.error(request, exc.message)
            return _detail(request, order, status=400)
        except TransitionNotAllowed:  # not delivered (any more): nothing changed
            order.refresh_from_db()
            messages.error(request, _("이 주문은 지금 구매확정할 수 없습니다 (처리상태: %(status)s).")
                           % {"status": order.get_status_display()})
            return _detail(request, order, status=400)
        messages.success(request, _("구매확정했습니다. 감사합니다."))
        return redirect("storefront:order-detail", number=order.number)
    order.refresh_from_db()
    if order.status != OrderStatus.DELIVERED or open_request(order) is not None:  # the form is not on the page
        messages.error(request, _("이 주문은 지금 구매확정할 수 없습니다 (처리상태: %(status)s).")
                       % {"status": order.get_status_display()})
    return _detail(request, order, confirm_form=form, status=400)
