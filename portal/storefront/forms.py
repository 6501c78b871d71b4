import re

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.orders.models import PaymentMethod
from portal.orders.rules import (
    CASH_RECEIPT_CORPORATE,
    CASH_RECEIPT_NONE,
    CASH_RECEIPT_PERSONAL,
    cash_receipt_identifier,
    cash_receipt_method,
    guest_password_error,
)
from portal.parsing import PHONE_REGEX, StrictIntegerField, stored_phone

PHONE_ERRORS = {"invalid": _("휴대전화 번호를 010-1234-5678 처럼 입력해 주세요.")}


class OrderForm(forms.Form):
    orderer_name = forms.CharField(label=_("주문자명"), max_length=50)
    orderer_phone = forms.RegexField(label=_("휴대전화"), regex=PHONE_REGEX, max_length=20, error_messages=PHONE_ERRORS)
    orderer_email = forms.EmailField(label=_("이메일"), required=False)
    same_as_orderer = forms.BooleanField(label=_("배송지 정보가 주문자 정보와 동일합니까?"), required=False, initial=True)
    recipient_name = forms.CharField(label=_("성명"), max_length=50, required=False)
    recipient_phone = forms.RegexField(label=_("휴대전화"), regex=PHONE_REGEX, max_length=20, required=False,
                                       error_messages=PHONE_ERRORS)
    zipcode = forms.CharField(label=_("우편번호"), max_length=10, required=False)
    address = forms.CharField(label=_("기본주소"), max_length=200)
    address_detail = forms.CharField(label=_("나머지주소"), max_length=200, required=False)
    shipping_message = forms.CharField(label=_("배송메시지"), max_length=200, required=False)
    payment_method = forms.ChoiceField(label=_("결제방법"), choices=PaymentMethod.choices, widget=forms.RadioSelect,
                                       initial=PaymentMethod.BANK_TRANSFER,
                                       error_messages={"invalid_choice": _("결제방법을 목록에서 골라 주세요.")})
    depositor_name = forms.CharField(label=_("입금자명"), max_length=50, required=False,
                                     help_text=_("비워 두면 주문자명으로 입금을 확인합니다."))
    card_number = forms.CharField(label=_("카드번호 (테스트)"), max_length=30, required=False,
                                  help_text=_("TEST-PG: 실제 결제가 아닙니다. 0002로 끝나는 번호는 거절됩니다."))
    # 현금영수증, asked for with a cash-like method (templates/storefront/includes/cash_receipt_fields.html)
    cash_receipt_kind = forms.ChoiceField(
        label=_("현금영수증"), required=False, widget=forms.RadioSelect, initial=CASH_RECEIPT_NONE,
        choices=[(CASH_RECEIPT_NONE, _("신청안함")), (CASH_RECEIPT_PERSONAL, _("소득공제용 (휴대폰번호)")),
                 (CASH_RECEIPT_CORPORATE, _("지출증빙용 (사업자번호)"))],
        error_messages={"invalid_choice": _("현금영수증 신청 방법을 골라 주세요.")})
    cash_receipt_identifier = forms.CharField(label=_("휴대폰번호 또는 사업자번호"), max_length=20, required=False,
                                              error_messages={"max_length": _("번호를 20자 이내로 입력해 주세요.")})
    store_points = StrictIntegerField(label=_("적립금 사용"), required=False, initial=0, error_messages={
        "invalid": _("적립금은 숫자로 입력해 주세요."),
        "min_value": _("적립금은 0원 이상이어야 합니다."),
        "max_value": _("적립금은 가진 적립금까지만 쓸 수 있습니다.")})
    guest_password = forms.CharField(label=_("비회원결제비밀번호"), max_length=12, required=False,
                                     widget=forms.PasswordInput(render_value=True),
                                     help_text=_("주문조회시 필요합니다. 영문과 숫자만 섞어 6자에서 12자 (특수문자 제외), 대소문자구분."))
    privacy_agreed = forms.BooleanField(label=_("비회원 구매 및 결제 개인정보취급방침에 동의합니다"), required=False)
    # E9: which earn this order gets, shown to members when the shop lets buyers choose.
    earn_choice = forms.ChoiceField(label=_("적립 수단 선택"), required=False, widget=forms.RadioSelect,
                                    choices=[("naver", _("네이버 마일리지 적립")), ("store", _("쇼핑몰 적립금 적립"))],
                                    initial="naver", error_messages={"invalid_choice": _("적립 수단을 골라 주세요.")})
    # The reqTxId of the mileage choice the page showed (hidden; empty without one).
    mileage_choice = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    # A real PG's payment window (PortOne): the payment it authenticated and its token (hidden; empty on TEST-PG).
    payment_id = forms.CharField(required=False, max_length=60, widget=forms.HiddenInput)
    payment_token = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    # The form's own key, drawn anew each time the form is shown (hidden): its second 결제하기 places nothing more.
    submission_key = forms.RegexField(required=False, regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput)

    def __init__(self, *args, is_member: bool, earn_choice: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.is_member = is_member
        if not (is_member and earn_choice):
            del self.fields["earn_choice"]
        if is_member:
            for name in ("guest_password", "privacy_agreed"):
                del self.fields[name]
        else:
            del self.fields["store_points"]

    def clean_orderer_phone(self) -> str:
        """Kept as the shop keeps every phone (010-1234-5678), typed with hyphens or without."""
        return stored_phone(self.cleaned_data["orderer_phone"])

    def clean_recipient_phone(self) -> str:
        return stored_phone(self.cleaned_data["recipient_phone"])

    def clean(self):
        data = super().clean()
        if data.get("same_as_orderer"):
            typed = [(data.get("recipient_name") or "").strip(), re.sub(r"\D", "", data.get("recipient_phone") or "")]
            orderer = [(data.get("orderer_name") or "").strip(), re.sub(r"\D", "", data.get("orderer_phone") or "")]
            if any(value and value != mine for value, mine in zip(typed, orderer, strict=True)):
                # a recipient typed beside the ticked box: never replaced unseen by the orderer (a gift would go to
                # the wrong person); the buyer says which is meant
                self.add_error("same_as_orderer", _("받는 분을 주문자와 다르게 입력했습니다. 다른 분께 보내려면 이 체크를 "
                                                    "해제하고, 주문자에게 보내려면 받는 분 칸을 주문자와 같게 해 주세요."))
            data["recipient_name"] = data.get("orderer_name", "")
            data["recipient_phone"] = data.get("orderer_phone", "")
        elif not data.get("recipient_name") or not data.get("recipient_phone"):
            self.add_error("recipient_name", _("받는 분 성명과 연락처를 입력해 주세요."))
        if not self.is_member and not data.get("privacy_agreed"):
            self.add_error("privacy_agreed", _("비회원 구매 개인정보취급방침에 동의해 주세요."))
        if not self.is_member and "guest_password" not in self.errors:
            # checked with the form, so that no PG window opens for an order the password would refuse
            if error := guest_password_error(data.get("guest_password", "")):
                self.add_error("guest_password", error)
        self._clean_cash_receipt(data)
        self._clean_card_number(data)
        if any(isinstance(field.widget, forms.HiddenInput) for name, field in self.fields.items()
               if name in self.errors):
            # a hidden field the page filled in came back otherwise: said where the buyer sees it
            self.add_error(None, _("주문서가 올바르게 전송되지 않았습니다. 주문서를 새로 연 뒤 다시 결제해 주세요. 결제된 금액은 "
                                   "없습니다."))
        return data

    @property
    def cash_receipt_methods(self) -> str:
        """The methods a 현금영수증 is offered with, for the page's script (space-separated values)."""
        return " ".join(value for value in PaymentMethod.values if cash_receipt_method(value))

    def _clean_card_number(self, data: dict) -> None:
        """TEST-PG's card number (a simulation: it may be left empty), checked only for a card payment (the page
        hides the box for the other methods and still posts it): what is typed is digits, spaces and hyphens."""
        number = data.get("card_number", "")
        if data.get("payment_method") != PaymentMethod.CARD:
            data["card_number"] = ""
        elif number and not re.fullmatch(r"[0-9][0-9 -]*", number):
            self.add_error("card_number", _("카드번호는 숫자로 입력해 주세요."))

    def _clean_cash_receipt(self, data: dict) -> None:
        """현금영수증: checked only for a cash-like method (another method asks for none); the identifier kept as
        digits."""
        if "cash_receipt_kind" in self.errors or not cash_receipt_method(data.get("payment_method", "")):
            data["cash_receipt_kind"], data["cash_receipt_identifier"] = CASH_RECEIPT_NONE, ""
            return
        kind = data.get("cash_receipt_kind") or CASH_RECEIPT_NONE
        digits, error = cash_receipt_identifier(kind, data.get("cash_receipt_identifier", ""))
        if error:
            self.add_error("cash_receipt_identifier", error)
            return
        data["cash_receipt_kind"], data["cash_receipt_identifier"] = kind, digits


class GuestLookupForm(forms.Form):
    number = forms.CharField(label=_("주문번호"), max_length=20)
    password = forms.CharField(label=_("비회원결제비밀번호"), max_length=12, widget=forms.PasswordInput)


class GuestPasswordMixin:
    """A guest confirms an action on the order with its 비회원결제비밀번호 (members are logged in)."""

    def add_password(self, is_guest: bool) -> None:
        if is_guest:
            self.fields["password"] = forms.CharField(
                label=_("비회원결제비밀번호"), max_length=12, widget=forms.PasswordInput,
                help_text=_("주문할 때 정한 비밀번호를 다시 입력해 주세요."))


class BuyerCancelForm(GuestPasswordMixin, forms.Form):
    """입금전 주문 취소: the buyer confirms (a cancel cannot be undone), a guest with the order's password too."""

    confirm = forms.BooleanField(label=_("주문을 취소합니다. 취소한 주문은 되돌릴 수 없습니다."), error_messages={
        "required": _("주문을 취소하려면 확인란을 선택해 주세요.")})

    def __init__(self, *args, is_guest: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_password(is_guest)


class BuyerConfirmPurchaseForm(GuestPasswordMixin, forms.Form):
    """구매확정 by the buyer (docs/protocol.md §2: the buyer or the operator confirms the purchase)."""

    confirm = forms.BooleanField(label=_("상품을 잘 받았습니다. 구매확정 후에는 반품을 신청할 수 없습니다."), error_messages={
        "required": _("구매확정하려면 확인란을 선택해 주세요.")})

    def __init__(self, *args, is_guest: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_password(is_guest)


class BuyerRequestForm(GuestPasswordMixin, forms.Form):
    """취소/반품/교환 신청 of a paid order: what is asked for (the kinds the order's status allows) and why."""

    kind = forms.ChoiceField(label=_("신청 구분"), widget=forms.RadioSelect, error_messages={
        "required": _("신청 구분을 선택해 주세요."),
        "invalid_choice": _("이 주문에 신청할 수 없는 구분입니다.")})
    reason = forms.CharField(label=_("신청 사유"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": _("신청 사유를 입력해 주세요."),
                                             "max_length": _("신청 사유는 500자까지 입력할 수 있습니다.")})

    def __init__(self, *args, is_guest: bool, kinds: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds
        if len(kinds) == 1:
            self.fields["kind"].initial = kinds[0][0]
        self.add_password(is_guest)
