"""Input no screen can use: a NUL character in the path, a query or form parameter (PostgreSQL refuses NUL in
text, so a lookup with it would fail with a 500) is answered 400 before any view runs."""

from django.http import HttpResponseBadRequest
from django.template.loader import render_to_string
from django.utils import translation


def has_nul(request) -> bool:
    if "\x00" in request.path:
        return True
    sources = [request.GET]
    if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded",
                                                              "multipart/form-data"):
        sources.append(request.POST)
    return any("\x00" in key or any("\x00" in value for value in values)
               for source in sources for key, values in source.lists())


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if has_nul(request):
            # before the locale middleware: the reader's language read here, as it would read it (the path's
            # prefix, the language cookie, the browser's); a value with the NUL in it matches no language
            language = translation.get_language_from_request(request, check_path=True)
            with translation.override(language):
                return HttpResponseBadRequest(render_to_string("400_nul.html", {"LANGUAGE_CODE": language}))
        return self.get_response(request)
