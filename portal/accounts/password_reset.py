"""비밀번호 찾기 with a rate limit: a reset mail is a message the shop sends to an address someone else typed, so an
address (the client's) may ask PASSWORD_RESET_ADDRESS_LIMIT times and one e-mail address may be sent
PASSWORD_RESET_EMAIL_LIMIT links within PASSWORD_RESET_WINDOW seconds. Past either limit nothing is sent and the form
says when to try again; the answer for a known and an unknown e-mail address stays the same. The counters are
throttle.over_limit's (the cache)."""

import hashlib

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.utils.translation import gettext as _

from .throttle import client_address, over_limit


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form):
        window = settings.PASSWORD_RESET_WINDOW
        email = form.cleaned_data["email"].strip().lower()
        address_key = "pwreset:addr:" + client_address(self.request)
        email_key = "pwreset:mail:" + hashlib.sha256(email.encode()).hexdigest()
        by_address = over_limit(address_key, settings.PASSWORD_RESET_ADDRESS_LIMIT, window)
        by_email = over_limit(email_key, settings.PASSWORD_RESET_EMAIL_LIMIT, window)
        if by_address or by_email:
            form.add_error(None, _("재설정 요청이 너무 많습니다. 늦어도 %(minutes)d분 뒤에는 다시 요청할 수 있습니다.")
                           % {"minutes": window // 60})
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        return super().form_valid(form)
