"""PortOne's webhooks (`/payments/webhooks/portone/`), verified with the SDK's verifier (Standard Webhooks).

Each is stored once by its `webhook-id` before it is answered 2xx; a replay (same id) is answered 200 and applies
nothing. A bad signature is refused 400 and logged without the body; a payment the shop does not know, 404.
The payment is found by the id the checkout recorded (`Payment.gateway_tid`); a payment the shop has not recorded
is answered 404 (PortOne sends it again later). A `Transaction.Paid` for a 가상계좌 waiting for its deposit is the
one webhook that changes the shop's books: the deposit is confirmed (portal.aftersales.deposits) once PortOne, read
back, says the payment is paid; a PortOne that does not answer that read leaves the webhook unkept and answered 409,
so that it is sent again. Idempotent with the browser return, whichever comes first: the
webhook writes nothing to the payment (the checkout records the confirm PortOne answered, 환불완료 the cancels,
ADR 0012), so nothing is applied twice; it is stored with what the shop made of it.
"""

import json
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .gateway_interface import PORTONE_NAME, GatewayUnavailable
from .models import OrderStatus, Payment, PaymentCancelStatus, PaymentMethod, PaymentStatus, PortOneWebhook
from .signals import virtual_account_deposited

log = logging.getLogger(__name__)

HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


def _apply(payment: Payment, kind: str) -> str:
    """What the webhook tells the shop about a payment it recorded. Nothing is written to the payment: the checkout
    and 환불완료 record PortOne's answers themselves (money.py, ADR 0012), so a webhook and the browser return can
    never both apply; a difference from the shop's books is logged for the operator."""
    if kind == "Transaction.Paid" and payment.method == PaymentMethod.VIRTUAL_ACCOUNT:
        # a 가상계좌's deposit: confirmed without an operator once PortOne, read back, says it is paid
        if payment.order.status != OrderStatus.AWAITING_DEPOSIT:
            return f"already recorded ({payment.order.status})"
        answers = [answer for _receiver, answer in virtual_account_deposited.send(sender=Payment, order=payment.order)]
        return "; ".join(str(a) for a in answers) or "noted"
    if kind == "Transaction.Paid":
        return "already recorded" if payment.status != PaymentStatus.WAITING else "checkout under way"
    if kind.startswith("Transaction.") and "Cancel" in kind:
        ours = payment.cancels.filter(status=PaymentCancelStatus.DONE).aggregate(s=Sum("amount_won"))["s"] or 0
        return f"cancel noted (shop's cancels {ours}원)"
    return "noted"


@csrf_exempt
@require_POST
def portone_webhook_receive(request: HttpRequest) -> HttpResponse:
    secret = settings.PORTONE_WEBHOOK_SECRET
    if settings.PAYMENT_GATEWAY != "portone" or not secret:
        return HttpResponse(status=404)
    webhook_id = request.headers.get("webhook-id", "")[:100]
    from portone_server_sdk import webhook as portone_webhook  # ADR 0009: the SDK only where PortOne is used

    try:
        payload = request.body.decode("utf-8")
        event = portone_webhook.verify(secret, payload, {h: request.headers.get(h) for h in HEADERS})
    except (portone_webhook.WebhookVerificationError, UnicodeDecodeError) as exc:
        log.warning("portone webhook %r refused: %s", webhook_id, getattr(exc, "reason", type(exc).__name__))
        return HttpResponse(status=400)
    except (ValueError, KeyError, TypeError) as exc:  # signed, but not a shape the SDK knows
        log.warning("portone webhook %r unreadable: %s", webhook_id, type(exc).__name__)
        return HttpResponse(status=400)
    kind = str(json.loads(payload).get("type", ""))[:60]  # verified: the SDK's classes name it, the payload says it
    if isinstance(event, dict):  # signed, of a shape this SDK version does not know: read as sent
        data = event.get("data")
        payment_id = data.get("paymentId", "") if isinstance(data, dict) else ""
    else:
        payment_id = getattr(getattr(event, "data", None), "payment_id", "") or ""
    payment_id = payment_id if isinstance(payment_id, str) else ""
    payment = (Payment.objects.select_related("order").filter(gateway=PORTONE_NAME, gateway_tid=payment_id).first()
               if payment_id else None)
    if payment is None:
        log.warning("portone webhook %r for an unknown payment %r (%s)", webhook_id, payment_id[:60], kind)
        return HttpResponse(status=404)
    try:
        with transaction.atomic():
            stored, created = PortOneWebhook.objects.get_or_create(
                webhook_id=webhook_id, defaults={"kind": kind[:60], "payment_id": payment_id[:60]})
    except IntegrityError:  # the same webhook at the same moment: the other one applies it
        created = False
    if not created:
        return HttpResponse("already received", status=200)
    try:
        outcome = _apply(payment, kind)
    except GatewayUnavailable:  # PortOne did not answer the read-back: not applied, so not kept; PortOne sends it again
        PortOneWebhook.objects.filter(pk=stored.pk).delete()
        log.warning("portone webhook %r %s %s: PortOne did not answer; asked to send it again", webhook_id, kind,
                    payment_id)
        return HttpResponse("try again later", status=409)
    PortOneWebhook.objects.filter(pk=stored.pk).update(outcome=outcome[:200])
    log.info("portone webhook %r %s %s: %s", webhook_id, kind, payment_id, outcome)
    return HttpResponse("ok", status=200)
