from django import forms
from django.utils.translation import gettext_lazy as _

from mileage.models import ExclusionReason, MileageSettings
from mileage.models.settings import api_id_validator, hash_key_validator


class MileageSettingsForm(forms.ModelForm):
    """The hash key is write-only: the field starts empty; leaving it empty keeps the stored key."""

    hash_key = forms.CharField(label=_("해쉬키(인증키)입력"), required=False, max_length=40,
                               widget=forms.PasswordInput(render_value=False), validators=[hash_key_validator])
    api_id = forms.CharField(label=_("가맹점 API ID 입력"), max_length=6, validators=[api_id_validator])

    class Meta:
        model = MileageSettings
        fields = ["api_id", "hash_key", "subtract_discounts", "subtract_store_points", "include_shipping",
                  "store_points_first"]

    def clean_hash_key(self):
        value = self.cleaned_data.get("hash_key", "").strip().lower()
        if not value:
            if not self.instance.hash_key:
                raise forms.ValidationError("해쉬키를 입력해 주세요. (Enter the hash key.)")
            return self.instance.hash_key
        return value


class ExclusionActionForm(forms.Form):
    reason = forms.ChoiceField(label=_("사유"), choices=ExclusionReason.choices, required=False)
