"""The provider's own time for each request, from the first middleware in to the last out (X-Provider-Time-Ms), so
the portal's benchmarks can tell their time from the provider's."""

import time


class ProviderTimeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Provider-Time-Ms"] = f"{(time.perf_counter() - started) * 1000:.3f}"
        return response
