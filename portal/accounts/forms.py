"""The login form: Django's, with its refusal written for this shop (아이디, not Django's generic wording with an
unresolved particle)."""

from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("아이디 또는 비밀번호가 올바르지 않습니다. 대소문자를 구분합니다."),
    }
