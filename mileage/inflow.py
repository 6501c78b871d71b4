"""Inflow capture (I1–I3): keep the provider's NaPm token in the browser session; end it at its expiry or when a
page view arrives from a foreign site (neither this shop nor the provider)."""

from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from mileage import wire
from mileage.policy import InflowToken, inflow_is_valid, referrer_ends_inflow

INFLOW_KEY = "mileage_inflow"


def provider_hosts() -> list[str]:
    hosts = list(settings.MILEAGE_PROVIDER_HOSTS)
    for base in (settings.MILEAGE_SERVICE_BASE, settings.MILEAGE_API_BASE):
        netloc = urlsplit(base).netloc
        if netloc:
            hosts.append(netloc)
    return hosts


def current_inflow(request) -> InflowToken | None:
    raw = request.session.get(INFLOW_KEY)
    if not raw:
        return None
    try:
        token = wire.parse_napm(raw)
    except ValueError:
        return None
    return token if inflow_is_valid(token, timezone.now()) else None


class InflowMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "GET" and not request.path.startswith(("/cms/", "/django-admin/", "/static/")):
            self.capture(request)
        return self.get_response(request)

    @staticmethod
    def capture(request) -> None:
        napm = request.GET.get("NaPm")
        if napm:
            try:
                token = wire.parse_napm(napm)
            except ValueError:
                token = None
            if token is not None and inflow_is_valid(token, timezone.now()):
                request.session[INFLOW_KEY] = token.raw
                return
        if INFLOW_KEY not in request.session:
            return
        referrer = urlsplit(request.headers.get("Referer", "")).netloc
        if referrer_ends_inflow(referrer, [request.get_host()], provider_hosts()) or current_inflow(request) is None:
            del request.session[INFLOW_KEY]
