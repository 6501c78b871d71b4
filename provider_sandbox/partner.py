"""The partner center (rates, transactions, settlement), the ad-click page (manual §4, docs/protocol.md §5)
and the test controls."""

import json
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from mileage import wire

from . import rules, services
from .constants import BUSINESS_TZ, INFLOW_LIFETIME
from .models import Buyer, Clock, Fault, Merchant, PopupSession, PopupState, Profile, Transaction

PARTNER_SESSION_KEY = "sandbox_partner_api_id"


FONTS = {"NanumSquareR.ttf", "NanumSquareB.ttf"}
FONT_DIR = settings.BASE_DIR / "static" / "fonts"


def font(request: HttpRequest, name: str) -> HttpResponse:
    """The shop's OFL Korean font, so the popup renders Korean on machines without one."""
    if name not in FONTS:
        return HttpResponseBadRequest("unknown font")
    response = FileResponse((FONT_DIR / name).open("rb"), content_type="font/ttf")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "sandbox/home.html", {
        "merchants": Merchant.objects.order_by("api_id"), "now": services.now(), "shop_url": settings.SANDBOX_SHOP_URL,
        "buyers": Buyer.objects.order_by("login_id")[:50], "sign_up": settings.SANDBOX_PROFILE == "extended"})


def partner(request: HttpRequest, api_id: str) -> HttpResponse:
    merchant = get_object_or_404(Merchant, api_id=api_id)
    if request.session.get(PARTNER_SESSION_KEY) != api_id:
        error = ""
        if request.method == "POST":
            if wire.constant_time_equal(request.POST.get("hash_key", ""), merchant.hash_key):
                request.session[PARTNER_SESSION_KEY] = api_id
                return redirect("partner", api_id=api_id)
            error = "해쉬키가 올바르지 않습니다."
        return render(request, "sandbox/partner_login.html", {"merchant": merchant, "error": error},
                      status=400 if error else 200)
    now = services.now()
    message = ""
    if request.method == "POST" and request.POST.get("action") == "rate":
        try:
            rate_x10 = wire.rate_from_wire(request.POST.get("rate", ""))
            if not 1 <= rate_x10 <= 1000:
                raise ValueError
        except ValueError:
            message = "적립률은 0.1%에서 100% 사이, 소수점 한 자리까지입니다."
        else:
            req = services.request_rate(merchant, rate_x10, now)
            message = f"{wire.rate_to_wire(rate_x10)}% 적립률이 {req.effective_from:%Y년 %m월}부터 적용됩니다."
    month = request.GET.get("month") or now.astimezone(BUSINESS_TZ).strftime("%Y-%m")
    rates = services.rates_report(merchant, now)
    report = services.settlement(merchant, month)
    net = report["totals"]["net"]  # earned (the merchant owes it) less used (the provider owes it)
    payer = "가맹점이 네이버에 지급" if net > 0 else "네이버가 가맹점에 지급" if net < 0 else "지급할 금액 없음"
    return render(request, "sandbox/partner.html", {
        "merchant": merchant, "now": now, "message": message, "rates": rates, "month": month,
        "report": report, "balance": abs(net), "payer": payer,
        # the rate requests in business time (Asia/Seoul, as the shop's 적립률 변경 이력 reads them), not the wire's UTC
        "rate_requests": [{"requested_at": r.requested_at, "rate": wire.rate_to_wire(r.rate_x10),
                           "effective_from": r.effective_from} for r in merchant.rate_requests.all()],
        "transactions": Transaction.objects.filter(merchant=merchant).select_related("buyer").order_by("-id")[:100],
        "holds": PopupSession.objects.filter(merchant=merchant, state=PopupState.OK, hold_expires_at__gt=now)
        .select_related("buyer").order_by("hold_expires_at")[:100],
    })


def ad_click(request: HttpRequest, api_id: str) -> HttpResponse:
    """Plays an ad click: mints a signed NaPm token and sends the browser to the shop URL with it."""
    merchant = get_object_or_404(Merchant, api_id=api_id)
    target = request.GET.get("to", "")
    try:
        scheme = urlsplit(target).scheme
    except ValueError:
        scheme = ""
    if scheme not in ("http", "https"):
        return HttpResponseBadRequest("to= must be an http(s) URL of the shop")
    now = services.now()
    extra = request.GET.get("aa")
    try:
        extra_x10 = wire.rate_from_wire(extra) if extra else merchant.ad_extra_rate_x10
    except ValueError:
        return HttpResponseBadRequest("aa= must be a rate such as 5 or 2.5")
    token = wire.mint_napm(
        settings.SANDBOX_PROVIDER_KEY, visited_at=now, channel=request.GET.get("ci", "sandbox-ad"),
        traffic_type=request.GET.get("tr", "sa"), base_rate_x10=services.base_rate(merchant, now),
        extra_rate_x10=extra_x10,
        expires_at=now + INFLOW_LIFETIME)
    sep = "&" if "?" in target else "?"
    return redirect(f"{target}{sep}NaPm={quote(token, safe='')}")


# --- test controls (JSON) ------------------------------------------------------------------------------------

def _json_body(request: HttpRequest) -> dict:
    try:
        return json.loads(request.body or b"{}")
    except json.JSONDecodeError:
        return dict(request.POST.items())


@csrf_exempt
@require_POST
def control_clock(request: HttpRequest) -> JsonResponse:
    data = _json_body(request)
    with transaction.atomic():
        clock, _ = Clock.objects.select_for_update().get_or_create(pk=1)
        if data.get("reset"):
            clock.offset_seconds = 0
        clock.offset_seconds += int(data.get("advance_seconds", 0))
        clock.save()
        expired = services.expire_unpaid(services.now())
    return JsonResponse({"now": services.now().isoformat(), "offset_seconds": clock.offset_seconds,
                         "auto_cancelled": expired})


@csrf_exempt
@require_POST
def control_fault(request: HttpRequest) -> JsonResponse:
    data = _json_body(request)
    merchant = get_object_or_404(Merchant, api_id=data.get("api_id", ""))
    mode = data.get("mode", "")
    if mode not in Fault.values:
        return JsonResponse({"error": f"mode must be one of {Fault.values}"}, status=400)
    merchant.fault, merchant.fault_remaining = mode, int(data.get("count", 1)) if mode else 0
    merchant.fault_delay_seconds = float(data.get("delay", merchant.fault_delay_seconds))
    merchant.save(update_fields=["fault", "fault_remaining", "fault_delay_seconds"])
    return JsonResponse({"api_id": merchant.api_id, "fault": merchant.fault, "remaining": merchant.fault_remaining})


def _profile(value: str) -> str:
    if value not in Profile.values:
        raise Http404(f"unknown profile {value!r}")
    return value


@csrf_exempt
@require_POST
def control_merchant(request: HttpRequest) -> JsonResponse:
    data = _json_body(request)
    merchant, _ = Merchant.objects.update_or_create(api_id=data["api_id"], defaults={
        "hash_key": data["hash_key"], "name": data.get("name", data["api_id"]),
        "initial_rate_x10": wire.rate_from_wire(str(data.get("rate", "1"))),
        "ad_extra_rate_x10": wire.rate_from_wire(str(data.get("ad_extra_rate", "5"))),
        "require_signed_requests": bool(data.get("require_signed_requests", False)),
        "holds_popup_use": bool(data.get("holds_popup_use", True)),
        "service_status": data.get("service_status", "ACTIVE"),
        "profile": _profile(data.get("profile", settings.SANDBOX_PROFILE)),
    })
    return JsonResponse({"api_id": merchant.api_id})


@csrf_exempt
@require_POST
def control_buyer(request: HttpRequest) -> JsonResponse:
    data = _json_body(request)
    buyer, _ = Buyer.objects.get_or_create(login_id=data["login_id"], defaults={"name": data.get("name", "")})
    buyer.name = data.get("name", buyer.name or data["login_id"])
    buyer.opening_balance_won = int(data.get("opening_balance", buyer.opening_balance_won))
    buyer.set_password(data.get("password", "demo1234!"))
    buyer.save()
    return JsonResponse({"login_id": buyer.login_id})


@csrf_exempt
@require_POST
def control_popup(request: HttpRequest) -> JsonResponse:
    """Seed a completed popup (the buyer chose `use`) and answer the signed doneUrl parameters, as the popup's
    redirect would carry them: for load tests that cannot drive a browser per order."""
    data = _json_body(request)
    merchant = get_object_or_404(Merchant, api_id=data.get("api_id", ""))
    buyer = get_object_or_404(Buyer, login_id=data.get("login_id", ""))
    now = services.now()
    use = int(data.get("use", 0))
    base, add = services.base_rate(merchant, now), services.extra_rate(data.get("ncisy", ""), now)
    popup = PopupSession(req_tx_id=services.new_req_tx_id(), merchant=merchant, done_url=data.get("done_url", ""),
                         max_use_won=int(data.get("max_use", use)), ncisy=data.get("ncisy", ""), created_at=now)
    try:
        with transaction.atomic():
            popup.save()
            bal = services.popup_hold(popup, buyer, use, base, add, now)
    except rules.RuleError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    result = wire.DoneResult("OK", popup.req_tx_id, base, add, use, 0, use, bal.available_won)
    return JsonResponse(wire.done_params(merchant.hash_key, result))


def control_balance(request: HttpRequest, login_id: str) -> JsonResponse:
    buyer = get_object_or_404(Buyer, login_id=login_id)
    now = services.now()
    with transaction.atomic():
        services.expire_unpaid(now, buyer)
    bal = services.balance(buyer, now)
    return JsonResponse({"login_id": login_id, "available": bal.available_won, "pending": bal.pending_won,
                         "held": bal.held_won,
                         "transactions": [
                             {"txId": t.tx_id, "orderNo": t.order_no, "state": t.state, "use": t.use_won,
                              "earn": t.earn_won, "amount": t.amount_won, "baseRate": t.base_rate_x10,
                              "addRate": t.add_rate_x10}
                             for t in buyer.transactions.order_by("id")]})
