"""주문상세정보's payment buttons (manual §7, §8): 카드결제취소 / 카드부분취소, 계좌이체취소, 휴대폰결제취소, and
현금영수증 재발급."""

import uuid

from django import forms
from django.contrib import messages
from django.db.models import Sum
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from portal.orders import cash_receipts
from portal.orders.models import CashReceiptStatus, Order, OrderStatus
from portal.orders.money import (
    REFUND_PAYOUT,
    STANDING_ORDER_REFUNDS,
    PaymentActionError,
    cancel_refusal_text,
    cancellable_won,
    charge_view,
    is_standing,
    payment_cancel,
    still_charged_won,
)
from portal.parsing import StrictIntegerField

from .access import OperatorRequiredMixin
from .forms import WonInput


class PaymentCancelForm(forms.Form):
    amount_won = StrictIntegerField(label=gettext_lazy("취소금액"), min_value=1, max_value=10**12, widget=WonInput)
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)


def payment_cancel_context(order: Order) -> dict:
    """What the order detail shows: each gateway payment with its cancels and, if any is left, the form (whose key is
    drawn when the page is shown, so a second press of the same button does nothing)."""
    rows = []
    waiting = order.refunds.filter(status="before").aggregate(s=Sum(REFUND_PAYOUT))["s"] or 0
    for payment in order.payments.prefetch_related("cancels__created_by"):
        left, charged = cancellable_won(payment), still_charged_won(payment)
        cancels = list(payment.cancels.all())
        view = charge_view(payment, cancels)
        # a 결제취소 the PG refuses whatever the amount (a part of a transfer or of a mobile payment, a mobile payment
        # past its day) is no button: the page says why, and nothing is cancellable here
        refused = cancel_refusal_text(payment, left, view.at_gateway_won)
        if refused:
            left = 0
        rows.append({"payment": payment, "cancels": cancels, "left": left, "view": view, "refused": refused,
                     "charged": charged, "waiting": waiting if charged else 0,
                     "form": PaymentCancelForm(initial={"amount_won": left, "key": uuid.uuid4().hex}) if left else None})
    # the goods are still owed or with the buyer, yet nothing of the money is charged any more (결제취소 of the whole
    # charge): the order and its mileage are settled only by 주문취소 or a return, which the page says
    live = order.status in (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED, OrderStatus.CONFIRMED)
    nothing_charged = bool(live and order.payable_won and rows and not waiting
                           and all(not row["charged"] for row in rows))
    # a standing order's charge goes back through 주문취소 or a return, which the section says instead of a button
    refund_instead = is_standing(order) and any(row["charged"] and not row["left"] for row in rows)
    return {"payment_rows": rows, "nothing_charged": nothing_charged,
            "refund_instead": STANDING_ORDER_REFUNDS if refund_instead else "",
            "cash_receipts_to_settle": any(r.awaits_settling for r in cash_receipts_of_order(order))}


def cash_receipts_of_order(order: Order) -> list:
    return [receipt for payment in order.payments.all() for receipt in payment.cash_receipts.all()]


class CashReceiptRetryView(OperatorRequiredMixin, View):
    """현금영수증 재발급: a failed receipt asked again with its own key (issued at most once), or the receipt a refund
    left stating too much cancelled and reissued for what is left."""

    def post(self, request, number):
        order = get_object_or_404(Order, number=number)
        settled = [cash_receipts.settle(payment) for payment in order.payments.all()]
        settled = [receipt for receipt in settled if receipt is not None]
        if not settled and not any(r.awaits_settling for r in cash_receipts_of_order(order)):
            messages.info(request, _("다시 발급할 현금영수증이 없습니다."))
        elif settled and all(r.status == CashReceiptStatus.ISSUED for r in settled):
            messages.success(request, _("현금영수증을 발급했습니다. 승인번호 %(numbers)s")
                             % {"numbers": ", ".join(r.approval_number for r in settled)})
        else:
            messages.error(request, _("현금영수증을 발급하지 못했습니다. 사유를 확인하고 다시 눌러 주세요."))
        return redirect("console:order", number=number)


class PaymentCancelView(OperatorRequiredMixin, View):
    def post(self, request, number, payment_id):
        order = get_object_or_404(Order, number=number)
        payment = get_object_or_404(order.payments, pk=payment_id)
        form = PaymentCancelForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("취소금액을 1원 이상의 숫자로 입력해 주세요.") if "amount_won" in form.errors
                           else _("결제취소 양식이 올바르지 않습니다. 주문상세정보를 새로 열어 다시 눌러 주세요."))
            return redirect("console:order", number=number)
        try:
            cancel = payment_cancel(payment=payment, amount_won=form.cleaned_data["amount_won"],
                                    key=form.cleaned_data["key"], by=request.user)
        except PaymentActionError as exc:
            messages.error(request, exc.message)
        else:
            if cancel is None:
                messages.info(request, _("이미 처리된 결제취소입니다."))
            else:
                messages.success(request, _("%(label)s: %(amount)s원을 취소했습니다.")
                                 % {"label": _(cancel.label), "amount": f"{cancel.amount_won:,}"})
                # a transfer's 현금영수증 follows the cash it keeps (a refusal is kept on it for 현금영수증 재발급)
                cash_receipts.after_refund_recorded(payment)
        return redirect("console:order", number=number)
