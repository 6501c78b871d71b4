"""The emulator's 현금영수증 routes, in the shapes portone-server-sdk's CashReceiptClient parses: issue
(POST /cash-receipts; one receipt per paymentId, a second one answered CASH_RECEIPT_ALREADY_ISSUED) and cancel by
payment (POST /payments/{id}/cash-receipt/cancel; CASH_RECEIPT_NOT_ISSUED when there is none)."""

import secrets
import threading

from .answers import error, now

_receipts: dict[str, dict] = {}
_lock = threading.Lock()


def issue(_unused: str, body: dict):
    payment_id, total = body["paymentId"], body["amount"]["total"]
    if body["type"] not in ("PERSONAL", "CORPORATE") or not isinstance(total, int) or total <= 0:
        raise ValueError("bad cash receipt")
    if body.get("currency") != "KRW" or not body["customer"]["identityNumber"]:
        raise ValueError("bad cash receipt")
    with _lock:
        if payment_id in _receipts and _receipts[payment_id]["status"] == "ISSUED":
            return error(409, "CASH_RECEIPT_ALREADY_ISSUED", "이미 발급된 현금영수증입니다.")
        number = f"{secrets.randbelow(10**9):09d}"
        _receipts[payment_id] = {"status": "ISSUED", "issueNumber": number, "total": total}
    return 200, {"cashReceipt": {"issueNumber": number, "url": f"https://receipt.example/{number}",
                                 "pgReceiptId": f"pg-{number}"}}


def cancel(payment_id: str):
    with _lock:
        receipt = _receipts.get(payment_id)
        if receipt is None or receipt["status"] != "ISSUED":
            return error(404, "CASH_RECEIPT_NOT_ISSUED", "발급되지 않은 현금영수증입니다.")
        receipt["status"] = "CANCELLED"
    return 200, {"cancelledAmount": receipt["total"], "cancelledAt": now()}


def reset() -> None:
    with _lock:
        _receipts.clear()
