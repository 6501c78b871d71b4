"""The login form (Django's, with its refusal written for this shop: 아이디, not Django's generic wording with an
unresolved particle) and the 회원가입 form."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.contrib.auth.models import User
from django.utils.translation import gettext_lazy as _

from portal.parsing import PHONE_REGEX, stored_phone


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("아이디 또는 비밀번호가 올바르지 않습니다. 대소문자를 구분합니다."),
    }


class JoinForm(UserCreationForm):
    """회원가입: 아이디, 비밀번호 (Django's validators), 이름, 이메일 (for 비밀번호 찾기; one account per address),
    휴대전화, 주소 (filled into the order form), and the two agreements a shop must ask for."""

    name = forms.CharField(label=_("이름"), max_length=50)
    email = forms.EmailField(label=_("이메일"), max_length=254,
                             help_text=_("비밀번호를 잊었을 때 재설정 링크를 받을 주소입니다."))
    phone = forms.RegexField(label=_("휴대전화"), regex=PHONE_REGEX, max_length=20, error_messages={
        "invalid": _("휴대전화 번호를 010-1234-5678 처럼 입력해 주세요.")})
    zipcode = forms.CharField(label=_("우편번호"), max_length=10, required=False)
    address = forms.CharField(label=_("기본주소"), max_length=200, required=False)
    address_detail = forms.CharField(label=_("나머지주소"), max_length=200, required=False)
    agree_terms = forms.BooleanField(label=_("이용약관에 동의합니다. (필수)"), error_messages={
        "required": _("이용약관에 동의해 주세요.")})
    agree_privacy = forms.BooleanField(label=_("개인정보 수집 및 이용에 동의합니다. (필수)"), error_messages={
        "required": _("개인정보 수집 및 이용에 동의해 주세요.")})

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username",)
        labels = {"username": _("아이디")}
        help_texts = {"username": _("영문, 숫자와 @ . + - _ 로 150자 이내")}

    error_messages = {
        **UserCreationForm.error_messages,
        "email_taken": _("이미 가입된 이메일입니다. 로그인하시거나 비밀번호 찾기를 이용해 주세요."),
    }

    def clean_username(self) -> str:
        """The shop's own wording for a taken 아이디 (Django's says 사용자명)."""
        username = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("이미 사용 중인 아이디입니다."), code="unique")
        return username

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("이름을 입력해 주세요."))
        return name

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(self.error_messages["email_taken"], code="email_taken")
        return email

    def clean_phone(self) -> str:
        """As the shop stores phones: 010-1234-5678, whether typed with dashes or without."""
        return stored_phone(self.cleaned_data["phone"])
