"""/healthz for the proxy (no login) and /metrics for Prometheus (operators, loopback or the METRICS_TOKEN)."""

import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST

from portal.accounts.roles import OPERATOR_PERMISSION

from .health import health
from .metrics import render_metrics

LOOPBACK = {"127.0.0.1", "::1"}


@never_cache
def healthz(request):
    status, body = health()
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def metrics_allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode()):
        return True
    if request.user.is_authenticated and request.user.has_perm(OPERATOR_PERMISSION):
        return True
    # a direct scrape on the node itself; behind a proxy every request comes from the proxy, so the proxy must not
    # route /metrics (README, Production)
    return request.META.get("REMOTE_ADDR") in LOOPBACK and "HTTP_X_FORWARDED_FOR" not in request.META


@never_cache
def metrics(request):
    if not metrics_allowed(request):
        return HttpResponse(status=403 if request.user.is_authenticated else 401,
                            headers={"WWW-Authenticate": "Bearer"})
    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)


def csrf_failure(request, reason=""):
    """A form whose security token is stale or missing (the page was open too long, the cookie was blocked): a page in
    the shop's frame and the reader's language saying what happened and that nothing was saved, with the way back
    to the page the form came from (CSRF_FAILURE_VIEW). Django's reason is for the log, not the reader."""
    back = request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        back = ""
    return render(request, "403_csrf.html", {"back": back}, status=403)
