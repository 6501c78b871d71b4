"""The buyer's pages: catalog, product, cart, order form with 적립/사용, 주문완료, My Page, guest lookup and the
buyer's benefit page (the order detail and what the buyer does on it: self_service.py)."""

import functools
import time
import uuid

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.signals import user_login_failed
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cms_pages.models import ExchangePolicyPage
from cms_pages.selectors import live_disclosure, live_in_reader_language, mileage_offered, reader_disclosure
from core.digest import digest
from mileage.inflow import INFLOW_KEY, current_inflow
from mileage.models import MileageSettings
from mileage.policy import earn_within_holding_cap, store_points_earn
from mileage.policy.constants import (
    MAX_BALANCE_PER_BUYER_WON,
    MAX_EARN_PER_ORDER_WON,
    MIN_USE_WON,
    UNPAID_TRANSFER_DAYS,
)
from mileage.selectors import base_rate_x10, checkout_available, disclosure_rules, shown_extra_rate_x10
from mileage.views import (
    CHOICE_KEY,
    REOPENED_KEY,
    forget_req_tx_id,
    release_choice,
    release_unused_popup,
    set_offer,
)
from portal.catalog.models import Category, Product
from portal.orders.checkout import (
    MAX_QUANTITY,
    WINDOW_PAY_METHODS,
    Buyer,
    CheckoutError,
    Quote,
    cart_lines,
    nothing_to_pay,
    order_of_window,
    order_place,
    parse_quantity,
    payment_window_open,
    payment_window_used,
    quote,
    shop_deposit_account,
)
from portal.orders.models import WITHOUT_RECEIPT, Order, OrderStatus, PaymentMethod
from portal.orders.selectors import order_statement, orders_as_stated
from portal.receipts.views import Audience

from .emails import carried_mileage, send_order_email
from .forms import GuestLookupForm, OrderForm

CART_KEY = "cart"
# the key every showing of the order form for this cart carries (Order.submission_key, unique): two tabs of one cart
# pressing 결제하기 at once place one order; a new one once the cart changes, an order is placed or a press refused
CART_TOKEN_KEY = "cart_token"
ORDERS_KEY = "my_orders"  # order numbers this browser placed or looked up as a guest
WINDOW_KEY = "payment_window"  # the PortOne payment this session pre-registered for the order form's window


def _member(request):
    return getattr(request.user, "member", None) if request.user.is_authenticated else None


def catalog(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    category = get_object_or_404(Category, slug=slug) if slug else None
    products = Product.objects.filter(is_displayed=True).select_related("mileage_exclusion").order_by("id")
    if category is not None:
        products = products.filter(category=category)
    page = Paginator(products, 20).get_page(request.GET.get("page"))
    return render(request, "storefront/catalog.html", {
        "categories": Category.objects.all(), "category": category, "page": page})


def product_detail(request: HttpRequest, code: str) -> HttpResponse:
    product = get_object_or_404(Product.objects.select_related("category", "mileage_exclusion"), code=code,
                                is_displayed=True)
    inflow = current_inflow(request)
    store_rate = MileageSettings.load().store_points_rate_x10
    # no rate is offered while the order form could not earn it (the service off, no published 적립 기준 안내)
    mileage_on = mileage_offered()
    return render(request, "storefront/product.html", {
        "product": product, "excluded": hasattr(product, "mileage_exclusion"), "mileage_on": mileage_on,
        "store_points_earn": store_points_earn(product.price_won, store_rate) if store_rate else None,
        "base_rate_x10": base_rate_x10() if mileage_on else None,
        "extra_rate_x10": shown_extra_rate_x10(inflow.extra_rate_x10) if inflow and mileage_on else 0})


def mileage_benefits(request: HttpRequest) -> HttpResponse:
    """네이버 마일리지 혜택: what a buyer gains here (the footer's link), every number live from the settings and the
    provider's rate. The merchant's pitch (가맹점 가입, 인증키) is the CMS's 서비스 소개, shown in the console."""
    return render(request, "storefront/mileage_benefits.html", {
        "rules": disclosure_rules(), "disclosure": reader_disclosure(), "MIN_USE_WON": MIN_USE_WON})


def _cart(request) -> dict[str, int]:
    return dict(request.session.get(CART_KEY, {}))


def _forget_spent_cart(request) -> None:
    """A cart whose key an order was placed with is spent: emptied here as the placement emptied it, even when a
    request of the same session that ended after the placement (적립/사용 pressed in another tab while 결제하기 was
    at work) wrote the session back with the cart, its key and its choice. The next purchase is then a new order,
    never answered with that one. Read where the buyer comes back to the cart, not on 결제하기 itself (a double
    press is answered with its order there)."""
    token = request.session.get(CART_TOKEN_KEY)
    if not token or not request.session.get(CART_KEY):
        return
    # an order still being paid (주문처리중) has not spent it yet, nor has one whose payment failed
    if not Order.objects.filter(submission_key=token).exclude(status__in=WITHOUT_RECEIPT).exists():
        return
    for key in (CART_KEY, CART_TOKEN_KEY):
        request.session.pop(key, None)
    # the choice that order took is spent too; one made since (the other tab's popup) is given back at the provider
    release_choice(request)
    release_unused_popup(request)


def _cart_changed(request, cart: dict[str, int]) -> None:
    """The cart written, with a new order-form key when it changed (in the same session save, so that every tab
    opened on it afterwards shows that key)."""
    if cart != request.session.get(CART_KEY) or not request.session.get(CART_TOKEN_KEY):
        request.session[CART_TOKEN_KEY] = uuid.uuid4().hex
    request.session[CART_KEY] = cart


def _cart_token(request) -> str:
    """The order form's submission key for the cart as it stands: the same on every showing (every tab) until the
    cart changes, an order is placed with it, or a press is refused (a cart kept from before keys gets one here)."""
    token = request.session.get(CART_TOKEN_KEY)
    if not isinstance(token, str) or len(token) != 32:
        token = request.session[CART_TOKEN_KEY] = uuid.uuid4().hex
    return token


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    product = get_object_or_404(Product, code=request.POST.get("code", ""), is_displayed=True)
    try:
        quantity = parse_quantity(request.POST.get("quantity", "1"))
    except CheckoutError as exc:
        messages.error(request, exc.message)
        return redirect("storefront:product", code=product.code)
    _forget_spent_cart(request)
    cart = _cart(request)
    if request.POST.get("buy_now"):
        cart = {product.code: quantity}
    else:
        wanted = cart.get(product.code, 0) + quantity
        cart[product.code] = min(wanted, MAX_QUANTITY)
        if wanted > MAX_QUANTITY:
            messages.warning(request, _("한 상품은 %(most)s개까지 담을 수 있어 장바구니에 %(most)s개가 담겨 있습니다.") % {"most": MAX_QUANTITY})
    _cart_changed(request, cart)
    return redirect("storefront:order" if request.POST.get("buy_now") else "storefront:cart")


def cart_view(request: HttpRequest) -> HttpResponse:
    _forget_spent_cart(request)
    if request.method == "POST":
        cart = _cart(request)
        code = request.POST.get("code", "")
        if request.POST.get("remove"):
            cart.pop(code, None)
        elif code in cart:
            try:
                cart[code] = parse_quantity(request.POST.get("quantity", ""))
            except CheckoutError as exc:
                messages.error(request, exc.message)
        else:  # a line removed meanwhile (another tab), or no line of this cart
            messages.error(request, _("장바구니에 없는 상품입니다. 장바구니를 다시 확인해 주세요."))
        _cart_changed(request, cart)
        return redirect("storefront:cart")
    lines = cart_lines(_cart(request))
    return render(request, "storefront/cart.html", {"quote": quote(lines) if lines else None})


def order_form(request: HttpRequest) -> HttpResponse:
    """주문서작성: the cart priced with the buyer's 적립금 and 네이버 마일리지 choice; a valid POST places the order."""
    placed = _placed_through_this_window(request) if request.method == "POST" else None
    if placed is not None:  # the window's payment placed its order already (a double 결제하기): that order is shown
        _remember(request, placed)
        return redirect("storefront:complete", number=placed.number)
    if request.method == "GET":
        _forget_spent_cart(request)
    lines = cart_lines(_cart(request))
    if not lines:
        placed_here = request.session.get(ORDERS_KEY) or []
        if request.method == "POST" and "priced" in request.POST and placed_here:
            # 결제하기 pressed again after this page's order was placed (a double click: the first request emptied
            # the cart): the order this browser placed last is shown, not an empty cart
            messages.info(request, _("이 주문서의 주문은 이미 접수되었습니다."))
            return redirect("storefront:complete", number=placed_here[-1])
        messages.error(request, _("장바구니가 비어 있습니다."))
        return redirect("storefront:cart")
    member = _member(request)
    shop_settings = MileageSettings.load()
    form = OrderForm(request.POST or None, is_member=member is not None, initial=_initial(request, member),
                     earn_choice=shop_settings.buyer_chooses_earn)
    disclosure = live_disclosure()
    mileage_on = _mileage_offered(request, disclosure)
    _drop_choice_past_its_inflow(request)
    if (request.method == "POST" and form.is_valid() and _choice_unchanged(request, form, mileage_on)
            and _amounts_unchanged(request, form, lines, member, mileage_on) and _key_current(request, form)
            and _window_done(request, form, lines, member, mileage_on)):
        order = _place(request, form, lines, member, mileage_on)
        if order is not None:
            return redirect("storefront:complete", number=order.number)
    return _order_page(request, form, lines, member, shop_settings, disclosure, mileage_on,
                       status=400 if request.method == "POST" else 200)


@require_POST
def order_quote(request: HttpRequest) -> HttpResponse:
    """The order form priced with what the buyer has typed so far (적립금, the earn choice), without placing
    anything: the page's script takes its amounts and mileage row when 적립금 is typed or the popup hands a choice
    back, and the popup's offer follows (the most mileage may pay once the 적립금 is taken off)."""
    lines = cart_lines(_cart(request))
    if not lines:
        return HttpResponse(status=204)
    member = _member(request)
    shop_settings = MileageSettings.load()
    form = OrderForm(request.POST, is_member=member is not None, earn_choice=shop_settings.buyer_chooses_earn)
    form.is_valid()  # the other fields' errors are not shown: only the amounts are taken from this page
    disclosure = live_disclosure()
    mileage_on = _mileage_offered(request, disclosure)
    _drop_choice_past_its_inflow(request)
    return _order_page(request, form, lines, member, shop_settings, disclosure, mileage_on, status=200, quoting=True)


INFLOW_ENDED_KEY = "mileage_choice_inflow_ended"  # a choice dropped when its ad inflow ended (the form says so once)


def _drop_choice_past_its_inflow(request) -> None:
    """A popup choice made with the ad's extra rate (the inflow token handed to the popup) outlives that inflow when
    the buyer came back from a foreign site or the token expired (I2, I3): the provider would still grant the extra
    on it. It is given back, and the buyer presses 적립/사용 again, without the extra."""
    choice = request.session.get(CHOICE_KEY)
    if choice and choice.get("add_rate_x10") and choice.get("inflow") and current_inflow(request) is None:
        release_choice(request)
        request.session[INFLOW_ENDED_KEY] = True


def _mileage_offered(request, disclosure) -> bool:
    """Whether checkout offers the Naver mileage now (the service on, its 적립 기준 안내 published); when it does not,
    a choice the buyer made while it did is given back at the provider at once, and the buyer is told."""
    mileage_on, _why = checkout_available(disclosure_published=disclosure is not None)
    if not mileage_on and release_choice(request):
        messages.warning(request, _("지금은 네이버 마일리지를 사용할 수 없어, 사용하려던 네이버 마일리지를 돌려드렸습니다. "
                                    "바뀐 결제금액을 확인해 주세요."))
    return mileage_on


def _order_page(request, form, lines, member, shop_settings, disclosure, mileage_on: bool, *, status: int,
                quoting: bool = False):
    priced, choice, choice_dropped = _priced(request, form, lines, member, mileage_on)
    choice_dropped = choice_dropped or getattr(request, "mileage_choice_dropped", False)
    # E4: near 500,000원 the provider cuts the earn; the popup's balance says at most how much will fit
    capped = (earn_within_holding_cap(priced.expected_earn_won, balance_won=choice.get("balance_won", 0),
                                      use_won=choice["use_won"]) if choice and priced.earn_choice != "store" else None)
    return render(request, "storefront/order_form.html", {
        "form": form, "quote": priced, "member": member, "choice": choice, "choice_dropped": choice_dropped,
        "earn_cap": {"won": capped} if capped is not None else None,
        # the link: the reader's translation of the 적립 기준 안내 when published, else the shop's own
        "mileage_on": mileage_on, "disclosure": reader_disclosure() if disclosure else None, "MIN_USE_WON": MIN_USE_WON,
        "MAX_EARN_PER_ORDER_WON": MAX_EARN_PER_ORDER_WON, "MAX_BALANCE_PER_BUYER_WON": MAX_BALANCE_PER_BUYER_WON,
        "UNPAID_TRANSFER_DAYS": UNPAID_TRANSFER_DAYS, "exchange_page": _exchange_page(),
        "shop_settings": shop_settings, "deposit_account": shop_deposit_account(), "priced": priced_fingerprint(priced),
        "submission_key": _cart_token(request),
        "portone": _portone_page(), "quoting": quoting,
        # the guest's 개인정보취급방침: how long the order's records are kept (the retention job's own settings)
        "retention": {"records": max(settings.PERSONAL_DATA_RETENTION_MONTHS["contract"],
                                     settings.PERSONAL_DATA_RETENTION_MONTHS["payment"]) // 12,
                      "disputes": settings.PERSONAL_DATA_RETENTION_MONTHS["dispute"] // 12},
    }, status=status)


def _portone_page() -> dict | None:
    """What the order form's script needs to open PortOne's window (None on the TEST gateway: no script at all)."""
    if not payment_window_used(PaymentMethod.CARD):
        return None
    return {"sdk_url": settings.PORTONE_BROWSER_SDK_URL, "store_id": settings.PORTONE_STORE_ID,
            "channel_key": settings.PORTONE_CHANNEL_KEY, "methods": " ".join(WINDOW_PAY_METHODS)}


def _window_done(request, form, lines, member, mileage_on: bool) -> bool:
    """A method paid in PortOne's window needs the payment this session pre-registered, authenticated there; the
    window's payment serves one attempt (a retry opens a new window). An order the mileage and the 적립금 pay in
    whole needs no window: nothing is paid at the PG."""
    if not payment_window_used(form.cleaned_data["payment_method"]):
        return True
    opened = request.session.pop(WINDOW_KEY, None) or {}
    if not form.cleaned_data.get("payment_id") and lines and _nothing_to_pay(request, form, lines, member,
                                                                             mileage_on):
        return True
    if not form.cleaned_data.get("payment_id"):
        form.add_error(None, _("결제하기를 눌러 결제창에서 결제를 마쳐 주세요."))
        return False
    # a 가상계좌 is issued in the window without a token to confirm: the server reads the account back
    token_needed = form.cleaned_data["payment_method"] != PaymentMethod.VIRTUAL_ACCOUNT
    if form.cleaned_data["payment_id"] != opened.get("id") or (
            token_needed and not form.cleaned_data.get("payment_token")):
        form.add_error(None, _("결제창의 결제 정보가 이 주문서와 맞지 않습니다. 결제된 금액은 없습니다. 다시 결제해 주세요."))
        return False
    return True


def _nothing_to_pay(request, form, lines, member, mileage_on: bool) -> bool:
    try:
        return nothing_to_pay(lines=lines, member=member, store_points_won=form.cleaned_data.get("store_points") or 0,
                              choice=request.session.get(CHOICE_KEY) if mileage_on else None,
                              earn_choice=form.cleaned_data.get("earn_choice") or "naver")
    except CheckoutError:
        return False  # the placement says why


@require_POST
def order_payment_window(request: HttpRequest) -> JsonResponse:
    """결제하기 with PortOne: the order form checked and priced on the server, the payable amount pre-registered at
    PortOne under a new payment id; the page then opens the window with what this answers. Nothing is recorded.
    {"ok": false, "submit": true}: the form has errors, the page posts it to show them."""
    lines = cart_lines(_cart(request))
    member = _member(request)
    form = OrderForm(request.POST, is_member=member is not None,
                     earn_choice=MileageSettings.load().buyer_chooses_earn)
    if not lines or not form.is_valid() or not payment_window_used(form.cleaned_data["payment_method"]):
        return JsonResponse({"ok": False, "submit": True})
    mileage_on = _mileage_offered(request, live_disclosure())
    _drop_choice_past_its_inflow(request)
    if form.cleaned_data.get("submission_key", "") not in ("", request.session.get(CART_TOKEN_KEY)) \
            or not _choice_unchanged(request, form, mileage_on) \
            or not _amounts_unchanged(request, form, lines, member, mileage_on):
        # posted, the page shows why (an order placed with its key is shown): no window opens for a press that
        # cannot place an order
        return JsonResponse({"ok": False, "submit": True})
    try:
        opened = payment_window_open(lines=lines, member=member,
                                     store_points_won=form.cleaned_data.get("store_points") or 0,
                                     choice=request.session.get(CHOICE_KEY) if mileage_on else None,
                                     payment_method=form.cleaned_data["payment_method"],
                                     earn_choice=form.cleaned_data.get("earn_choice") or "naver")
    except CheckoutError as exc:
        return JsonResponse({"ok": False, "message": exc.message})
    if opened is None:  # the mileage and the 적립금 pay it all: the form is posted, no window opens
        return JsonResponse({"ok": False, "submit": True, "nothing_to_pay": True})
    request.session[WINDOW_KEY] = {"id": opened.payment_id}
    window = {"storeId": settings.PORTONE_STORE_ID, "channelKey": settings.PORTONE_CHANNEL_KEY,
              "paymentId": opened.payment_id, "orderName": opened.order_name, "totalAmount": opened.amount_won,
              "currency": "KRW", "payMethod": opened.pay_method}
    if opened.due_at is not None:  # 가상계좌: the PG closes the account at E8's deadline
        window["virtualAccount"] = {"accountExpiry": {"dueDate": opened.due_at.isoformat()}}
    return JsonResponse({"ok": True, "request": window})


def _place(request, form, lines, member, mileage_on: bool) -> Order | None:
    """The order placed from the validated form, or None with the refusal on the form."""
    data = {k: form.cleaned_data.get(k, "") or "" for k in Buyer.__dataclass_fields__}
    try:
        order = order_place(lines=lines, buyer=Buyer(**data), member=member,
                            store_points_won=form.cleaned_data.get("store_points") or 0,
                            choice=request.session.get(CHOICE_KEY) if mileage_on else None,
                            inflow_token=request.session.get(INFLOW_KEY, ""))
    except CheckoutError as exc:
        if exc.placed is not None and exc.placed.status == OrderStatus.PLACING:
            # a double 결제하기 while the first press is still being approved or charged: its outcome decides (a
            # declined first press is said as such, never shown as a placed order)
            if _settled_status(exc.placed) in (OrderStatus.PAYMENT_FAILED, OrderStatus.CANCELLED):
                exc = CheckoutError(_("이 주문서의 결제는 이루어지지 않았습니다. 결제된 금액은 없습니다. 다시 결제해 주세요."),
                                    spent_choice=True)
        if exc.placed is None or exc.placed.status in (OrderStatus.PAYMENT_FAILED, OrderStatus.CANCELLED):
            _refused(request, form, exc)
            return None
        # this browser's choice or payment window placed that order already (a double 결제하기, another tab): the
        # buyer is shown it, never asked to pay again, and the session records it whichever request saves last
        order, placed_now = exc.placed, False
    else:
        placed_now = True
    _remember(request, order)
    if placed_now:
        transaction.on_commit(lambda: send_order_email(order))
    return order


def _settled_status(order: Order) -> str:
    """The order's status once its placement ended (approved or charged: paid or awaiting the deposit; or failed),
    read again until then, at most the approval's deadline and a second: a press that placed it is still at work.
    An order still 주문처리중 after that is shown as such by the complete page."""
    deadline = time.monotonic() + settings.MILEAGE_APPROVAL_DEADLINE_SECONDS + 1
    status = order.status
    while time.monotonic() < deadline:
        status = Order.objects.filter(pk=order.pk).values_list("status", flat=True).first()
        if status != OrderStatus.PLACING:
            break
        time.sleep(0.1)
    return status


def _remember(request, order: Order) -> None:
    """The session after an order is placed: the order is the buyer's to see, the cart and the choice are spent."""
    request.session[ORDERS_KEY] = list(dict.fromkeys([*request.session.get(ORDERS_KEY, []), order.number]))
    mileage = carried_mileage(order)  # the order's own choice, as its placement left it (none: without mileage)
    taken = mileage.req_tx_id if mileage is not None else ""
    if (request.session.get(CHOICE_KEY) or {}).get("req_tx_id", taken) != taken:
        release_choice(request)  # a newer choice than the order's (another tab, a re-post): given back, not kept
    release_unused_popup(request, taken=taken)
    for key in (CART_KEY, CART_TOKEN_KEY, CHOICE_KEY):
        request.session.pop(key, None)


def _placed_through_this_window(request) -> Order | None:
    """The order the PortOne payment posted with this form placed already, if any: its payment id is known only to
    the browser that opened the window (pre-registered for its session), so a second post of it — a double click
    whose first request ended first — is shown that order instead of a form that no longer has its cart."""
    payment_id = request.POST.get("payment_id", "")
    if not payment_id or len(payment_id) > 100:
        return None
    return order_of_window(payment_id).exclude(
        status__in=(OrderStatus.PAYMENT_FAILED, OrderStatus.CANCELLED, OrderStatus.PLACING)).first()


def _refused(request, form, exc: CheckoutError) -> None:
    """The placement's refusal on the form."""
    # the card number field is the TEST gateway's: paid in PortOne's window, a decline is the form's own error
    shown = exc.field in form.fields and not (exc.field == "card_number"
                                              and payment_window_used(form.cleaned_data["payment_method"]))
    message = exc.message
    if exc.field == "card_number" and exc.spent_choice:
        # declined: the mileage chosen is given back through the outbox (the provider's answer may come later)
        message = _("%(reason)s 사용하려던 네이버 마일리지는 돌려드립니다. 적립/사용을 다시 눌러 주세요.") % {
            "reason": message}
    form.add_error(exc.field if shown else None, message)
    if request.session.get(CART_TOKEN_KEY) == form.cleaned_data.get("submission_key"):
        # the next press is a new attempt: a refused order keeps its key (every tab then shows the new one)
        request.session[CART_TOKEN_KEY] = uuid.uuid4().hex
    if exc.spent_choice:  # refused, or aborted after a declined card: the buyer presses 적립/사용 again
        spent = request.session.pop(CHOICE_KEY, None)
        if spent:  # its reqTxId is spent at the provider: the next popup opens anew
            forget_req_tx_id(request, spent["req_tx_id"])


def _priced(request, form, lines, member, mileage_on: bool):
    """The form's amounts and the mileage choice shown with them, from what the form validated (a field the buyer
    got wrong counts as empty: its own error says why). The first quote is the offer the popup may take (U2: what
    mileage may pay, the earn base); a second prices the popup's choice or the other earn once there is one.
    Returns the amounts, the choice, and whether a choice was dropped now: True when it was made for other
    amounts, "reopened" when the buyer reopened the popup and left it without a new one."""
    entered = getattr(form, "cleaned_data", {})  # a bound form's valid fields; nothing before the first POST
    try:
        priced = quote(lines, member=member, store_points_won=entered.get("store_points") or 0)
    except CheckoutError as exc:  # more 적립금 than the buyer has or than the order costs: priced without them
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        priced = quote(lines, member=member)
    earn_choice = entered.get("earn_choice") or "naver"
    choice, dropped = None, False
    if mileage_on:
        # the offer does not depend on which earn the buyer picks: switching it keeps the popup choice; a choice
        # made for other amounts (적립금 typed since) is dropped, and the form says so
        dropped = set_offer(request, max_use_won=priced.max_use_won, earn_base_won=priced.earn_base_won)
        choice = request.session.get(CHOICE_KEY)
        # a choice given up by reopening the popup and closing it without a new one: said once (the page keeps it)
        if request.session.pop(REOPENED_KEY, False) and not choice and not dropped:
            dropped = "reopened"
        if request.session.pop(INFLOW_ENDED_KEY, False) and not choice:
            dropped = "inflow_ended"
    if choice or earn_choice != "naver":
        use, rate = (choice["use_won"], choice["base_rate_x10"] + choice["add_rate_x10"]) if choice else (0, 0)
        priced = quote(lines, member=member, store_points_won=priced.store_points_won, mileage_use_won=use,
                       rate_x10=rate, earn_choice=earn_choice)
    return priced, choice, dropped


def priced_fingerprint(priced: Quote) -> str:
    """A short digest of the amounts an order form showed: the lines, what is paid and how, and the earn. The page
    sends it back with 결제하기 (its hidden `priced`, refreshed with the amounts)."""
    terms = (sorted((line.product.code, line.quantity, line.product.price_won) for line in priced.lines),
             priced.goods_won, priced.shipping_won, priced.store_points_won, priced.mileage_use_won,
             priced.payable_won, priced.rate_x10, priced.expected_earn_won, priced.earn_choice,
             priced.store_points_earn_won)
    return digest(*terms)


def _amounts_unchanged(request, form, lines, member, mileage_on: bool) -> bool:
    """결제하기 places the order the page showed: when the amounts it would charge differ from the page's (the cart or
    the mileage changed in another tab, 적립금 typed and Enter pressed before the amounts followed), nothing is
    placed and the page shows the new amounts first. A page paid in PortOne's window was checked when the window
    opened (the placement checks the paid amount itself); a form posted without the page's amounts is not checked."""
    seen = request.POST.get("priced")
    if not seen or form.cleaned_data.get("payment_id"):
        return True
    priced, _choice, dropped = _priced(request, form, lines, member, mileage_on)
    # a choice made for the amounts the page showed is gone now (its hold given back): the page says so too
    request.mileage_choice_dropped = bool(dropped)
    if form.errors:  # the 적립금 typed was refused (more than the buyer has or the order costs): the form says why
        return False
    if priced_fingerprint(priced) == seen:
        return True
    form.add_error(None, _("결제금액이 바뀌었습니다. 바뀐 결제금액을 확인하고 다시 결제해 주세요."))
    return False


def _key_current(request, form) -> bool:
    """The page the buyer paid from carries the cart's key as it stands, or the key of an order placed with it
    (order_place answers that press): a tab whose key another tab's refused press replaced places nothing and is
    shown again with the current key, so that two tabs pressing at once press one key and place one order."""
    posted = form.cleaned_data.get("submission_key", "")
    if not posted or posted == request.session.get(CART_TOKEN_KEY):
        return True
    if Order.objects.filter(submission_key=posted).exists():
        return True  # its order answers the press (shown, or said not paid: a double click's second request)
    form.add_error(None, _("이 주문서를 연 뒤에 다른 창에서 장바구니나 결제가 바뀌었습니다. 결제금액을 확인한 뒤 다시 결제해 "
                           "주세요."))
    return False


def _choice_unchanged(request, form, mileage_on: bool) -> bool:
    """The page the buyer paid from showed the mileage choice the session still holds (another tab may have spent
    it or replaced it): otherwise nothing is placed and the buyer sees the new amounts first."""
    if "mileage_choice" not in request.POST:
        return True
    session_choice = (request.session.get(CHOICE_KEY) or {}).get("req_tx_id", "") if mileage_on else ""
    if form.cleaned_data.get("mileage_choice", "") == session_choice:
        return True
    form.add_error(None, _("네이버 마일리지 적립/사용 정보가 바뀌었습니다. 바뀐 결제금액을 확인하고 다시 결제해 주세요."))
    return False


def _exchange_page():
    return live_in_reader_language(ExchangePolicyPage)


def _initial(request, member) -> dict:
    if member is None:
        return {}
    return {"orderer_name": member.name, "orderer_phone": member.phone, "orderer_email": request.user.email,
            "zipcode": member.zipcode, "address": member.address, "address_detail": member.address_detail,
            "same_as_orderer": True}


def _order_for(request, number: str) -> Order:
    order = get_object_or_404(Order.objects.select_related("member", "mileage").prefetch_related("lines", "payments"),
                              number=number)
    member = _member(request)
    if (member is not None and order.member_id == member.pk) or number in request.session.get(ORDERS_KEY, []):
        return order
    raise Http404


def order_complete(request: HttpRequest, number: str) -> HttpResponse:
    order = _order_for(request, number)
    return render(request, "storefront/complete.html", {"order": order, **order_statement(order)})


@login_required
def mypage(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    orders = orders_as_stated(Order.objects.filter(member=member).select_related("mileage")[:50]) if member else []
    return render(request, "storefront/mypage.html", {"orders": orders, "member": member})


@functools.cache
def _dummy_guest_hash() -> str:
    return make_password(get_random_string(24))


def _guest_password_matches(order: Order | None, raw: str) -> bool:
    """Run the hasher whether or not the order exists, so the answer takes as long either way."""
    encoded = order.guest_password_hash if order is not None and order.guest_password_hash else None
    matches = check_password(raw, encoded or _dummy_guest_hash())
    return matches and encoded is not None


def _guest_verified(request, number: str, order: Order | None, raw: str) -> tuple[bool, HttpResponse | None]:
    """(whether `raw` is the guest order's password, the lockout page when django-axes refuses): failures are
    counted per order number and per address, wherever the password is typed."""
    credentials = {"username": f"guest-order:{number}"}
    if not AxesProxyHandler.is_allowed(request, credentials):
        return False, get_lockout_response(request, None, credentials)
    if _guest_password_matches(order, raw):
        return True, None
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    if getattr(request, "axes_locked_out", False):
        return False, get_lockout_response(request, None, credentials)
    return False, None


def guest_lookup(request: HttpRequest) -> HttpResponse:
    """비회원 주문조회: throttled by django-axes (failures per order number and per address), constant time."""
    form = GuestLookupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["number"]
        order = Order.objects.filter(number=number, member__isnull=True).first()
        matches, lockout = _guest_verified(request, number, order, form.cleaned_data["password"])
        if lockout is not None:
            return lockout
        if matches:
            request.session[ORDERS_KEY] = [*request.session.get(ORDERS_KEY, []), order.number]
            return redirect(reverse("storefront:order-detail", kwargs={"number": order.number}))
        form.add_error(None, _("주문번호 또는 비밀번호가 올바르지 않습니다."))
    return render(request, "storefront/guest_lookup.html", {"form": form},
                  status=400 if request.method == "POST" else 200)


BUYERS = Audience("buyers", find_order=_order_for)  # the member who owns the order, or the guest who looked it up
