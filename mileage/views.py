"""The buyer's side of the popup: open it with a signed URL, verify its signed return on the done page.

The order form puts the offer (maxUseAmount, computed on the server from the cart) into the session before the
buyer presses 적립/사용; nothing the browser sends back is trusted until its signature and amounts are verified.
A popup result belongs to the browser session that opened the popup: the doneUrl carries a nonce drawn for that
session when the popup was opened, and the done page accepts it once, in that session only. Even then the result
is a request, not a proof: the order keeps a mileage discount only once the provider approved it at placement.
"""

import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from mileage import wire
from mileage.holds import popup_hold_release
from mileage.inflow import INFLOW_KEY
from mileage.provider import ProviderError, ProviderUnavailable, extensions, get_client
from mileage.selectors import req_tx_id_taken

OFFER_KEY = "mileage_offer"
CHOICE_KEY = "mileage_choice"
NONCES_KEY = "mileage_popup_nonces"  # popups this session opened and has not heard back from
POPUP_OWNER_KEY = "mileage_popup_owner"  # the browser session's token that takes a popup result's reqTxId
LAST_REQ_KEY = "mileage_req_tx_id"  # the reqTxId the provider gave this session last: reopening reuses it
REOPENED_KEY = "mileage_choice_reopened"  # a choice was given up by reopening the popup (the form says so once)
# popup results the provider could not confirm as this session's when they came back: reqTxId → the doneUrl it was
# opened for (their holds are given back, once the provider confirms them, when the order is placed without them)
UNCONFIRMED_KEY = "mileage_unconfirmed"
MAX_OPEN_POPUPS = 5
POPUP_OWNER_SECONDS = 24 * 3600  # longer than any popup choice lives at the provider
# a popup's nonce kept beside the session's copy, bound to the session's token: a request of the same session saved
# at the same moment (the session is saved whole, the last save wins) cannot lose it
NONCE_CACHE_KEY = "mileage:popup-nonce:{}"


def set_offer(request: HttpRequest, *, max_use_won: int, earn_base_won: int = 1) -> bool:
    """The order form's offer; a changed offer drops an earlier choice made for other amounts, and gives its hold
    back at the provider at once (the buyer's mileage is not kept until the hold expires). Returns whether a choice
    was dropped (the form says so: the buyer presses 적립/사용 again)."""
    offer = {"max_use_won": int(max_use_won), "earn_base_won": int(earn_base_won)}
    if request.session.get(OFFER_KEY) != offer:
        request.session[OFFER_KEY] = offer
        return release_choice(request)
    return False


@require_GET
def popup_open(request: HttpRequest) -> HttpResponse:
    offer = request.session.get(OFFER_KEY)
    if not offer:
        return render(request, "400.html", {"message": _("주문서에서 적립/사용 버튼을 눌러 주세요.")}, status=400)
    if offer["max_use_won"] <= 0 and offer.get("earn_base_won", 1) <= 0:
        return render(request, "400.html", {"message": _("이 주문은 네이버 마일리지 적립/사용 대상이 아닙니다.")},
                      status=400)
    previous = request.session.get(LAST_REQ_KEY, "")
    inflow = request.session.get(INFLOW_KEY, "")
    nonce = secrets.token_urlsafe(16)
    done_url = request.build_absolute_uri(f"{reverse('mileage:popup-done')}?{urlencode({'n': nonce})}")
    earlier = list((request.session.get(NONCES_KEY) or {}).items())
    opened = dict(earlier[-(MAX_OPEN_POPUPS - 1):])
    for dropped, _url in earlier[:-(MAX_OPEN_POPUPS - 1)]:  # popups too old to answer: their cached copies go too
        cache.delete(NONCE_CACHE_KEY.format(dropped))
    request.session[NONCES_KEY] = {**opened, nonce: done_url}
    _issue_nonce(request, nonce, done_url)
    # reopening hands the provider the earlier reqTxId to edit, and gives the choice up here; its hold is given back
    # when the popup answers with another reqTxId or 취소, or when the order is placed without it (§1: a provider
    # releases a hold only on abort or expiry)
    if request.session.pop(CHOICE_KEY, None) is not None:
        request.session[REOPENED_KEY] = True
    url = get_client().popup_url(done_url=done_url, max_use_won=offer["max_use_won"], ncisy=inflow,
                                 req_tx_id=previous)
    return redirect(url)


def _owner_token(request: HttpRequest) -> str:
    """The browser session's own token (not its key: the key changes when the buyer logs in between popup and done
    page)."""
    owner = request.session.get(POPUP_OWNER_KEY)
    if not owner:
        owner = request.session[POPUP_OWNER_KEY] = secrets.token_urlsafe(18)
    return owner


def _issue_nonce(request: HttpRequest, nonce: str, done_url: str) -> None:
    cache.set(NONCE_CACHE_KEY.format(nonce), {"owner": _owner_token(request), "done_url": done_url},
              POPUP_OWNER_SECONDS)


def _take_nonce(request: HttpRequest) -> str:
    """The doneUrl of a popup this session opened and has not heard back from, once (then it is spent). The
    session's copy first; else the cache's, when it was issued to this session (another request of the session,
    saved as this popup was opened — the done page of an earlier popup in another tab — wrote the session over
    it)."""
    nonce, opened = request.GET.get("n", ""), request.session.get(NONCES_KEY) or {}
    if not nonce:
        return ""
    issued = cache.get(NONCE_CACHE_KEY.format(nonce))
    cache.delete(NONCE_CACHE_KEY.format(nonce))
    if isinstance(opened, dict) and nonce in opened:
        done_url = opened.pop(nonce)
        request.session[NONCES_KEY] = opened
        return done_url
    owner = request.session.get(POPUP_OWNER_KEY)
    if isinstance(issued, dict) and owner and issued.get("owner") == owner:
        return str(issued.get("done_url") or "")
    return ""


def _spend_nonces(request: HttpRequest, done_urls: set[str]) -> None:
    """The popups opened for these doneUrls are answered for good: their nonces are spent (session and cache)."""
    request.session[NONCES_KEY] = {nonce: url for nonce, url in (request.session.get(NONCES_KEY) or {}).items()
                                   if url not in done_urls}
    for url in done_urls:
        for nonce in parse_qs(urlsplit(url).query).get("n", []):
            cache.delete(NONCE_CACHE_KEY.format(nonce))


def _opened_here(request: HttpRequest, client, req_tx_id: str, done_url: str) -> bool | None:
    """Whether this reqTxId's result belongs to the popup this session opened (its doneUrl carries this session's
    nonce, spent by the caller). None: the provider could not be asked now.

    Where the provider offers the status extension, it says whether the reqTxId is held for that very doneUrl (a
    signed result alone does not say whose browser it came back to). The standard profile has no such call: the
    nonce alone binds the result, and a reqTxId is taken by one browser session only."""
    if extensions.uses(extensions.STATUS):
        try:
            answer = extensions.status_of(client, req_tx_id)
        except ProviderUnavailable:
            return None
        except ProviderError:
            return False  # a protocol answer (3001: no such reqTxId for this shop)
        # None: the extension turned out absent, and the nonce alone stands; so does an answer that does not say
        # what became of the reqTxId (a status call without the hold)
        if answer is not None and answer.req_tx_state:
            opened_for = str(answer.raw.get("doneUrl", ""))
            if answer.req_tx_state != "HELD" or (opened_for and opened_for != done_url):
                return False
    return _first_session_for(request, req_tx_id)


def _first_session_for(request: HttpRequest, req_tx_id: str) -> bool:
    """A popup result's reqTxId is accepted in one browser session only (the first that brings it back), so a
    result copied into another session's doneUrl is refused there (shared through the cache by every node)."""
    owner = _owner_token(request)
    key = f"mileage:popup-owner:{req_tx_id}"
    return cache.add(key, owner, POPUP_OWNER_SECONDS) or cache.get(key) == owner


def _done_page(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    """The popup's last page, whatever the result: it came from the provider's origin and keeps its link to the order
    form that opened it (window.opener), so that it can hand the result over, or say why not, and close."""
    response = render(request, "mileage/popup_done.html", context, status=status)
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response


def _not_yours(request: HttpRequest) -> HttpResponse:
    return _done_page(request, {"error": _(
        "이 브라우저의 주문서에서 연 적립/사용 창의 결과가 아니거나 이미 처리된 결과입니다. 적립/사용 버튼을 다시 눌러 주세요.")},
        status=400)


@require_GET
def popup_done(request: HttpRequest) -> HttpResponse:
    offer = request.session.get(OFFER_KEY)
    if not offer:  # a session that has no order form (expired, another browser): said on the popup's own page
        return _done_page(request, {"error": _("주문 정보가 없습니다. 주문서에서 적립/사용 버튼을 다시 눌러 주세요.")},
                          status=400)
    done_url = _take_nonce(request)
    if not done_url:
        return _not_yours(request)
    client = get_client()
    try:
        result = client.verify_done(request.GET, max_use_won=offer["max_use_won"])
    except ProviderError as exc:
        if exc.code == "CANCEL":
            request.session.pop(CHOICE_KEY, None)
            # the buyer gave the choice up: the hold its reqTxId may still have goes back now (§1: only abort or
            # expiry releases a hold, reopening the popup does not), and the next popup opens afresh
            _release_left(request, request.GET.get("reqTxId", ""))
            return _done_page(request, {"error": exc.message, "cancelled": True})
        req_tx_id = request.GET.get("reqTxId", "")
        if exc.code == "ABOVE_OFFER" and req_tx_id and _opened_here(request, client, req_tx_id, done_url):
            _release(req_tx_id)  # the buyer's own choice, refused here: no hold left behind
        if req_tx_id:  # the provider's ERROR (or a result refused here) for that reqTxId: the next popup opens afresh
            forget_req_tx_id(request, req_tx_id)
        return _done_page(request, {"error": exc.message}, status=400)
    bound = _opened_here(request, client, result.req_tx_id, done_url)
    if bound is None:
        # the provider could not say now whose popup this was: no choice is taken and nothing is claimed (the
        # session's choice, if any, stands). The reqTxId is remembered with the doneUrl it came back to: an order
        # placed without it gives its hold back once the provider confirms it was opened there, instead of keeping
        # the buyer's mileage for the hold's 30 minutes
        unconfirmed = request.session.get(UNCONFIRMED_KEY) or {}
        request.session[UNCONFIRMED_KEY] = dict(list({**unconfirmed, result.req_tx_id: done_url}.items())[
            -MAX_OPEN_POPUPS:])
        # the same done page, reloaded once the provider answers again, takes the choice: its nonce is not spent
        request.session[NONCES_KEY] = {**request.session.get(NONCES_KEY, {}), request.GET["n"]: done_url}
        _issue_nonce(request, request.GET["n"], done_url)
        request.session.save()  # a 5xx answer is not saved by SessionMiddleware (it saves below 500 only)
        return _done_page(request, {"error": _(
            "네이버 마일리지에서 선택을 확인하지 못했습니다. 잠시 후 적립/사용 버튼을 다시 눌러 주세요.")}, status=503)
    if not bound:
        return _not_yours(request)
    _keep_req_tx_id(request, result.req_tx_id)
    choice = {"req_tx_id": result.req_tx_id, "use_won": result.mileage_use_won,
              "base_rate_x10": result.base_rate_x10, "add_rate_x10": result.add_rate_x10,
              "balance_won": result.balance_won,
              # the ad inflow the popup was handed (Ncisy): its extra rate lasts as long as that inflow (I2, I3)
              "inflow": request.session.get(INFLOW_KEY, "") if result.add_rate_x10 else "",
              "params": {k: v for k, v in request.GET.items() if k != "n"}}
    request.session[CHOICE_KEY] = choice
    return _done_page(request, {
        "choice": choice, "rate": wire.rate_to_wire(result.base_rate_x10 + result.add_rate_x10)})


def release_choice(request: HttpRequest) -> bool:
    """Checkout stopped offering the mileage (the 적립 기준 안내 unpublished, the service switched off) while this
    session holds a popup choice: the choice is dropped and its hold given back at the provider at once, instead of
    keeping the buyer's mileage until the hold expires. Returns whether there was one."""
    choice = request.session.pop(CHOICE_KEY, None)
    if not choice:
        return False
    forget_req_tx_id(request, choice["req_tx_id"])
    # a choice an order already took (its placement approved it, the session not yet saved: a reload during 결제하기)
    # belongs to that order now: never aborted here
    if not req_tx_id_taken(choice["req_tx_id"]):
        _release(choice["req_tx_id"])
    return True


def _keep_req_tx_id(request: HttpRequest, req_tx_id: str) -> None:
    """The reqTxId the provider gave this session's popup last (LAST_REQ_KEY: the next popup is handed it to edit,
    and the order placed without it gives it back); an earlier one it replaces is given back now."""
    previous = request.session.get(LAST_REQ_KEY, "")
    if previous != req_tx_id:
        _release_left(request, previous)
    request.session[LAST_REQ_KEY] = req_tx_id
    unconfirmed = request.session.get(UNCONFIRMED_KEY) or {}
    if req_tx_id in unconfirmed:  # confirmed now (the done page reloaded): the session's own
        request.session[UNCONFIRMED_KEY] = {k: v for k, v in unconfirmed.items() if k != req_tx_id}


def _release_left(request: HttpRequest, req_tx_id: str) -> None:
    """A reqTxId this session's popup had (LAST_REQ_KEY) and no longer uses, given back at the provider unless an
    order took it, and forgotten. A reqTxId the session never had is not touched (a result copied from elsewhere)."""
    if req_tx_id and request.session.get(LAST_REQ_KEY) == req_tx_id:
        forget_req_tx_id(request, req_tx_id)
        if not req_tx_id_taken(req_tx_id):
            _release(req_tx_id)


def release_unused_popup(request: HttpRequest, *, taken: str = "") -> None:
    """The order was placed: a reqTxId this session's popups left without a choice (reopened, then closed without
    확인) holds nothing the order uses, and is given back at the provider rather than kept until the hold expires;
    `taken`: the reqTxId the order was placed with."""
    left = request.session.get(LAST_REQ_KEY, "")
    if left and left != taken:
        _release_left(request, left)
    request.session.pop(LAST_REQ_KEY, None)
    unconfirmed = request.session.pop(UNCONFIRMED_KEY, None) or {}
    if unconfirmed:  # their done pages are spent: a reload never makes a choice of a hold being given back
        _spend_nonces(request, set(unconfirmed.values()))
    for req_tx_id, done_url in unconfirmed.items():
        if req_tx_id != taken and not req_tx_id_taken(req_tx_id):
            popup_hold_release(req_tx_id, opened_for=done_url)  # only once the provider says whose it is


def forget_req_tx_id(request: HttpRequest, req_tx_id: str) -> None:
    """A reqTxId aborted (its choice released, or its order not placed) is never handed to the provider again: an
    aborted transaction has no way out (docs/protocol.md §2, APPROVED → ABORTED), so the next popup opens afresh."""
    if request.session.get(LAST_REQ_KEY) == req_tx_id:
        request.session.pop(LAST_REQ_KEY, None)


def _release(req_tx_id: str) -> None:
    """The hold given back by a task worker (mileage.holds): the buyer's page does not wait on the provider."""
    popup_hold_release(req_tx_id)
