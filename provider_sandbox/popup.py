"""The buyer's popup (docs/protocol.md §1): signed entry, login, balance, use input, the signed return to
doneUrl."""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from mileage import wire

from . import rules, services
from .constants import BUYER_HOLDING_CAP_WON, MIN_USE_WON, ORDER_EARN_CAP_WON, PENDING_DAYS
from .models import Buyer, Merchant, PopupSession, PopupState

BUYER_SESSION_KEY = "sandbox_buyer_id"


def _bad(message: str) -> HttpResponse:
    return HttpResponseBadRequest(f"<!doctype html><meta charset=utf-8><p>{message}</p>")


def _number(text: str) -> bool:
    """Whether `text` is a number wire.parse_int takes (ASCII digits, bounded): isdigit() also takes '²'."""
    try:
        wire.parse_int(text, max_length=15, max_value=10**15)
    except wire.NotANumber:
        return False
    return True


def entry(request: HttpRequest, api_id: str) -> HttpResponse:
    merchant = Merchant.objects.filter(api_id=api_id).first()
    if merchant is None:
        return _bad("등록되지 않은 가맹점입니다.")
    done_url, stamp, sig = request.GET.get("doneUrl", ""), request.GET.get("timestamp", ""), request.GET.get("sig", "")
    max_use = request.GET.get("maxUseAmount", "")
    if not done_url or not _number(stamp) or not _number(max_use):
        return _bad("doneUrl, timestamp, maxUseAmount가 필요합니다.")
    if abs(time.time() - int(stamp)) > settings.SANDBOX_POPUP_MAX_SKEW_SECONDS:
        return _bad("요청 시각이 10분 넘게 차이 납니다.")
    if not wire.constant_time_equal(sig, wire.popup_signature(merchant.hash_key, stamp, done_url)):
        return _bad("서명이 올바르지 않습니다.")
    now = services.now()
    with transaction.atomic():
        previous = request.GET.get("reqTxId", "")
        # locked: an approval taking this reqTxId at this moment (its row lock, state USED) is waited for and seen,
        # never written back to OPEN by this edit
        popup = PopupSession.objects.select_for_update().filter(
            merchant=merchant, req_tx_id=previous, state__in=[PopupState.OPEN, PopupState.OK, PopupState.CANCELLED]
        ).first() if previous else None
        if popup is None and previous and not merchant.extended:
            # the public protocol's provider: a reqTxId whose transaction moved on (approved, aborted, expired) is
            # no choice to edit; it answers ERROR, signed, and the shop opens a new popup
            if PopupSession.objects.filter(merchant=merchant, req_tx_id=previous).exists():
                return redirect(done_url + ("&" if "?" in done_url else "?") + urlencode(wire.done_params(
                    merchant.hash_key, wire.DoneResult("ERROR", previous, 0, 0, 0, 0, 0, 0))))
        if popup is None:
            popup = PopupSession(req_tx_id=services.new_req_tx_id(), merchant=merchant, created_at=now)
        popup.done_url, popup.max_use_won, popup.ncisy = done_url, int(max_use), request.GET.get("Ncisy", "")
        popup.state = PopupState.OPEN
        popup.save()
    return redirect("popup", req_tx_id=popup.req_tx_id)


def _done_redirect(popup: PopupSession, result: wire.DoneResult) -> HttpResponse:
    sep = "&" if "?" in popup.done_url else "?"
    return redirect(popup.done_url + sep + urlencode(wire.done_params(popup.merchant.hash_key, result)))


@require_http_methods(["GET", "POST"])
def popup(request: HttpRequest, req_tx_id: str) -> HttpResponse:
    session = get_object_or_404(PopupSession.objects.select_related("merchant"), req_tx_id=req_tx_id)
    if session.state != PopupState.OPEN:
        return _bad("이미 완료된 요청입니다.")
    now = services.now()
    buyer = Buyer.objects.filter(pk=request.session.get(BUYER_SESSION_KEY)).first()
    error = ""
    action = request.POST.get("action", "")
    if request.method == "POST" and action == "login":
        candidate = Buyer.objects.filter(login_id=request.POST.get("login_id", "")).first()
        if candidate and candidate.check_password(request.POST.get("password", "")):
            request.session[BUYER_SESSION_KEY] = candidate.pk
            return redirect("popup", req_tx_id=req_tx_id)
        error = "아이디 또는 비밀번호가 올바르지 않습니다."
    elif request.method == "POST" and action == "logout":
        request.session.pop(BUYER_SESSION_KEY, None)
        return redirect("popup", req_tx_id=req_tx_id)
    base_rate = services.base_rate(session.merchant, now)
    add_rate = services.extra_rate(session.ncisy, now)
    if request.method == "POST" and action == "cancel":
        # only an open popup is cancelled: a choice an approval used meanwhile stays used
        if not PopupSession.objects.filter(pk=session.pk, state=PopupState.OPEN).update(
                state=PopupState.CANCELLED, completed_at=now):
            return _bad("이미 완료된 요청입니다.")
        return _done_redirect(session, wire.DoneResult("CANCEL", session.req_tx_id, base_rate, add_rate, 0, 0, 0, 0))
    bal = None
    if buyer is not None:
        if request.method == "POST" and action == "confirm":
            try:
                use = rules.parse_use(request.POST.get("use", ""))
                with transaction.atomic():
                    bal = services.popup_hold(session, buyer, use, base_rate, add_rate, now)
            except rules.RuleError as exc:
                error = str(exc)
            else:
                return _done_redirect(session, wire.DoneResult(
                    "OK", session.req_tx_id, base_rate, add_rate, use, 0, use, bal.available_won))
        with transaction.atomic():
            services.expire_unpaid(now, buyer)
        bal = services.balance(buyer, now)
    return render(request, "sandbox/popup.html", {
        "session": session, "merchant": session.merchant, "buyer": buyer, "balance": bal, "error": error,
        "base_rate": wire.rate_to_wire(base_rate), "add_rate": wire.rate_to_wire(add_rate) if add_rate else "",
        "max_use": min(session.max_use_won, bal.available_won) if bal else session.max_use_won,
        # E4: holding 500,000원 or more (available + pending), the buyer can only use
        "use_only": bal is not None and rules.can_only_use(available_won=bal.available_won,
                                                           pending_won=bal.pending_won, held_won=bal.held_won),
        "MIN_USE_WON": MIN_USE_WON, "MAX_EARN_PER_ORDER_WON": ORDER_EARN_CAP_WON,
        "MAX_BALANCE_PER_BUYER_WON": BUYER_HOLDING_CAP_WON, "PENDING_DAYS": PENDING_DAYS,
    }, status=200 if not error else 400)
