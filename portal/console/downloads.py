"""다운로드 사유: every staff export asks for a reason first, then is one 다운로드 record of the access log with the
rows it holds (docs/adr/0016).

An export's address (a GET with `export=…`, or a POST such as 송장 양식 of the checked orders) first answers with a
small server-rendered form carrying the request's own fields; the form posts back to the same address with a
`reason`. A reason of only spaces is refused with a message (400) and nothing is written; with a reason the file is
built, the record written, then the file served — a download that could not be recorded is not served."""

from collections.abc import Callable, Iterable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from portal.accesslog.models import AccessAction
from portal.accesslog.services import access_record

REASON_FIELD = "reason"
REASON_MAX = 200


def download_reason(request: HttpRequest) -> str | None:
    """The reason posted with the request (spaces collapsed), "" when posted blank, None when not asked yet."""
    if request.method != "POST" or REASON_FIELD not in request.POST:
        return None
    return " ".join(request.POST.get(REASON_FIELD, "").split())[:REASON_MAX]


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
    response, targets, rows = build()
    access_record(action=action, request=request, targets=targets, count=rows,
                  reason=f"{reason} ({extra_reason})" if extra_reason else reason)
    return response
