from django import forms
from django.utils.translation import gettext_lazy as _

from mileage import wire
from mileage.models import ExclusionReason, MileageSettings
from mileage.models.settings import api_id_validator, hash_key_validator


class HexKeyField(forms.CharField):
    """A hex key as the partner center shows it, in either case: read in lower case before it is checked."""

    def to_python(self, value):
        return super().to_python(value).strip().lower()


class MileageSettingsForm(forms.ModelForm):
    """The hash key is write-only: the field starts empty; leaving it empty keeps the stored key."""

    # the lengths are the validators' (one message for a key of the wrong length); the browser's maxlength leaves
    # room for the spaces a pasted key brings along (stripped here), so that it never cuts the key itself
    hash_key = HexKeyField(label=_("해쉬키(인증키)입력"), required=False,
                           widget=forms.PasswordInput(render_value=False, attrs={"maxlength": 40 + 20}),
                           validators=[hash_key_validator])
    api_id = forms.CharField(label=_("가맹점 API ID 입력"), widget=forms.TextInput(attrs={"maxlength": 6 + 20}),
                             validators=[api_id_validator])
    store_points_rate = forms.CharField(label=_("쇼핑몰 적립금 적립률 (%)"), required=False, max_length=5,
                                        help_text=_("구매확정 시 적립대상금액의 이 비율만큼 쇼핑몰 적립금을 드립니다. 0이면 적립하지 않습니다."))

    # the row's version when the page was shown (MileageSettings.version); not sent, nothing is compared
    version = forms.CharField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = MileageSettings
        fields = ["api_id", "hash_key", "subtract_discounts", "subtract_store_points", "include_shipping",
                  "store_points_first", "buyer_chooses_earn", "provider_profile"]
        widgets = {"provider_profile": forms.RadioSelect}
        error_messages = {"provider_profile": {"invalid_choice": _("연동 방식을 목록에서 골라 주세요.")}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store_points_rate"].initial = wire.rate_to_wire(self.instance.store_points_rate_x10)
        self.fields["provider_profile"].required = False
        self.fields["version"].initial = self.instance.version

    def stale(self) -> bool:
        """Whether the row was saved since the page this form came from was shown."""
        sent = self.cleaned_data.get("version") or ""
        return bool(sent) and sent != self.instance.version

    def clean_provider_profile(self):
        # a form that does not send the choice keeps the stored one
        return self.cleaned_data.get("provider_profile") or self.instance.provider_profile

    def clean_store_points_rate(self):
        if self.is_bound and "store_points_rate" not in self.data:
            return self.instance.store_points_rate_x10  # not sent: kept, never reset to 0
        raw = (self.cleaned_data.get("store_points_rate") or "").strip()
        if not raw:
            raise forms.ValidationError(_("적립률을 입력해 주세요. 적립하지 않으려면 0을 입력합니다."))
        try:
            rate_x10 = wire.rate_from_wire(raw)
        except ValueError:
            rate_x10 = -1
        if not 0 <= rate_x10 <= 1000:
            raise forms.ValidationError(_("적립률은 0%에서 100% 사이, 소수점 한 자리까지 입력해 주세요."))
        return rate_x10

    def save(self, commit=True):
        self.instance.store_points_rate_x10 = self.cleaned_data["store_points_rate"]
        return super().save(commit=commit)

    def clean_hash_key(self):
        value = self.cleaned_data.get("hash_key", "").strip().lower()
        if not value:
            if not self.instance.hash_key:
                raise forms.ValidationError(_("해쉬키를 입력해 주세요."))
            return self.instance.hash_key
        return value


class ExclusionActionForm(forms.Form):
    reason = forms.ChoiceField(label=_("사유"), choices=ExclusionReason.choices, required=False,
                               error_messages={"invalid_choice": _("사유를 목록에서 골라 주세요.")})
