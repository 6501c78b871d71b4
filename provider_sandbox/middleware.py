"""The provider's own time for each request, from the first middleware in to the last out (X-Provider-Time-Ms), so
the portal's benchmarks can tell their time from the provider's."""

import time

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
            return HttpResponseBadRequest("<!doctype html><meta charset=utf-8><p>요청에 사용할 수 없는 문자(NUL)가 "
                                          "있습니다. (NUL is not allowed.)</p>")
        return self.get_response(request)
