"""Server-to-server endpoints (docs/protocol.md §2, §3): authentication, idempotency, faults, XML/JSON
answers."""

import hashlib
import json
import re
import time
from collections.abc import Callable
from xml.sax.saxutils import escape

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from mileage import wire

from . import services
from .models import EXTENSIONS, ApiCall, Fault, IdempotencyRecord, Merchant, Transaction

SUCCESS, ALREADY_DONE = "1000", "3092"
MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])", re.ASCII)
MESSAGES = {SUCCESS: "성공", ALREADY_DONE: "이미 처리되었습니다."}


def _render(fmt: str, fields: dict, status: int = 200) -> HttpResponse:
    if fmt == "json":
        return HttpResponse(json.dumps({"response": fields}, ensure_ascii=False), status=status,
                            content_type="application/json; charset=utf-8")
    return HttpResponse(_xml(fields), status=status, content_type="application/xml; charset=utf-8")


def _xml_value(value) -> str:
    if isinstance(value, dict):
        return "".join(f"<{k}>{_xml_value(v)}</{k}>" for k, v in value.items())
    if isinstance(value, list):
        return "".join(f"<item>{_xml_value(v)}</item>" for v in value)
    return escape(str(value))


def _xml(fields: dict) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<response>{_xml_value(fields)}</response>'


def _error(fmt: str, code: str, message: str, status: int = 200) -> HttpResponse:
    return _render(fmt, {"resultCode": code, "resultMessage": message}, status)


def tx_fields(tx: Transaction | None, code: str = SUCCESS) -> dict:
    fields = {"resultCode": code, "resultMessage": MESSAGES[code]}
    if tx is not None:
        fields.update({"txId": tx.tx_id, "baseAccumRate": wire.rate_to_wire(tx.base_rate_x10),
                       "addAccumRate": wire.rate_to_wire(tx.add_rate_x10), "baseAccumAmount": tx.earn_won,
                       "mileageUseAmount": tx.use_won, "state": tx.state})
    return fields


def _int(data, name: str, *, required: bool = True, default: int = 0) -> int:
    raw = data.get(name)
    if raw in (None, ""):
        if required:
            raise services.ApiError("2001", f"필수 파라미터 {name}이(가) 없습니다.")
        return default
    try:
        return wire.parse_int(raw, max_length=12)
    except wire.NotANumber:
        raise services.ApiError("2002", f"{name}은(는) 0 이상의 정수여야 합니다.") from None


def _yn(data, name: str) -> bool:
    raw = data.get(name, "")
    if raw not in ("Y", "N"):
        raise services.ApiError("2002" if raw else "2001", f"{name}은(는) Y 또는 N입니다.")
    return raw == "Y"


def _text(data, name: str, *, required: bool = True) -> str:
    raw = data.get(name, "")
    if required and not raw:
        raise services.ApiError("2001", f"필수 파라미터 {name}이(가) 없습니다.")
    return raw


def parse_amounts(data) -> services.Amounts:
    try:
        name = wire.unb64(_text(data, "orderProductName"))
        items = [i.__dict__ for i in wire.decode_items(data.get("items", ""))]
    except (ValueError, UnicodeDecodeError) as exc:
        raise services.ApiError("2002", f"인코딩 오류 (bad base64 or items): {exc}") from exc
    return services.Amounts(
        order_no=_text(data, "orderNo"), product_name=name, qty=_int(data, "qty"),
        order_amount_won=_int(data, "orderAmount"), amount_won=_int(data, "amount"),
        mileage_use_won=_int(data, "mileageUseAmount"), cash_use_won=_int(data, "cashUseAmount", required=False),
        is_member=_yn(data, "isMember"), items=items,
    )


def _authenticate(request: HttpRequest, api_id: str, data, *, public: bool = False) -> Merchant:
    """The merchant of `api_id`, its secret checked (a public call, getAccumRate, needs none: rates are public)."""
    merchant = Merchant.objects.filter(api_id=api_id).first()
    if merchant is None:
        raise services.ApiError("2005", "등록되지 않은 가맹점입니다.")
    if public:
        return merchant
    if not wire.constant_time_equal(data.get("secret", ""), merchant.hash_key):
        raise services.ApiError("2003", "인증에 실패했습니다.")
    if merchant.require_signed_requests and merchant.extended and request.method == "POST":
        stamp = request.headers.get("X-Mileage-Timestamp", "")
        signature = request.headers.get("X-Mileage-Signature", "")
        seconds = _int({"t": stamp}, "t", required=False, default=-1) if stamp else -1
        if seconds < 0 or abs(time.time() - seconds) > settings.SANDBOX_REQUEST_MAX_SKEW_SECONDS:
            raise services.ApiError("2004", "요청 시각이 올바르지 않습니다.")
        expected = wire.request_signature(merchant.hash_key, "POST", request.path, stamp, request.body)
        if not wire.constant_time_equal(signature, expected):
            raise services.ApiError("2004", "요청 서명이 올바르지 않습니다.")
    return merchant


def _take_fault(merchant: Merchant) -> str:
    """Consume one injected fault for this merchant, if any is armed."""
    if not merchant.fault or merchant.fault_remaining <= 0:
        return ""
    with transaction.atomic():
        row = Merchant.objects.select_for_update().get(pk=merchant.pk)
        if not row.fault or row.fault_remaining <= 0:
            return ""
        row.fault_remaining -= 1
        fault = row.fault
        if row.fault_remaining == 0:
            row.fault = Fault.NONE
        row.save(update_fields=["fault", "fault_remaining"])
    return fault


NOT_FOUND_PAGE = "<!doctype html><html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"


def _no_such_route(api_id: str) -> bool:
    """An extension's route for a merchant the sandbox plays the standard provider for: the route does not exist."""
    merchant = Merchant.objects.filter(api_id=api_id).only("profile").first()
    return merchant is None or not merchant.extended


def endpoint(handler: Callable[[Merchant, dict, object], dict], *, method: str = "POST", public: bool = False,
             extension: bool = False):
    """Wrap a call handler: auth, faults, idempotency, the answer, the call log. Only a public call (no
    secret) is a GET: the secret travels in a POST body, never in a URL (docs/protocol.md §2). An extension's
    route answers a web server's 404 page for a merchant of the standard profile, and the standard profile
    ignores Idempotency-Key (a retry is recognised by the transaction's state alone, answering 3092 as the
    public protocol says)."""

    @csrf_exempt
    def view(request: HttpRequest, api_id: str, **kwargs):
        if extension and _no_such_route(api_id):
            return HttpResponseNotFound(NOT_FOUND_PAGE)
        started = time.perf_counter()
        data = request.POST if method == "POST" else request.GET
        fmt = "json" if data.get("format") == "json" else "xml"
        merchant = None
        replayed = False
        code = ""
        try:
            merchant = _authenticate(request, api_id, data, public=public)
            fault = _take_fault(merchant)
            if fault == Fault.HTTP500:
                return HttpResponse("injected failure", status=500)
            if fault == Fault.TIMEOUT:
                time.sleep(merchant.fault_delay_seconds)
            key = request.headers.get("Idempotency-Key", "") if merchant.extended else ""
            body_hash = hashlib.sha256(request.body).hexdigest()
            request_line = f"{request.method} {request.path}"[:250]
            with transaction.atomic():
                # one call at a time per merchant; NO KEY so that a row written meanwhile for the merchant (its
                # foreign key's share lock) never waits on it: the provider's sweep holds buyers, never merchants
                Merchant.objects.select_for_update(no_key=True).get(pk=merchant.pk)
                record = IdempotencyRecord.objects.filter(merchant=merchant, key=key).first() if key else None
                if record is not None:
                    if record.body_hash != body_hash or record.request_line != request_line:
                        raise services.ApiError("2006", "같은 Idempotency-Key에 다른 요청입니다. "
                                                   "(Idempotency-Key reused with another request.)", 422)
                    replayed, code = True, record.result_code
                    response = HttpResponse(record.body, status=record.status_code,
                                            content_type=record.content_type)
                else:
                    now = services.now()
                    try:
                        fields = handler(merchant, data, now, **kwargs)
                    except services.AlreadyDone as done:
                        fields = tx_fields(done.tx, ALREADY_DONE)
                    response, code = _render(fmt, fields), fields["resultCode"]
                    if key:
                        IdempotencyRecord.objects.create(merchant=merchant, key=key, body_hash=body_hash,
                                                         request_line=request_line,
                                                         result_code=code,
                                                         status_code=response.status_code,
                                                         content_type=response["Content-Type"],
                                                         body=response.content.decode())
            if fault == Fault.DROP:
                return HttpResponse("answer dropped after applying", status=503)
        except services.ApiError as err:
            response, code = _error(fmt, err.code, err.message, err.http_status), err.code
        ApiCall.objects.create(merchant=merchant, path=request.path, result_code=code, replayed=replayed,
                               duration_ms=(time.perf_counter() - started) * 1000)
        return response

    view = require_POST(view) if method == "POST" else require_GET(view)
    return view


# --- handlers ------------------------------------------------------------------------------------------------

def handle_payment(merchant, data, now):
    tx = services.approve(merchant, _text(data, "reqTxId"), parse_amounts(data), _yn(data, "isConfirmed"), now)
    return tx_fields(tx)


def handle_abort(merchant, data, now, req_tx_id):
    return tx_fields(services.abort(merchant, req_tx_id, now))


def _on_tx(action):
    def handler(merchant, data, now, tx_id):
        return tx_fields(action(services.lock_tx(merchant, tx_id, now), now))
    return handler


def handle_status(merchant, data, now, req_tx_id):
    """Extension: the state of a reqTxId and, once approved, the transaction standing for it (its txId)."""
    state, tx, popup = services.status(merchant, req_tx_id, now)
    return {**tx_fields(tx), "reqTxId": req_tx_id, "reqTxState": state, "doneUrl": popup.done_url}


def handle_repayment(merchant, data, now, tx_id):
    tx = services.lock_tx(merchant, tx_id, now)
    if not merchant.extended and tx.is_confirmed and not _yn(data, "isConfirmed"):
        # the standard profile takes the field at its word: a paid deal re-approved as unpaid is refused
        raise services.ApiError("2002", "입금 확인된 거래를 isConfirmed=N으로 재승인할 수 없습니다.")
    return tx_fields(services.repayment(tx, parse_amounts(data), now))


def handle_invoice(merchant, data, now, tx_id):
    shipped = _text(data, "shippedDate")
    if len(shipped) != 8 or not (shipped.isascii() and shipped.isdigit()):
        raise services.ApiError("2002", "shippedDate는 YYYYMMDD입니다.")
    fields = {"shippedDate": shipped, "invoiceNo": _text(data, "invoiceNo")}
    for name in ("recipientName", "serviceCompany", "address"):
        try:
            fields[name] = wire.unb64(data.get(name, "")) if data.get(name) else ""
        except (ValueError, UnicodeDecodeError) as exc:
            raise services.ApiError("2002", f"{name}는 base64입니다.") from exc
    recipient = fields["recipientName"]
    if len(recipient) > 2 and set(recipient[1:-1]) != {"*"}:
        raise services.ApiError("2002", "recipientName은 마스킹해야 합니다(홍*동).")
    for name in ("recipientTelNo", "recipientCphNo"):
        if name not in data:
            continue
        if not wire.is_masked_phone(data[name]):
            raise services.ApiError("2002", f"{name}은(는) 가운데 자리를 마스킹한 번호입니다(010-****-5678). 없으면 보내지 "
                                       "않습니다.")
        fields[name] = data[name]
    return tx_fields(services.invoice(services.lock_tx(merchant, tx_id, now), fields, now))


def handle_rates(merchant, data, now):
    report = services.rates_report(merchant, now)
    if not merchant.extended:  # the public protocol's answer (docs/protocol.md §2): the rates and the service status
        return {"resultCode": SUCCESS, "resultMessage": MESSAGES[SUCCESS], "baseAccumRate": report["baseAccumRate"],
                "addAccumRate": report["addAccumRate"], "serviceStatus": report["serviceStatus"]}
    offered = [name for name in EXTENSIONS if name != "join" or settings.SANDBOX_PROFILE == "extended"]
    return {"resultCode": SUCCESS, "resultMessage": MESSAGES[SUCCESS], **report, "extensions": ",".join(offered)}


def handle_settlement(merchant, data, now, month):
    if not MONTH.fullmatch(month):
        raise services.ApiError("2002", "month는 YYYY-MM입니다.")
    return {"resultCode": SUCCESS, "resultMessage": MESSAGES[SUCCESS], **services.settlement(merchant, month)}


payment = endpoint(handle_payment)
abort = endpoint(handle_abort)
status = endpoint(handle_status, extension=True)
stated = endpoint(_on_tx(services.stated))
cancel_stated = endpoint(_on_tx(services.cancel_stated))
cancel = endpoint(_on_tx(services.cancel))
confirmed = endpoint(_on_tx(services.confirmed))
repayment = endpoint(handle_repayment)
invoice = endpoint(handle_invoice)
rates = endpoint(handle_rates, method="GET", public=True)
settlement = endpoint(handle_settlement, extension=True)
