"""Input no screen can use, and the pages of requests no screen answered.

A control character in the path, a query or a form parameter (NUL, which PostgreSQL refuses in text, and the other
C0 controls but tab, line feed and carriage return, and DEL: invisible, and what a workbook cannot hold) is answered
400 before any view runs, on the shop's error page in the reader's language: nothing typed with one is ever stored.
A 405 (a button's address opened in the address bar) gets the same kind of page instead of an empty body.
"""

import re

from django.shortcuts import render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(request) -> bool:
    if CONTROL.search(request.path):
        return True
    sources = [request.GET]
    if request.method == "POST" and request.content_type in ("application/x-www-form-urlencoded",
                                                              "multipart/form-data"):
        sources.append(request.POST)
    return any(CONTROL.search(key) or any(CONTROL.search(value) for value in values)
               for source in sources for key, values in source.lists())


def back_link(request) -> str:
    """The page the request came from, when it is this site's: the error page's way back."""
    back = request.headers.get("Referer", "")
    if CONTROL.search(back) or not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                                                    require_https=request.is_secure()):
        return ""
    return back


class RejectControlCharactersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if has_control_characters(request):
            # before the locale middleware: the reader's language read here, as it would read it (the path's
            # prefix, the language cookie, the browser's); a value with a control character in it matches none
            with translation.override(translation.get_language_from_request(request, check_path=True)):
                return render(request, "400.html", {"back": back_link(request), "message": _(
                    "입력한 내용에 쓸 수 없는 보이지 않는 문자(제어 문자)가 있습니다. 아무것도 저장되지 않았습니다. 붙여 넣은 "
                    "글자를 지우고 다시 입력해 주세요.")}, status=400)
        return self.get_response(request)


class MethodNotAllowedPageMiddleware:
    """A 405 with no body (require_POST, a view's http_method_names) as the shop's page saying what happened."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not response.content and not request.path.startswith(
                ("/cms/", "/django-admin/", "/payments/webhooks/")):
            page = render(request, "405.html", {"back": back_link(request)}, status=405)
            page["Allow"] = response.get("Allow", "")
            return page
        return response
