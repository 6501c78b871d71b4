"""The buyer's side of the popup: open it with a signed URL, verify its signed return on the done page.

The order form puts the offer (maxUseAmount, computed on the server from the cart) into the session before the
buyer presses 적립/사용; nothing the browser sends back is trusted until its signature and amounts are verified.
A popup result belongs to the browser session that opened the popup: the doneUrl carries a nonce drawn for that
session when the popup was opened, and the done page accepts it once, in that session only. Even then the result
is a request, not a proof: the order keeps a mileage discount only once the provider approved it at placement.
"""

import secrets
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from mileage import wire
from mileage.inflow import INFLOW_KEY
from mileage.provider import ProviderError, get_client

OFFER_KEY = "mileage_offer"
CHOICE_KEY = "mileage_choice"
NONCES_KEY = "mileage_popup_nonces"  # popups this session opened and has not heard back from
LAST_REQ_KEY = "mileage_req_tx_id"  # the reqTxId the provider gave this session last: reopening reuses it
MAX_OPEN_POPUPS = 5


def set_offer(request: HttpRequest, *, max_use_won: int, earn_base_won: int = 1) -> None:
    """The order form's offer; a changed offer drops an earlier choice made for other amounts."""
    offer = {"max_use_won": int(max_use_won), "earn_base_won": int(earn_base_won)}
    if request.session.get(OFFER_KEY) != offer:
        request.session[OFFER_KEY] = offer
        request.session.pop(CHOICE_KEY, None)


@require_GET
def popup_open(request: HttpRequest) -> HttpResponse:
    offer = request.session.get(OFFER_KEY)
    if not offer:
        return HttpResponseBadRequest(_("주문서에서 적립/사용 버튼을 눌러 주세요."))
    if offer["max_use_won"] <= 0 and offer.get("earn_base_won", 1) <= 0:
        return HttpResponseBadRequest(_("이 주문은 네이버 마일리지 적립/사용 대상이 아닙니다."))
    previous = request.session.get(LAST_REQ_KEY, "")
    inflow = request.session.get(INFLOW_KEY, "")
    nonce = secrets.token_urlsafe(16)
    request.session[NONCES_KEY] = [*request.session.get(NONCES_KEY, [])[-(MAX_OPEN_POPUPS - 1):], nonce]
    done_url = request.build_absolute_uri(f"{reverse('mileage:popup-done')}?{urlencode({'n': nonce})}")
    url = get_client().popup_url(done_url=done_url, max_use_won=offer["max_use_won"], ncisy=inflow,
                                 req_tx_id=previous)
    return redirect(url)


def _take_nonce(request: HttpRequest) -> bool:
    """True once for a nonce this session drew when it opened the popup (then it is spent)."""
    nonce, open_ = request.GET.get("n", ""), request.session.get(NONCES_KEY, [])
    if not nonce or nonce not in open_:
        return False
    request.session[NONCES_KEY] = [n for n in open_ if n != nonce]
    return True


@require_GET
def popup_done(request: HttpRequest) -> HttpResponse:
    offer = request.session.get(OFFER_KEY)
    if not offer:
        return HttpResponseBadRequest(_("주문 정보가 없습니다."))
    if not _take_nonce(request):
        return render(request, "mileage/popup_done.html", {"error": _(
            "이 브라우저의 주문서에서 연 적립/사용 창의 결과가 아니거나 이미 처리된 결과입니다. 적립/사용 버튼을 다시 눌러 주세요.")},
            status=400)
    try:
        result = get_client().verify_done(request.GET, max_use_won=offer["max_use_won"])
    except ProviderError as exc:
        status = 200 if exc.code == "CANCEL" else 400
        return render(request, "mileage/popup_done.html", {"error": exc.message, "cancelled": exc.code == "CANCEL"},
                      status=status)
    request.session[LAST_REQ_KEY] = result.req_tx_id
    choice = {"req_tx_id": result.req_tx_id, "use_won": result.mileage_use_won,
              "base_rate_x10": result.base_rate_x10, "add_rate_x10": result.add_rate_x10,
              "balance_won": result.balance_won,
              "params": {k: v for k, v in request.GET.items() if k != "n"}}
    request.session[CHOICE_KEY] = choice
    response = render(request, "mileage/popup_done.html", {
        "choice": choice, "rate": wire.rate_to_wire(result.base_rate_x10 + result.add_rate_x10)})
    # The popup came from the provider's origin; keep its link to the order form that opened it.
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response
