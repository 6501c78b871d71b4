"""The console's frame (console/base.html: head, top bar, menu, breadcrumb) rendered once and reused.

The frame of a screen differs between requests only in the CSRF token of its two forms (logout, language), the
path the language switch returns to and the messages; everything else depends on the screen, the language and the
operator's name. `console_response` renders a screen's template once per (template, screen, language, operator,
script prefix) with markers in those places, keeps it in this process, and fills the markers per request. The
busiest screen (주문조회) pays for its rows instead of its menu.

A template used here extends console/base.html and puts `{{ content_html }}` where its content goes.
"""

from collections import OrderedDict
from threading import Lock

from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

CSRF = "\x00csrf\x00"
PATH = "\x00path\x00"
CONTENT = "\x00content\x00"
MAX_FRAMES = 512

_frames: OrderedDict[tuple, tuple[str, str]] = OrderedDict()
_lock = Lock()


class _FrameRequest:
    """The request as the frame's template sees it: the path it returns to is a marker."""

    def __init__(self, request):
        self._request = request

    def __getattr__(self, name):
        return getattr(self._request, name)

    def get_full_path(self):
        return PATH


def _frame(request, template_name: str) -> tuple[str, str]:
    match = request.resolver_match
    key = (template_name, match.view_name if match else "", get_language(), request.user.get_username(),
           get_script_prefix())
    with _lock:
        frame = _frames.get(key)
        if frame is not None:
            _frames.move_to_end(key)
            return frame
    html = render_to_string(template_name, {"content_html": mark_safe(CONTENT), "csrf_token": CSRF, "messages": (),
                                            "request": _FrameRequest(request)}, request=request)
    before, _sep, after = html.partition(CONTENT)
    frame = (before, after)
    with _lock:
        _frames[key] = frame
        while len(_frames) > MAX_FRAMES:
            _frames.popitem(last=False)
    return frame


def console_response(request, template_name: str, content: str, status: int = 200) -> HttpResponse:
    before, after = _frame(request, template_name)
    token, path = get_token(request), escape(request.get_full_path())
    messages = get_messages(request)
    notes = render_to_string("includes/messages.html", {"messages": messages}) if messages else ""
    page = before.replace(CSRF, token).replace(PATH, path) + notes + content + after.replace(CSRF, token)
    return HttpResponse(page, status=status)
