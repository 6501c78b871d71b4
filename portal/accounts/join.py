"""회원가입 (/accounts/join/): a buyer opens an account and is logged in, back to where they came from (the order
form, a product) or to 마이페이지. At most JOIN_ADDRESS_LIMIT tries (accounts opened or refused) per client address within an hour."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View

from .forms import JoinForm
from .services import UsernameTaken, member_join
from .throttle import client_address, over_limit

JOIN_WINDOW = 3600


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return reverse("storefront:mypage")


class JoinView(View):
    template_name = "accounts/join.html"

    def get(self, request):
        if request.user.is_authenticated:
            return redirect(_next(request))
        return self.render(request, JoinForm())

    def post(self, request):
        if request.user.is_authenticated:
            return redirect(_next(request))
        # every try counts, refused ones too: the form says whether an 아이디 or an e-mail is taken, which must not
        # be asked without limit
        if over_limit("join:addr:" + client_address(request), settings.JOIN_ADDRESS_LIMIT, JOIN_WINDOW):
            messages.error(request, _("가입 요청이 너무 많습니다. 잠시 후 다시 시도해 주세요."))
            return self.render(request, JoinForm(), status=429)  # nothing of what was sent is checked
        form = JoinForm(request.POST)
        if not form.is_valid():
            return self.render(request, form, status=400)
        data = form.cleaned_data
        try:
            member = member_join(username=data["username"], password=data["password1"], name=data["name"],
                                 email=data["email"], phone=data["phone"], zipcode=data["zipcode"],
                                 address=data["address"], address_detail=data["address_detail"])
        except UsernameTaken:
            form.add_error("username", _("이미 사용 중인 아이디입니다."))
            return self.render(request, form, status=400)
        login(request, member.user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("%(name)s님, 가입을 환영합니다.") % {"name": member.name})
        return redirect(_next(request))

    def render(self, request, form, status=200):
        return render(request, self.template_name, {"form": form, "next": _next(request)}, status=status)
