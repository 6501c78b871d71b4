from django import forms
from django.utils.translation import gettext_lazy as _

from portal.aftersales.models import RefundMethod

WON_ERRORS = {"invalid": "숫자로 입력해 주세요. (Enter a number.)",
              "min_value": "0원 이상이어야 합니다. (Cannot be negative.)"}


def won_field(label):
    return forms.IntegerField(label=label, min_value=0, initial=0, error_messages=WON_ERRORS)


class RefundForm(forms.Form):
    cash_won = won_field(_("현금/카드결제액"))
    store_points_won = won_field(_("사용된 적립금 반환"))
    mileage_won = won_field(_("주문시 사용한 네이버 마일리지"))
    shipping_deduction_won = won_field(_("배송비적용"))
    method = forms.ChoiceField(label=_("환불 방식"), choices=RefundMethod.choices, initial=RefundMethod.CASH)
    bank = forms.CharField(label=_("환불은행"), max_length=40, required=False)
    account_no = forms.CharField(label=_("계좌번호"), max_length=40, required=False)
    holder = forms.CharField(label=_("예금주"), max_length=40, required=False)


class ReturnForm(RefundForm):
    reason = forms.CharField(label=_("반품사유"), max_length=200, required=False)


class ShipForm(forms.Form):
    company = forms.CharField(label=_("택배사"), max_length=40, initial="자체배송")
    invoice_no = forms.CharField(label=_("운송장번호"), max_length=40)


class ExchangeForm(forms.Form):
    mileage_returned_won = won_field(_("네이버 마일리지 반환액"))
