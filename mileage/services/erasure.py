"""Erasing a buyer's personal data from the provider calls the portal keeps (the retention job, portal/retention).

The delivery invoice (배송정보) call carries the recipient's name, phones and address in its payload; once the
order is past its retention period they are replaced by the caller's marker. The call's kind, keys, status, answer
and attempts stay: they are the record that the provider was told. A message still pending is never touched (it
must go out as recorded); the retention job passes such an order by anyway.
"""

from django.db import transaction

from mileage import wire
from mileage.models import OutboxMessage, OutboxStatus
from mileage.models.outbox import OutboxKind

PERSONAL_INVOICE_FIELDS = ("recipient_name", "recipient_tel_no", "recipient_cph_no", "address")

MASKS = {"recipient_name": wire.mask_name, "recipient_tel_no": wire.mask_phone,
         "recipient_cph_no": wire.mask_phone, "address": wire.mask_address}


def masked_invoice_payload(payload: dict) -> dict:
    """The payload as the back office shows it: the invoice recipient masked as the wire masks it (홍*동,
    010-****-5678, the address cut after its 동/읍/면/리); anything else as stored."""
    invoice = (payload or {}).get("invoice")
    if not isinstance(invoice, dict):
        return payload
    shown = {name: MASKS[name](value) if name in MASKS and isinstance(value, str) and value else value
             for name, value in invoice.items()}
    return {**payload, "invoice": shown}


def outbox_erase_personal(*, order_id: int, marker: str) -> int:
    """Replace the personal fields of the order's sent or failed invoice calls by `marker`; how many changed."""
    changed = 0
    with transaction.atomic():
        messages = (OutboxMessage.objects.select_for_update().filter(order_id=order_id, kind=OutboxKind.INVOICE)
                    .exclude(status=OutboxStatus.PENDING).order_by("pk"))
        for message in messages:
            invoice = dict(message.payload.get("invoice") or {})
            erased = {name: marker for name in PERSONAL_INVOICE_FIELDS if invoice.get(name) not in (None, "", marker)}
            if not erased:
                continue
            message.payload = {**message.payload, "invoice": {**invoice, **erased}}
            message.save(update_fields=["payload"])
            changed += 1
    return changed
