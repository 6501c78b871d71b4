"""주문상세정보's payment buttons (manual §7, §8): 카드결제취소 / 카드부분취소, 계좌이체취소, 휴대폰결제취소."""

import uuid

from django import forms
from django.contrib import messages
from django.db.models import Sum
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from portal.orders.models import Order
from portal.orders.money import PaymentActionError, cancellable_won, payment_cancel, still_charged_won
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
    waiting = order.refunds.filter(status="before").aggregate(s=Sum("cash_won"))["s"] or 0
    for payment in order.payments.prefetch_related("cancels__created_by"):
        left, charged = cancellable_won(payment), still_charged_won(payment)
        rows.append({"payment": payment, "cancels": list(payment.cancels.all()), "left": left,
                     "charged": charged, "waiting": waiting if charged else 0,
                     "form": PaymentCancelForm(initial={"amount_won": left, "key": uuid.uuid4().hex}) if left else None})
    return {"payment_rows": rows}


class PaymentCancelView(OperatorRequiredMixin, View):
    def post(self, request, number, payment_id):
        order = get_object_or_404(Order, number=number)
        payment = get_object_or_404(order.payments, pk=payment_id)
        form = PaymentCancelForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("취소금액을 1원 이상의 숫자로 입력해 주세요."))
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
        return redirect("console:order", number=number)
