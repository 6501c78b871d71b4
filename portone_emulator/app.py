"""The emulator's WSGI application. NOT PortOne: a stand-in answering like PortOne V2's REST API.

Routes the server SDK calls (header `Authorization: PortOne <secret>`):
- POST /payments/{id}/pre-register — the amount the shop expects; the window refuses any other amount.
- GET  /payments/{id}               — the payment (READY, VIRTUAL_ACCOUNT_ISSUED, PAID, PARTIAL_CANCELLED, CANCELLED,
  FAILED).
- POST /payments/{id}/confirm       — manual confirm (capture) of an authenticated payment, with its token.
- POST /payments/{id}/cancel        — whole or partial cancel, `currentCancellableAmount` checked when given; refused by
  the PG (PG_PROVIDER) as a real one does for a part of a TRANSFER or MOBILE payment, and for a MOBILE payment
  after its payment day (Asia/Seoul).
- POST /payments/{id}/virtual-account/close — 가상계좌 말소: an issued account takes no deposit any more (CANCELLED).
The payment window (what the browser SDK opens; the page and the stand-in browser script: window.py):
- GET  /v2/browser-sdk.js, GET /window — the stand-in of PortOne's browser script and its window page.
- POST /window/payments/{id}        — the buyer authenticates {totalAmount, currency, orderName}: a paymentToken; with
  {payMethod: VIRTUAL_ACCOUNT, dueDate, bank} a 가상계좌 is issued instead (VIRTUAL_ACCOUNT_ISSUED, no token: nothing
  to confirm, the deposit pays it).
Test controls, only with PORTONE_EMULATOR_TEST_CONTROLS=1:
- POST /_test/decline-next-confirm  — the next confirm is refused by the card company.
- POST /_test/delay                 — {seconds}: every answer waits that long (a slow PG).
- POST /_test/payments/{id}/paid-at — {paidAt}: when the payment was paid (a mobile payment made yesterday).
- POST /_test/payments/{id}/webhook — {type}: a webhook for the payment, signed with the webhook secret, returned
  as {body, headers} for the caller to deliver (the emulator does not call the shop itself).
- POST /_test/payments/{id}/deposit — the buyer deposits into the payment's 가상계좌: PAID, and a signed
  `Transaction.Paid` webhook, returned as {body, headers} and, when a webhook URL is set, sent there ({delivered}:
  the shop's HTTP status, 0 when it did not answer).
- POST /_test/webhook-url           — {url}: where the deposit's webhook is sent (empty: nowhere; at start,
  PORTONE_EMULATOR_WEBHOOK_URL).
"""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import unquote

from . import cash_receipts
from . import window as window_page
from .answers import error as _error
from .answers import now as _now

SECRET = os.environ.get("PORTONE_EMULATOR_API_SECRET", "emulator-secret")
STORE_ID = os.environ.get("PORTONE_EMULATOR_STORE_ID", "store-emulator")
WEBHOOK_SECRET = os.environ.get("PORTONE_EMULATOR_WEBHOOK_SECRET",
                                "whsec_" + base64.b64encode(b"emulator-webhook-secret").decode())
TEST_CONTROLS = os.environ.get("PORTONE_EMULATOR_TEST_CONTROLS", "") == "1"
# the 예금주 of the virtual accounts the emulator issues (a PG issues them in the merchant's registered name)
MERCHANT_NAME = os.environ.get("PORTONE_EMULATOR_MERCHANT_NAME", "에뮬레이터상점")
VIRTUAL_ACCOUNT_DAYS = 7  # the PG's own deadline when the window asks none

_lock = threading.Lock()
_payments: dict[str, dict] = {}
# where the deposit test control sends its webhook (PORTONE_EMULATOR_WEBHOOK_URL, or /_test/webhook-url)
WEBHOOK_URL = os.environ.get("PORTONE_EMULATOR_WEBHOOK_URL", "")
_controls = {"decline_next_confirm": False, "delay": 0.0, "webhook_url": WEBHOOK_URL}
SEOUL = timezone(timedelta(hours=9))  # the PGs' business day (no DST in Korea)
PAY_METHODS = ("CARD", "TRANSFER", "MOBILE", "VIRTUAL_ACCOUNT")
_METHOD_JSON = {"CARD": {"type": "PaymentMethodCard", "card": {}},
                "TRANSFER": {"type": "PaymentMethodTransfer", "bank": "SHINHAN"},
                "MOBILE": {"type": "PaymentMethodMobile", "phoneNumber": "01012345678"}}


def _payment_json(p: dict) -> dict:
    """A payment in the shape of PortOne's Payment union (the fields the SDK requires for each status)."""
    total, cancelled = p["total"], sum(c["totalAmount"] for c in p["cancellations"])
    paid = total if p.get("paidAt") else 0
    body = {
        "status": p["status"], "id": p["id"], "transactionId": p["txId"], "merchantId": "merchant-emulator",
        "storeId": STORE_ID, "version": "V2", "requestedAt": p["requestedAt"], "updatedAt": p["updatedAt"],
        "statusChangedAt": p["updatedAt"], "orderName": p["orderName"],
        "amount": {"total": total, "taxFree": 0, "vat": total // 11, "supply": total - total // 11, "discount": 0,
                   "paid": paid, "cancelled": cancelled, "cancelledTaxFree": 0},
        "currency": p["currency"], "customer": {}, "origin": {"platformType": "PC", "ipAddress": "127.0.0.1"},
        "channel": {"type": "TEST", "id": "channel-emulator", "key": "channel-key-emulator", "name": "emulator",
                    "pgProvider": "TOSSPAYMENTS", "pgMerchantId": "tosstest"},
        "method": p.get("account") or _METHOD_JSON[p.get("payMethod", "CARD")],
        "disputes": [], "webhooks": [],
    }
    if p.get("paidAt"):
        body["paidAt"], body["pgTxId"] = p["paidAt"], p["pgTxId"]
    elif p["status"] == "VIRTUAL_ACCOUNT_ISSUED":
        body["pgTxId"] = p["pgTxId"]
    if p["status"] in ("PARTIAL_CANCELLED", "CANCELLED"):
        body["cancellations"] = [dict(c) for c in p["cancellations"]]
        body["cancelledAt"] = p["cancellations"][-1]["cancelledAt"] if p["cancellations"] else p["closedAt"]
    if p["status"] == "FAILED":
        body["failedAt"] = p["updatedAt"]
        body["failure"] = {"reason": p.get("failure", ""), "pgCode": "DECLINED", "pgMessage": p.get("failure", "")}
    return body


def pre_register(payment_id: str, body: dict):
    with _lock:
        p = _payments.get(payment_id)
        if p is not None and p["status"] != "READY":
            return _error(409, "ALREADY_PAID", "이미 결제가 완료된 결제건입니다.")
        _payments[payment_id] = {
            "id": payment_id, "status": "READY", "total": int(body.get("totalAmount", 0)),
            "currency": body.get("currency", "KRW"), "preRegistered": True, "txId": "", "token": "",
            "orderName": "", "requestedAt": _now(), "updatedAt": _now(), "cancellations": [],
        }
    return 200, {}


def window(payment_id: str, body: dict):
    """The buyer authenticates in the payment window (manual confirm: nothing is charged yet)."""
    total, currency = int(body.get("totalAmount", -1)), body.get("currency", "KRW")
    pay_method = body.get("payMethod", "CARD")
    if pay_method not in PAY_METHODS:
        return _error(400, "INVALID_REQUEST", "지원하지 않는 결제수단입니다.")
    with _lock:
        p = _payments.get(payment_id)
        if p is not None and p["preRegistered"] and (p["total"] != total or p["currency"] != currency):
            return _error(400, "INVALID_REQUEST", "사전 등록된 결제 정보와 일치하지 않습니다.")
        if p is not None and p["status"] != "READY":
            return _error(409, "ALREADY_PAID", "이미 결제가 완료된 결제건입니다.")
        if p is None:
            p = _payments[payment_id] = {"id": payment_id, "status": "READY", "total": total, "currency": currency,
                                         "preRegistered": False, "requestedAt": _now(), "cancellations": []}
        p.update(txId=f"tx-{secrets.token_hex(8)}", token=f"ptok-{secrets.token_hex(12)}",
                 orderName=body.get("orderName", ""), payMethod=pay_method, updatedAt=_now())
        if pay_method == "VIRTUAL_ACCOUNT":  # issued at once; nothing to confirm, the deposit pays it
            p.update(status="VIRTUAL_ACCOUNT_ISSUED", token="", pgTxId=f"pg-{secrets.token_hex(6)}",
                     account=_virtual_account(str(body.get("bank") or "SHINHAN"), str(body.get("dueDate") or "")))
            return 200, {"paymentId": payment_id, "txId": p["txId"]}
        return 200, {"paymentId": payment_id, "txId": p["txId"], "paymentToken": p["token"]}


def _virtual_account(bank: str, due_date: str) -> dict:
    """A 가상계좌 as PortOne's PaymentMethodVirtualAccount: the bank's code, a fresh number, the merchant's name, and
    the deadline the window asked (RFC 3339; the PG's own when none or unreadable)."""
    try:
        due = datetime.fromisoformat(due_date.replace("Z", "+00:00"))
        due = due if due.tzinfo else due.replace(tzinfo=UTC)
    except ValueError:
        due = datetime.now(UTC) + timedelta(days=VIRTUAL_ACCOUNT_DAYS)
    number = f"{secrets.randbelow(900) + 100}-{secrets.randbelow(900_000) + 100_000}-{secrets.randbelow(90_000) + 10_000}"
    return {"type": "PaymentMethodVirtualAccount", "bank": bank if bank.isascii() and bank.isupper() else "SHINHAN",
            "accountType": "FIXED", "accountNumber": number, "remitteeName": MERCHANT_NAME,
            "expiredAt": due.astimezone(UTC).isoformat().replace("+00:00", "Z"), "issuedAt": _now()}


def get_payment(payment_id: str):
    with _lock:
        p = _payments.get(payment_id)
        if p is None:
            return _error(404, "PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다.")
        return 200, _payment_json(p)


def confirm(payment_id: str, body: dict):
    with _lock:
        p = _payments.get(payment_id)
        if p is None:
            return _error(404, "PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다.")
        if p["status"] != "READY":
            return _error(409, "ALREADY_PAID", "이미 결제가 완료된 결제건입니다.")
        if not p.get("token") or body.get("paymentToken") != p["token"]:
            return _error(400, "INVALID_PAYMENT_TOKEN", "유효하지 않은 결제 토큰입니다.")
        if ("totalAmount" in body and body["totalAmount"] != p["total"]) or (
                "currency" in body and body["currency"] != p["currency"]):
            return _error(400, "INVALID_REQUEST", "결제 금액 또는 통화가 일치하지 않습니다.")
        if _controls["decline_next_confirm"]:
            _controls["decline_next_confirm"] = False
            p.update(status="FAILED", failure="카드사 승인 거절", updatedAt=_now())
            return 400, {"type": "PG_PROVIDER", "message": "카드사에서 승인을 거절했습니다.", "pgCode": "DECLINED",
                         "pgMessage": "승인 거절"}
        p.update(status="PAID", paidAt=_now(), pgTxId=f"pg-{secrets.token_hex(6)}", updatedAt=_now())
        return 200, {"pgTxId": p["pgTxId"], "paidAt": p["paidAt"]}


def cancel(payment_id: str, body: dict):
    with _lock:
        p = _payments.get(payment_id)
        if p is None:
            return _error(404, "PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다.")
        if p["status"] == "CANCELLED":
            return _error(409, "PAYMENT_ALREADY_CANCELLED", "이미 취소된 결제 건입니다.")
        if p["status"] not in ("PAID", "PARTIAL_CANCELLED"):
            return _error(409, "PAYMENT_NOT_PAID", "결제가 완료되지 않은 결제 건입니다.")
        left = p["total"] - sum(c["totalAmount"] for c in p["cancellations"])
        if "currentCancellableAmount" in body and body["currentCancellableAmount"] != left:
            return _error(409, "CANCELLABLE_AMOUNT_CONSISTENCY_BROKEN", "취소 가능 잔액 검증에 실패하였습니다.")
        amount = int(body.get("amount", left))
        if amount <= 0 or amount > left:
            return _error(409, "CANCEL_AMOUNT_EXCEEDS_CANCELLABLE_AMOUNT", "결제 취소 금액이 취소 가능 금액을 초과합니다.")
        refused = _pg_refuses(p, amount, left)
        if refused:
            return 400, {"type": "PG_PROVIDER", "message": refused, "pgCode": "CANCEL_NOT_ALLOWED",
                         "pgMessage": refused}
        now = _now()
        cancellation = {"status": "SUCCEEDED", "id": f"cancel-{secrets.token_hex(6)}", "pgCancellationId":
                        f"pgc-{secrets.token_hex(6)}", "totalAmount": amount, "taxFreeAmount": 0,
                        "vatAmount": amount // 11, "reason": body.get("reason", ""), "requestedAt": now,
                        "cancelledAt": now, "trigger": "API"}
        p["cancellations"].append(cancellation)
        p.update(status="CANCELLED" if amount == left else "PARTIAL_CANCELLED", updatedAt=now)
        return 200, {"cancellation": cancellation}


def close_virtual_account(payment_id: str):
    """가상계좌 말소: an issued account takes no deposit any more (a paid or closed one is not waiting for one)."""
    with _lock:
        p = _payments.get(payment_id)
        if p is None:
            return _error(404, "PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다.")
        if p["status"] != "VIRTUAL_ACCOUNT_ISSUED":
            return _error(409, "PAYMENT_NOT_WAITING_FOR_DEPOSIT", "입금 대기 중인 결제 건이 아닙니다.")
        now = _now()
        p.update(status="CANCELLED", closedAt=now, updatedAt=now)
        return 200, {"closedAt": now}


def _pg_refuses(p: dict, amount: int, left: int) -> str:
    """What the PG behind PortOne answers to a cancel it does not take: a transfer or a mobile payment is cancelled
    whole only, a mobile payment on its payment day only (Korean business day)."""
    method = p.get("payMethod", "CARD")
    if method == "MOBILE":
        paid_day = datetime.fromisoformat(p["paidAt"]).astimezone(SEOUL).date()
        if paid_day != datetime.now(SEOUL).date():
            return "휴대폰 결제는 결제 당일에만 취소할 수 있습니다."
    if method in ("TRANSFER", "MOBILE") and amount < left:
        return "부분취소가 지원되지 않는 결제수단입니다."
    return ""


def paid_at(payment_id: str, body: dict):
    with _lock:
        p = _payments.get(payment_id)
        if p is None or "paidAt" not in p:
            return _error(404, "PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다.")
        p["paidAt"] = datetime.fromisoformat(str(body["paidAt"])).astimezone(UTC).isoformat().replace("+00:00", "Z")
    return 200, {}


def sign(body: str, *, secret: str = WEBHOOK_SECRET, msg_id: str = "", timestamp: int | None = None) -> dict:
    """Standard Webhooks headers for `body`: v1,base64(HMAC-SHA256(secret, f"{id}.{timestamp}.{body}"))."""
    msg_id = msg_id or f"msg_{secrets.token_hex(12)}"
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    raw = base64.b64decode(secret.removeprefix("whsec_"))
    signature = base64.b64encode(hmac.new(raw, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest())
    return {"webhook-id": msg_id, "webhook-timestamp": timestamp, "webhook-signature": f"v1,{signature.decode()}"}


def webhook(payment_id: str, body: dict):
    kind = body.get("type", "Transaction.Paid")
    with _lock:
        p = _payments.get(payment_id)
        tx = p["txId"] if p else f"tx-{secrets.token_hex(8)}"
        cancellations = list(p["cancellations"]) if p else []
    data = {"paymentId": payment_id, "storeId": STORE_ID, "transactionId": tx}
    if "Cancel" in kind:  # the cancel webhooks name the cancellation
        data["cancellationId"] = cancellations[-1]["id"] if cancellations else f"cancel-{secrets.token_hex(6)}"
    payload = json.dumps({"type": kind, "timestamp": _now(), "data": data})
    return 200, {"body": payload, "headers": sign(payload)}


def deposit(payment_id: str, body: dict):
    """The buyer deposits into the 가상계좌 (test control): PAID, and the signed `Transaction.Paid` webhook."""
    with _lock:
        p = _payments.get(payment_id)
        if p is None:
            return _error(404, "PAYMENT_NOT_FOUND", "결제 건이 존재하지 않습니다.")
        if p["status"] != "VIRTUAL_ACCOUNT_ISSUED":
            return _error(409, "PAYMENT_NOT_WAITING_FOR_DEPOSIT", "입금 대기 중인 결제 건이 아닙니다.")
        p.update(status="PAID", paidAt=_now(), updatedAt=_now())
        url = _controls["webhook_url"]
    status, signed = webhook(payment_id, {"type": "Transaction.Paid"})
    signed["delivered"] = _deliver(url, signed) if url else None
    return status, signed


def _deliver(url: str, signed: dict) -> int:
    """Send a signed webhook to the shop, as PortOne does: its HTTP status, 0 when it did not answer."""
    request = urllib.request.Request(url, data=signed["body"].encode(), method="POST",
                                     headers={"Content-Type": "application/json", **signed["headers"]})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


ROUTES = [
    ("POST", re.compile(r"^/payments/(?P<id>[^/]+)/pre-register$"), pre_register, True),
    ("GET", re.compile(r"^/payments/(?P<id>[^/]+)$"), get_payment, False),
    ("POST", re.compile(r"^/payments/(?P<id>[^/]+)/confirm$"), confirm, True),
    ("POST", re.compile(r"^/payments/(?P<id>[^/]+)/cancel$"), cancel, True),
    ("POST", re.compile(r"^/payments/(?P<id>[^/]+)/virtual-account/close$"), close_virtual_account, False),
    ("POST", re.compile(r"^/cash-receipts(?P<id>)$"), cash_receipts.issue, True),
    ("POST", re.compile(r"^/payments/(?P<id>[^/]+)/cash-receipt/cancel$"), cash_receipts.cancel, False),
]
WINDOW = ("POST", re.compile(r"^/window/payments/(?P<id>[^/]+)$"), window, True)
TEST_ROUTES = [("POST", re.compile(r"^/_test/payments/(?P<id>[^/]+)/webhook$"), webhook, True),
               ("POST", re.compile(r"^/_test/payments/(?P<id>[^/]+)/deposit$"), deposit, True),
               ("POST", re.compile(r"^/_test/payments/(?P<id>[^/]+)/paid-at$"), paid_at, True)]


def _control(path: str, body: dict):
    if path == "/_test/decline-next-confirm":
        _controls["decline_next_confirm"] = True
    elif path == "/_test/delay":
        _controls["delay"] = float(body.get("seconds", 0))
    elif path == "/_test/webhook-url":
        _controls["webhook_url"] = str(body.get("url", ""))
    elif path == "/_test/reset":
        with _lock:
            _payments.clear()
        cash_receipts.reset()
        _controls.update(decline_next_confirm=False, delay=0.0, webhook_url=WEBHOOK_URL)
    else:
        return None
    return 200, {}


def _dispatch(method: str, path: str, auth: str, body: dict):
    if path.startswith("/_test/"):
        if not TEST_CONTROLS:
            return _error(404, "NOT_FOUND", "not found")
        for verb, pattern, handler, _with_body in TEST_ROUTES:
            if (m := pattern.match(path)) and method == verb:
                return handler(m["id"], body)
        return _control(path, body) or _error(404, "NOT_FOUND", "not found")
    verb, pattern, handler, _with_body = WINDOW
    if (m := pattern.match(path)) and method == verb:
        return handler(m["id"], body)
    if auth != f"PortOne {SECRET}":
        return _error(401, "UNAUTHORIZED", "인증 정보가 올바르지 않습니다.")
    for verb, pattern, handler, with_body in ROUTES:
        if (m := pattern.match(path)) and method == verb:
            return handler(m["id"], body) if with_body else handler(m["id"])
    return _error(404, "NOT_FOUND", "not found")


def application(environ, start_response):
    if _controls["delay"]:
        time.sleep(_controls["delay"])
    page = window_page.serve(environ["REQUEST_METHOD"], unquote(environ.get("PATH_INFO", "")),
                             environ.get("QUERY_STRING", ""), STORE_ID)
    if page is not None:  # the browser script and the window page (portone_emulator/window.py)
        _status, content_type, data = page
        start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(data))),
                                  ("Cache-Control", "no-store")])
        return [data]
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        body = json.loads(raw) if raw else {}
        if not isinstance(body, dict):
            raise ValueError
    except ValueError:
        status, answer = _error(400, "INVALID_REQUEST", "요청 본문이 올바른 JSON이 아닙니다.")
    else:
        try:
            status, answer = _dispatch(environ["REQUEST_METHOD"], unquote(environ.get("PATH_INFO", "")),
                                       environ.get("HTTP_AUTHORIZATION", ""), body)
        except (TypeError, ValueError, KeyError):  # a body of the wrong types: a 400 in PortOne's shape
            status, answer = _error(400, "INVALID_REQUEST", "요청 값이 올바르지 않습니다.")
    data = json.dumps(answer, ensure_ascii=False).encode()
    start_response(f"{status} {'OK' if status == 200 else 'Error'}",
                   [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(data)))])
    return [data]
