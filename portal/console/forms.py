import re

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.aftersales.models import RefundMethod
from portal.catalog.models import Product
from portal.orders.checkout import MAX_QUANTITY
from portal.orders.models import Carrier
from portal.parsing import StrictIntegerField

WON_ERRORS = {"invalid": _("숫자로 입력해 주세요."), "min_value": _("0원 이상이어야 합니다."),
              "max_value": _("금액이 너무 큽니다. 이 주문의 금액 안에서 입력해 주세요.")}


class WonInput(forms.TextInput):
    """An amount in won as the console writes every amount: grouped by thousands ("25,500"); typed with or without
    the commas (StrictIntegerField drops them)."""

    input_type = "text"

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "numeric", "autocomplete": "off", "class": "won-input", **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return super().format_value(value)


# a text longer than its field takes: said plainly, with how long it is now
TOO_LONG = {"max_length": _("%(limit_value)d자까지 입력할 수 있습니다 (지금 %(show_value)d자).")}


def won_field(label):
    return StrictIntegerField(label=label, min_value=0, initial=0, error_messages=WON_ERRORS, widget=WonInput)


class RefundMethodForm(forms.Form):
    """환불 방식 변경: the way a refund still 환불전 pays back, and the account of a 현금환불."""

    method = forms.ChoiceField(label=_("환불 방식"), choices=RefundMethod.choices, initial=RefundMethod.CASH,
                               error_messages={"invalid_choice": _("환불 방식을 목록에서 골라 주세요.")})
    # picked from the banks' names (the manual's 환불은행 "고르세요") or typed: a bank the list lacks is still taken
    bank = forms.CharField(label=_("환불은행"), max_length=40, required=False, error_messages=TOO_LONG,
                           widget=forms.TextInput(attrs={"list": "refund-banks", "autocomplete": "off"}))
    account_no = forms.RegexField(label=_("계좌번호"), max_length=40, required=False, regex=r"^\s*[0-9][0-9-]*\s*$",
                                  error_messages={**TOO_LONG, "invalid": _("계좌번호는 숫자와 - 로 입력해 주세요.")})
    holder = forms.CharField(label=_("예금주"), max_length=40, required=False, error_messages=TOO_LONG)


class RefundForm(RefundMethodForm):
    """A new refund: its money (cash, store points, mileage, shipping) and how it goes back."""

    cash_won = won_field(_("현금/카드결제액"))
    store_points_won = won_field(_("사용된 적립금 반환"))
    mileage_won = won_field(_("주문시 사용한 네이버 마일리지"))
    shipping_deduction_won = won_field(_("배송비적용"))

    field_order = ["cash_won", "store_points_won", "mileage_won", "shipping_deduction_won", "method", "bank",
                   "account_no", "holder"]


class ReturnForm(RefundForm):
    reason = forms.CharField(label=_("반품사유"), max_length=200, required=False, error_messages=TOO_LONG)


class ShipForm(forms.Form):
    """배송: the carrier from the list (its code, or its Korean name as the XLSX upload takes it; a form that still
    sends `company` with a listed carrier's name is read the same) and the invoice number."""

    def __init__(self, data=None, *args, **kwargs):
        if data is not None:
            data = data.copy()
            named = {carrier.korean_name: carrier.value for carrier in Carrier}
            raw = (data.get("carrier") or data.get("company") or "").strip()
            data["carrier"] = named.get(raw, raw)
        super().__init__(data, *args, **kwargs)

    carrier = forms.ChoiceField(label=_("택배사"), choices=[("", _("택배사 선택")), *Carrier.choices],
                                error_messages={"required": _("택배사를 골라 주세요."),
                                                "invalid_choice": _("택배사를 목록에서 골라 주세요.")})
    invoice_no = forms.CharField(label=_("운송장번호"), max_length=40,
                                 error_messages={"required": _("운송장번호를 입력해 주세요."),
                                                 "max_length": _("운송장번호는 %(limit_value)d자까지 입력할 수 있습니다.")})


class ExchangeForm(forms.Form):
    mileage_returned_won = won_field(_("네이버 마일리지 반환액"))


QTY_ERRORS = {"invalid": _("수량은 숫자로 입력해 주세요."), "min_value": _("수량은 0 이상이어야 합니다."),
              "max_value": _("구매한 수량 중 남은 %(limit_value)s개보다 많이 고를 수 없습니다.")}
_CODE = re.compile(r"[^\x00-\x1f\x7f]{1,40}")


class LineQuantitiesForm(forms.Form):
    """`qty_<line>` for each line of the order that still has goods to return or exchange: 0 up to what remains.
    Keys that name no such line are ignored."""

    def __init__(self, data=None, *, lines, **kwargs):
        super().__init__(data, **kwargs)
        self.used_up = {}  # the lines given back whole already: a quantity typed for one is refused, not ignored
        for line in lines:
            left = line.quantity - line.returned_quantity
            if left > 0:
                self.fields[f"qty_{line.pk}"] = StrictIntegerField(
                    label=line.product_name, required=False, min_value=0, max_value=left, error_messages=QTY_ERRORS)
            else:
                self.used_up[f"qty_{line.pk}"] = line.product_name

    def clean(self):
        cleaned = super().clean()
        for name, product_name in self.used_up.items():
            if str(self.data.get(name, "")).strip() not in ("", "0"):
                self.add_error(None, _("%(name)s: 이미 모두 반품·교환된 상품이라 고를 수 없습니다.") % {"name": product_name})
        return cleaned

    def chosen(self) -> dict[int, int]:
        return {int(name.removeprefix("qty_")): qty for name, qty in self.cleaned_data.items() if qty}


class NewProductsForm(forms.Form):
    """`new_<product code>` for the products an exchange brings: 0 up to MAX_QUANTITY each."""

    def __init__(self, data=None, **kwargs):
        super().__init__(data, **kwargs)
        codes = [key.removeprefix("new_") for key in (data or {}) if key.startswith("new_")]
        codes = [code for code in codes if _CODE.fullmatch(code)][:100]
        self.products = {p.code: p for p in Product.objects.filter(code__in=codes).select_related(
            "category", "mileage_exclusion")}
        for code, product in self.products.items():
            self.fields[f"new_{code}"] = StrictIntegerField(
                label=product.name, required=False, min_value=0, max_value=MAX_QUANTITY,
                error_messages={**QTY_ERRORS, "max_value": _("한 상품은 %(limit_value)s개까지 고를 수 있습니다.")})

    def chosen(self) -> list[tuple[Product, int]]:
        return [(self.products[name.removeprefix("new_")], qty) for name, qty in self.cleaned_data.items() if qty]


def merge_errors(target: forms.Form, *others: forms.Form) -> None:
    """Show the errors of the line forms on the main form (as non-field errors, with the line's name)."""
    for other in others:
        for name, errors in other.errors.items():
            label = other.fields[name].label if name in other.fields else ""
            for error in errors:
                target.add_error(None, f"{label}: {error}" if label else error)


def refund_summary(form: "RefundForm", *, charged_won: int | None = None) -> dict[str, int]:
    """The manual's lines under a refund's amounts (총 환불액, 배송비적용, 카드취소/현금환불액, 적립금 반환액, 네이버
    마일리지 반환액), from what the form holds now (as typed, or its initial values); an amount it cannot read counts
    as 0 (its own error says why). The page's script keeps them following what is typed."""
    def amount(name: str) -> int:
        raw = form.data.get(name) if form.is_bound else form.initial.get(name, 0)
        try:
            return max(0, form.fields[name].clean(raw) or 0)
        except forms.ValidationError:
            return 0

    cash, points, mileage, shipping = (amount(name) for name in (
        "cash_won", "store_points_won", "mileage_won", "shipping_deduction_won"))
    summary = {"total": cash + points, "shipping": shipping, "payout": max(0, cash - shipping), "points": points,
               "mileage": mileage}
    if charged_won is not None:  # the whole order cancelled: what of the charge this refund would not give back
        summary["kept"] = max(0, charged_won - cash)
    return summary
