from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from .forms import LoginForm
from .join import JoinView
from .password_reset import ThrottledPasswordResetView
from .two_factor import OTPSetupView, OTPVerifyView

app_name = "accounts"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html", authentication_form=LoginForm),
         name="login"),
    path("join/", JoinView.as_view(), name="join"),
    # the shop's home after logging out (Django's own page would be the admin's)
    path("logout/", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
    # Staff: the second factor (portal/accounts/two_factor.py)
    path("2fa/", OTPVerifyView.as_view(), name="otp-verify"),
    path("2fa/setup/", OTPSetupView.as_view(), name="otp-setup"),
    # A member who forgot the password gets a one-time link by e-mail (var/mail in development).
    path("password/reset/", ThrottledPasswordResetView.as_view(
        template_name="accounts/password_reset_form.html",
        email_template_name="accounts/password_reset_email.txt",
        subject_template_name="accounts/password_reset_subject.txt",
        success_url=reverse_lazy("accounts:password_reset_done")), name="password_reset"),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(
        template_name="accounts/password_reset_done.html"), name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(
        template_name="accounts/password_reset_confirm.html",
        success_url=reverse_lazy("accounts:password_reset_complete")), name="password_reset_confirm"),
    path("password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(
        template_name="accounts/password_reset_complete.html"), name="password_reset_complete"),
]
