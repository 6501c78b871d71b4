"""회원가입 (/accounts/join/): a buyer opens an account and is logged in, back to where they came from (the order
form, a product) or to 마이페이지. At most JOIN_ADDRESS_LIMIT tries (accounts opened or refused) per client address
within an hour."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.views import RedirectURLMixin
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View

from .forms import JoinForm
from .services import UsernameTaken, member_join
from .throttle import client_address, over_limit

JOIN_WINDOW = 3600


class JoinView(RedirectURLMixin, View):
    """Back to `next` when it is the shop's own address (Django's check, as the login's), else to 마이페이지."""

    template_name = "accounts/join.html"
    next_page = "storefront:mypage"

    def get(self, request):
        if request.user.is_authenticated:
            return redirect(self.get_success_url())
        return self.render(request, JoinForm())

    def post(self, request):
        if request.user.is_authenticated:
            return redirect(self.get_success_url())
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
        return redirect(self.get_success_url())

    def render(self, request, form, status=200):
        return render(request, self.template_name, {"form": form, "next": self.get_redirect_url()}, status=status)
