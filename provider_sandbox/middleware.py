"""The provider's own time for each request, from the first middleware in to the last out (X-Provider-Time-Ms), so
the portal's benchmarks can tell their time from the provider's; and the distance to the provider, when a setting
asks for one (SANDBOX_LATENCY_MS, SANDBOX_LATENCY_JITTER_MS): every server-to-server call waits that long before
it is answered, as a provider across the internet would, outside the provider's own time."""

import random
import time

from django.conf import settings
from django.http import HttpResponseBadRequest


class ProviderTimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Provider-Time-Ms"] = f"{(time.perf_counter() - started) * 1000:.3f}"
        return response


class RejectNulMiddleware:
    """A NUL character in the path or a parameter is answered 400 (PostgreSQL refuses NUL in text). The sandbox's
    own copy of portal.middleware's: it imports no portal code."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        sources = [request.GET]
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
            sources.append(request.POST)
        if "\x00" in request.path or any("\x00" in key or any("\x00" in v for v in values)
                                         for source in sources for key, values in source.lists()):
            return HttpResponseBadRequest("<!doctype html><html lang=ko><meta charset=utf-8><p>요청에 사용할 수 없는 "
                                          "문자(NUL)가 있습니다.</p>")
        return self.get_response(request)


class LatencyMiddleware:
    """Delays every server-to-server call (the API under /v2/partner/) by SANDBOX_LATENCY_MS, plus up to
    SANDBOX_LATENCY_JITTER_MS drawn at random; the delay is named in X-Provider-Latency-Ms. Pages a person opens
    (the popup, the partner screens) and the test controls are not delayed. Off (0) by default."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.fixed_ms = max(0, int(settings.SANDBOX_LATENCY_MS))
        self.jitter_ms = max(0, int(settings.SANDBOX_LATENCY_JITTER_MS))

    def __call__(self, request):
        if not (self.fixed_ms or self.jitter_ms) or not request.path.startswith(settings.SANDBOX_API_PREFIX):
            return self.get_response(request)
        delay_ms = self.fixed_ms + (random.uniform(0, self.jitter_ms) if self.jitter_ms else 0)
        time.sleep(delay_ms / 1000)
        response = self.get_response(request)
        response["X-Provider-Latency-Ms"] = f"{delay_ms:.0f}"
        return response
