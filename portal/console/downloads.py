"""다운로드 사유: every staff export asks for a reason first, then is one 다운로드 record of the access log with the
rows it holds (docs/adr/0016).

An export's address (a GET with `export=…`, or a POST such as 송장 양식 of the checked orders) first answers with a
small server-rendered form carrying the request's own fields; the form posts back to the same address with a
`reason`. A reason of only spaces is refused with a message (400) and nothing is written; with a reason the file is
built, the record written, then the file served — a download that could not be recorded is not served."""

import unicodedata
from collections.abc import Callable, Iterable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.utils.translation import gettext as _

from portal.accesslog.models import AccessAction
from portal.accesslog.services import access_record

REASON_FIELD = "reason"
REASON_MAX = 200


# letters that show nothing: the Hangul fillers and the blank Braille pattern (format characters, Cf, besides)
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def clean_reason(raw: str) -> str:
    """A reason as the access log keeps it: characters that show nothing (zero-width spaces, BOMs, Hangul fillers)
    left out and spaces collapsed, so that a reason that reads blank is blank and refused."""
    shown = "".join(ch for ch in raw if ch not in _BLANK_LETTERS and unicodedata.category(ch) != "Cf")
    return " ".join(shown.split())


def download_reason(request: HttpRequest) -> str | None:
    """The reason posted with the request (cleaned: clean_reason), "" when posted blank, None when not asked yet."""
    if request.method != "POST" or REASON_FIELD not in request.POST:
        return None
    return clean_reason(request.POST.get(REASON_FIELD, ""))


def reason_error(reason: str) -> str:
    """What is wrong with a reason given for the access log ("" when nothing): longer than it keeps (never cut short
    without a word). A blank one each caller refuses in its own words first."""
    if len(reason) > REASON_MAX:
        return _("사유는 %(max)s자까지 입력할 수 있습니다 (지금 %(length)s자).") % {"max": REASON_MAX,
                                                                         "length": len(reason)}
    return ""


def reason_form(request: HttpRequest, *, title: str, count: int | None = None, error: str = "") -> HttpResponse:
    carried = [(name, value) for name, values in request.POST.lists()
               if name not in ("csrfmiddlewaretoken", REASON_FIELD) for value in values] \
        if request.method == "POST" else []
    return render(request, "console/download_reason.html", {
        "title": title, "count": count, "error": error, "action": request.get_full_path(), "carried": carried,
        "reason_max": REASON_MAX}, status=400 if error else 200)


def download_with_reason(request: HttpRequest, *, title: str,
                         build: Callable[[], tuple[HttpResponse, Iterable[str], int]],
                         count: int | None = None, action: str = AccessAction.EXPORT,
                         extra_reason: str = "") -> HttpResponse:
    """The export `build()` makes — (response, the records it names, its row count) — once a reason is given,
    recorded once; else the reason form. `extra_reason` is appended to the record's reason (e.g. a full export)."""
    reason = download_reason(request)
    if reason is None:
        return reason_form(request, title=title, count=count)
    if not reason:
        return reason_form(request, title=title, count=count, error=_("다운로드 사유를 입력해 주세요."))
    if error := reason_error(reason):
        return reason_form(request, title=title, count=count, error=error)
    response, targets, rows = build()
    access_record(action=action, request=request, targets=targets, count=rows,
                  reason=f"{reason} ({extra_reason})" if extra_reason else reason)
    return response


EXPORT_KINDS = ("csv", "xlsx")


class ExportMixin:
    """A filtered list's CSV/XLSX (`?export=csv|xlsx`, the filters in the query string) behind the 다운로드 사유
    form, which posts back to the same address; a search the list refuses exports nothing (the list says why). A
    view sets `export_title(kind)` and `export_build(queryset, kind)` (→ response, the records it names, its row
    count); `export_post(request)` answers a POST that is no export."""

    def export_kind(self) -> str | None:
        kind = self.request.GET.get("export")
        return kind if kind in EXPORT_KINDS else None

    def post(self, request, *args, **kwargs):
        if self.export_kind() is None:
            return self.export_post(request, *args, **kwargs)
        return self.get(request, *args, **kwargs)

    def export_post(self, request, *args, **kwargs):
        return HttpResponseNotAllowed(["GET"])

    def get(self, request, *args, **kwargs):
        kind = self.export_kind()
        if kind is not None and not self.get_filterset(self.get_filterset_class()).is_valid():
            # a search the list refuses is no export of nothing: the list instead, which says what to correct
            messages.error(request, _("검색 조건이 올바르지 않아 내려받지 않았습니다. 검색 조건을 고쳐 주세요."))
            query = request.GET.copy()
            query.pop("export")
            request.GET = query
        elif kind is not None and download_reason(request) is None:
            return reason_form(request, title=self.export_title(kind))
        return self.show_list(request, *args, **kwargs)

    def show_list(self, request, *args, **kwargs):
        """The list itself, or the export once its reason is given (a view with its own way of listing overrides
        this)."""
        return super().get(request, *args, **kwargs)

    def render_to_response(self, context, **kwargs):
        kind = self.export_kind()
        if kind is not None:
            rows = self.object_list
            return download_with_reason(self.request, title=self.export_title(kind),
                                        build=lambda: self.export_build(rows, kind))
        return super().render_to_response(context, **kwargs)
