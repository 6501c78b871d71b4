"""The buyer's side of the popup: open it with a signed URL, verify its signed return on the done page.

The order form puts the offer (maxUseAmount, computed on the server from the cart) into the session before the
buyer presses 적립/사용; nothing the browser sends back is trusted until its signature and amounts are verified.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from mileage import wire
from mileage.inflow import INFLOW_KEY
from mileage.provider import ProviderError, get_client

OFFER_KEY = "mileage_offer"
CHOICE_KEY = "mileage_choice"


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
        return HttpResponseBadRequest("주문서에서 적립/사용 버튼을 눌러 주세요. (Open the popup from the order form.)")
    if offer["max_use_won"] <= 0 and offer.get("earn_base_won", 1) <= 0:
        return HttpResponseBadRequest("이 주문은 네이버 마일리지 적립/사용 대상이 아닙니다. "
                                      "(This order neither earns nor accepts Naver Mileage.)")
    previous = (request.session.get(CHOICE_KEY) or {}).get("req_tx_id", "")
    inflow = request.session.get(INFLOW_KEY, "")
    url = get_client().popup_url(done_url=request.build_absolute_uri(reverse("mileage:popup-done")),
                                 max_use_won=offer["max_use_won"], ncisy=inflow, req_tx_id=previous)
    return redirect(url)


@require_GET
def popup_done(request: HttpRequest) -> HttpResponse:
    offer = request.session.get(OFFER_KEY)
    if not offer:
        return HttpResponseBadRequest("주문 정보가 없습니다. (No order in progress.)")
    try:
        result = get_client().verify_done(request.GET, max_use_won=offer["max_use_won"])
    except ProviderError as exc:
        status = 200 if exc.code == "CANCEL" else 400
        return render(request, "mileage/popup_done.html", {"error": exc.message, "cancelled": exc.code == "CANCEL"},
                      status=status)
    choice = {"req_tx_id": result.req_tx_id, "use_won": result.mileage_use_won,
              "base_rate_x10": result.base_rate_x10, "add_rate_x10": result.add_rate_x10,
              "balance_won": result.balance_won, "params": dict(request.GET.items())}
    request.session[CHOICE_KEY] = choice
    response = render(request, "mileage/popup_done.html", {
        "choice": choice, "rate": wire.rate_to_wire(result.base_rate_x10 + result.add_rate_x10)})
    # The popup came from the provider's origin; keep its link to the order form that opened it.
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response
