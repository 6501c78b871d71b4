"""Console screens of the mileage service: 노출설정 및 셋팅, 예외상품설정, 적립률 and 정산 (manual §1–2, §5)."""

import copy
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import urlencode

import django_filters as filters
import django_tables2 as tables
from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from cms_pages.selectors import live_disclosure, merchant_rows
from core.dates import ymd_hm
from core.idempotency import action_key
from mileage import wire
from mileage.models import ExclusionReason, MileageSettings
from mileage.models.settings import ProviderProfile
from mileage.policy import PolicyError
from mileage.policy.calendar import effective_month, next_cutoff
from mileage.policy.constants import BUSINESS_TZ
from mileage.provider import ProviderError, ProviderUnavailable, extensions, get_client
from mileage.provider.client import client_for
from mileage.selectors import mileage_in_flight
from mileage.services.exclusions import exclusion_set, exclusion_unset
from mileage.services.settlement import in_flight_last, monthly_statement, reconcile, report_lines
from mileage.templatetags.money import won_format
from portal.accesslog.models import AccessAction
from portal.accesslog.services import (
    REASON_EXCLUSION_SET,
    REASON_EXCLUSION_UNSET,
    REASON_SETTINGS,
    access_record,
    changed_fields,
    field_label,
)
from portal.accounts.audit import history_rows
from portal.catalog.models import Category, Product
from portal.parsing import int_or_none, parse_int
from portal.receipts.render import render_pdf

from .access import OperatorRequiredMixin
from .dashboard import last_months, monthly_series
from .downloads import download_with_reason
from .exports import export_response
from .filters import SearchFilter
from .jinja_tables import JinjaTableSpec, render_table
from .mileage_forms import ExclusionActionForm, MileageSettingsForm
from .tables import (
    BaseTable,
    BoundedPagingMixin,
    CachedSearchFormMixin,
    PageSizeMixin,
    WonColumn,
    rendering_version,
)


def provider_error_text(exc: ProviderError) -> str:
    """What an operator sees of a provider error: its code and the message (the provider's, or ours in Korean),
    never a library's exception text."""
    return f"[{exc.code}] {exc.message}"


class MileageSettingsView(OperatorRequiredMixin, View):
    template_name = "console/mileage_settings.html"

    def get(self, request):
        current = MileageSettings.load()
        return self.render(request, MileageSettingsForm(instance=current), current)

    def render(self, request, form, current, check=None, status=200):
        used = extensions.in_use(settings=current) if all(current.effective_credentials()) else frozenset()
        return render(request, self.template_name, {
            "form": form, "current": current, "check": check, "disclosure": live_disclosure(),
            "extensions": extensions.labels(used), "history": history_rows(current)}, status=status)

    def post(self, request):
        action = request.POST.get("action", "save")
        if action in ("enable", "disable"):
            return self.toggle(request, action == "enable")
        if action != "save":  # 연결 확인, or a button this page does not have: nothing saved
            current = MileageSettings.load()
            form = MileageSettingsForm(request.POST, instance=MileageSettings.load())
            if action != "check":
                form.is_valid()
                form.add_error(None, _("알 수 없는 요청이라 아무것도 저장하지 않았습니다. 페이지를 새로 연 뒤 버튼을 눌러 주세요."))
                return self.render(request, form, current, status=400)
            if not form.is_valid():
                return self.render(request, form, current, status=400)
            check = self.check(form.cleaned_data["api_id"], form.cleaned_data["hash_key"])
            extensions.forget_provider_info()  # the shop's pages read the provider afresh, as this check did
            return self.render(request, form, current, check=check)
        # the row is locked for the whole save: two operators saving at once, or one switching the service while
        # another saves, take turns, and each reads what the other wrote
        with transaction.atomic():
            current = MileageSettings.locked()
            form = MileageSettingsForm(request.POST, instance=copy.copy(current))  # `current` stays as it was
            if not form.is_valid():
                return self.render(request, form, current, status=400)
            if form.stale():  # saved by someone else since this operator opened the page: their change stands
                messages.error(request, _("이 화면을 연 뒤 다른 운영자가 설정을 먼저 바꿨습니다. 아무것도 저장하지 않았습니다. 아래는 지금 "
                                        "저장된 설정입니다. 바꾸려던 항목을 다시 고친 뒤 설정을 눌러 주세요."))
                return self.render(request, MileageSettingsForm(instance=current), current, status=409)
            keys_changed = (form.cleaned_data["api_id"], form.cleaned_data["hash_key"]) != (current.api_id,
                                                                                           current.hash_key)
            # new keys are tried before they are kept: a key the provider refuses would fail every buyer's popup
            check = self.check(form.cleaned_data["api_id"], form.cleaned_data["hash_key"]) if keys_changed else None
            if check is not None and not check["ok"] and current.service_enabled:
                # the service is on with the keys it has: a key the provider refuses (a typo) would fail every
                # buyer's popup, so nothing is saved and the working keys stay
                form.add_error(None, _("새 가맹점 API ID와 해쉬키로 네이버 마일리지에 연결되지 않아 아무것도 저장하지 않았습니다. "
                                       "서비스가 켜져 있는 동안에는 연결되는 키만 저장하며, 저장된 키는 그대로입니다. 키를 "
                                       "확인한 뒤 다시 설정을 누르거나, 지금 연결을 확인할 수 없으면 서비스를 끈 뒤에 저장해 "
                                       "주세요. (%(reason)s)") % {"reason": check["message"]})
                return self.render(request, form, current, status=400)
            saved = form.save(commit=False)
            saved.updated_by = request.user
            saved.save()
            # the fields whose value changed (a hash key left blank keeps the stored one: not a change)
            changed = changed_fields(current, saved, skip=("version", "updated_by", "updated_at"))
            if changed:
                access_record(action=AccessAction.SETTINGS, request=request, targets=changed,
                              reason=REASON_SETTINGS)
        extensions.forget_provider_info()
        if check is not None and not check["ok"]:  # the service is off: the keys are kept for when it works
            messages.warning(request, _("설정을 저장했습니다. 다만 새 키로 연결되지 않습니다: %(reason)s") % {
                "reason": check["message"]})
        elif check is not None and check.get("warning"):
            messages.warning(request, _("설정을 저장했습니다. %(note)s") % {"note": check["message"]})
        else:
            messages.success(request, _("설정을 저장했습니다. 적립 기준 안내 페이지에 바로 반영됩니다."))
            if check is not None and not saved.service_enabled:
                # new keys that work, on a service that is off (turned off by hand, or by the keys before them):
                # it stays off until someone turns it on, and the page says where
                messages.info(request, _("새 키로 연결되었습니다. 서비스는 꺼져 있습니다: 켜려면 위의 '서비스 켜기'를 눌러 "
                                         "주세요."))
        return redirect("console:mileage-settings")

    @staticmethod
    def check(api_id: str, hash_key: str) -> dict:
        """getAccumRate is public, so the key is proven by an authenticated call too: `key_check`."""
        client = client_for(api_id, hash_key, rate_cache_seconds=0)
        try:
            result = client.accum_rate(fresh=True)
            key_check(client)
        except ProviderError as exc:
            return {"ok": False, "message": _("연결 실패 %(error)s") % {"error": provider_error_text(exc)}}
        info = extensions.info_from(result)
        status = info.service_status
        if info.base_rate_x10 is None:
            # the keys work, but the rate the provider states cannot be read: no rate is shown to buyers (never 0%)
            return {"ok": True, "warning": True,
                    "message": _("연결은 되었지만 네이버 마일리지가 알려준 기본 적립률(%(rate)s)을 읽을 수 없습니다. 읽을 "
                                 "수 있을 때까지 상품 페이지와 적립 기준 안내에 적립률이 보이지 않습니다.") % {
                        "rate": str(result.raw.get("baseAccumRate", ""))[:20]}}
        if status != extensions.ACTIVE:
            # the keys work (ok: kept, and the service may be on), but until the provider says ACTIVE the shop offers
            # no mileage (docs/protocol.md §2: its pages follow getAccumRate by themselves); said, not refused
            return {"ok": True, "warning": True,
                    "message": _("연결은 되었지만 네이버 마일리지 서비스 상태가 %(status)s입니다. ACTIVE가 될 때까지 "
                                 "적립률과 적립/사용 버튼이 보이지 않습니다.") % {"status": status}}
        return {"ok": True, "message": _("연결 성공: 기본 적립률 %(rate)s%%") % {
            "rate": wire.rate_to_wire(result.base_rate_x10)}}

    def toggle(self, request, on: bool):
        # locked while the keys are checked: a save of other keys waits, and is checked itself, instead of landing
        # between this check and the switch
        check = None
        with transaction.atomic():
            current = MileageSettings.locked()
            if on:
                missing = []
                api_id, hash_key = current.effective_credentials()
                check = self.check(api_id, hash_key) if api_id and hash_key else None
                if check is None or not check["ok"]:
                    missing.append(_("가맹점 API ID와 해쉬키로 네이버 마일리지에 연결되지 않습니다."))
                if live_disclosure() is None:
                    missing.append(_("적립 기준 안내 페이지가 게시되어 있지 않습니다."))
                if missing:
                    for text in missing:
                        messages.error(request, text)
                    return redirect("console:mileage-settings")
            current.service_enabled, current.updated_by = on, request.user
            current.save(update_fields=["service_enabled", "updated_by", "updated_at"])
            access_record(action=AccessAction.SETTINGS, request=request, targets=[field_label(MileageSettings, "service_enabled")],
                          reason=REASON_SETTINGS)
        messages.success(request, _("네이버 마일리지 서비스를 켰습니다.") if on else _("네이버 마일리지 서비스를 껐습니다."))
        if check is not None and check.get("warning"):  # on, but the provider does not offer it yet
            messages.warning(request, check["message"])
        return redirect("console:mileage-settings")


# the fields of a settlement report that name it rather than count anything
REPORT_LABELS = frozenset({"resultCode", "resultMessage", "month", "yearMonth", "merchant", "apiId", "api_id"})


def _nonzero(value) -> bool:
    text = str(value).strip().lstrip("-")
    return text.isascii() and text.isdigit() and int(text) != 0


def report_readable(raw: dict) -> bool:
    """Whether a settlement report has the lines §4 promises (orderNo, earned and used in won); a report with no
    list of lines reads as a month without any only when its totals are nothing."""
    lines = report_lines(raw)
    if lines is None:  # a month without lines only when no figure of the answer says otherwise
        figures = [value for name, value in raw.items() if name not in REPORT_LABELS]
        if isinstance(raw.get("totals"), dict):
            figures += list(raw["totals"].values())
        return not any(_nonzero(value) for value in figures)
    return all(_line_readable(line) for line in lines)


def _line_readable(line: dict) -> bool:
    """A line names its order and states its figures in won; a figure it leaves out (a provider writing only what is
    not 0) is 0, but a line with none of earned, used and cancelled says nothing."""
    present = [line[name] for name in ("earned", "used", "cancelled") if line.get(name) not in (None, "")]
    return bool(line.get("orderNo")) and bool(present) and all(
        str(value).strip().lstrip("-").isascii() and str(value).strip().lstrip("-").isdigit() for value in present)


def key_check(client) -> None:
    """Prove the hash key with a call that carries it. First §4's settlement report, where the provider has one: it
    names no transaction, so a provider answers it with a report only for a secret it accepted. Otherwise the public
    protocol alone: the abort of a reqTxId no popup ever issued changes nothing. A state error (3xxx: no such
    reqTxId) says the provider accepted the secret only if a secret that cannot be right is answered otherwise — a
    provider that looks the reqTxId up before the secret answers every key alike, and proves none. docs/protocol.md
    §2 promises no other numbering, so another refusal is compared with the provider's answers to two secrets that
    cannot be right: the key is proven when those two are refused alike and ours otherwise (the provider told ours
    from a wrong one); otherwise — ours answered as they are, or the two wrong ones answered apart (a lockout, a
    limit) — ours is not proven and its refusal is raised (J3: the service is switched on only with keys the
    provider accepts). An answer that is no answer of the protocol is raised too."""
    if _report_answered(client):
        return
    refused = _abort_refusal(client)
    if refused is None:
        return
    if extensions.sandbox_state_error(refused.code):
        wrong = _abort_refusal(_wrong_key_client(client, 1))
        if wrong is not None and wrong.code != refused.code:  # a wrong key answered otherwise (or taken: no proof)
            return
        raise ProviderError(refused.code, str(KEY_NOT_CHECKED) % {"answer": provider_error_text(refused)})
    if not extensions.RESULT_CODE.fullmatch(refused.code):
        raise refused  # no answer of the protocol (unreadable, or not a result code)
    wrong = [_abort_refusal(_wrong_key_client(client, n)) for n in (1, 2)]
    codes = {exc.code if exc is not None else "" for exc in wrong}
    if len(codes) == 1 and "" not in codes and refused.code not in codes:
        return
    raise refused


KEY_NOT_CHECKED = _("네이버 마일리지가 해쉬키를 확인하지 않고 답했습니다 (틀린 키에도 같은 답: %(answer)s). 키가 맞는지 "
                               "알 수 없어 연결하지 않습니다.")


def _wrong_key_client(client, n: int):
    """A client of the same API ID with a secret that cannot be ours (40 hex)."""
    return client_for(client.api_id, hashlib.sha1(f"key-check:{n}:{client.hash_key}".encode()).hexdigest(),
                      rate_cache_seconds=0)


def _report_answered(client) -> bool:
    """Whether the provider answered this month's settlement report (§4), a read that names no transaction, to our
    secret and refused it to one that cannot be right (a provider serving the report to any key proves nothing).
    False without the report, refused, unanswered, or answered to the wrong key too: the abort decides then. Not
    asked when the shop's 연동 방식 is the standard protocol alone."""
    if MileageSettings.load().provider_profile == ProviderProfile.STANDARD:
        return False
    month = timezone.now().astimezone(BUSINESS_TZ).strftime("%Y-%m")
    try:
        client.settlement(month)
    except ProviderError:  # refused, no such path, or no answer now
        return False
    try:
        _wrong_key_client(client, 1).settlement(month)
    except ProviderUnavailable:
        return False
    except ProviderError:
        return True
    return False


def _abort_refusal(client) -> ProviderError | None:
    """The provider's refusal of the abort of a reqTxId no popup issued (None: it answered a success)."""
    try:
        client.abort(f"KEYCHECK{secrets.token_hex(6).upper()}", idempotency_key=action_key("key-check", uuid.uuid4().hex))
    except ProviderUnavailable:
        raise
    except ProviderError as exc:
        return exc
    return None


SORTED_MATCHES_CAP = 2000  # 상품명 matches sorted by themselves up to this many (PostgreSQL)


class ProductExclusionFilter(filters.FilterSet):
    category = filters.ModelChoiceFilter(label=_("상품분류"), queryset=Category.objects.all(),
                                         empty_label=_("전체 상품분류"))
    name = SearchFilter(label=_("상품명"), method="filter_name")
    display = filters.ChoiceFilter(label=_("진열상태"), field_name="is_displayed", empty_label=_("전체"),
                                   choices=[(True, _("진열중상품")), (False, _("미진열중상품"))])
    excluded = filters.ChoiceFilter(label=_("네이버마일리지 예외상품검색"), method="filter_excluded",
                                    empty_label=_("전체"), choices=[("yes", _("예외상품 보기")), ("no", _("적용상품 보기"))])

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_name(self, queryset, name, value):
        """상품명 contains `value`, newest first. On PostgreSQL the order is by an expression of the id (the same
        order): ORDER BY id DESC with a LIMIT lets the planner walk the primary key and test every name on the way,
        the whole table when the matches have small ids; ordered by the expression it finds the matches through the
        trigram index (product_name_trgm_idx, catalog 0002) and sorts only them — when they are few (SORTED_MATCHES_CAP)."""
        if not value:
            return queryset
        queryset = queryset.filter(name__icontains=value)
        if connection.vendor == "postgresql" and queryset.order_by()[:SORTED_MATCHES_CAP + 1].count() <= SORTED_MATCHES_CAP:
            # a few matches (counted up to the cap through the same index, ~1 ms): sorted by themselves; a term that
            # matches thousands keeps the primary key's order, where the next page's matches are found at once
            queryset = queryset.order_by((F("id") + 0).desc())
        return queryset

    def filter_excluded(self, queryset, name, value):
        return queryset.filter(mileage_exclusion__isnull=(value != "yes")) if value else queryset


class ProductExclusionTable(BaseTable):
    selection = tables.CheckBoxColumn(accessor="pk", attrs={
        "th__input": {"id": "select-all", "aria-label": _("전체 선택"), "class": "form-check-input"},
        "td__input": {"aria-label": _("선택"), "class": "form-check-input"}})
    name = tables.Column(verbose_name=_("상품명"))
    price_won = WonColumn(verbose_name=_("판매가"))
    manufacturer = tables.Column(verbose_name=_("제조사"))
    is_displayed = tables.Column(verbose_name=_("진열상태"))
    state = tables.Column(verbose_name=_("상태"), accessor="mileage_exclusion__reason", orderable=False)

    class Meta(BaseTable.Meta):
        model = Product
        fields = ("selection", "name", "price_won", "manufacturer", "is_displayed", "state")
        # Its columns give the headings and the sorting; the rows (plain values, exclusion_rows) are written by
        # jinja2/console/exclusion_table.html.


EXCLUSION_FIELDS = ("id", "name", "price_won", "manufacturer", "is_displayed", "mileage_exclusion__reason")


@dataclass(slots=True)
class ExclusionRow:
    """One product of 예외상품설정 as the template writes it."""

    id: int
    name: str
    price: str
    manufacturer: str
    displayed: str
    excluded: str  # "예외상품 (상품권)" for an excluded product, else ""
    select_label: str


def exclusion_rows(records) -> list[ExclusionRow]:
    """The page's products as the template writes them: the price grouped, labels in the active language."""
    money, select = won_format(), gettext("%(name)s 선택")
    displayed, hidden = gettext("진열함"), gettext("진열안함")
    reasons = {value: gettext("예외상품 (%(reason)s)") % {"reason": label} for value, label in ExclusionReason.choices}
    return [ExclusionRow(id=p["id"], name=p["name"], price=money % {"amount": f"{p['price_won']:,}"},
                         manufacturer=p["manufacturer"], displayed=displayed if p["is_displayed"] else hidden,
                         excluded=reasons.get(p["mileage_exclusion__reason"] or "", ""),
                         select_label=select % {"name": p["name"]}) for p in records]


CATEGORIES_VERSION_KEY = "console:categories-version"


def categories_changed(**kwargs) -> None:
    """A category was saved or deleted: 예외상품설정's search forms cached with the old choices are not used again
    (once its transaction commits: a form rendered before that would be cached under the new version)."""
    transaction.on_commit(lambda: cache.delete(CATEGORIES_VERSION_KEY))


EXCLUSION_COUNT_CAP = 10_000


class ExclusionListView(OperatorRequiredMixin, BoundedPagingMixin, PageSizeMixin, CachedSearchFormMixin,
                        SingleTableMixin, FilterView):
    template_name = "console/exclusions.html"
    search_template = "console/includes/exclusion_filters.html"
    search_cache_seconds = 300  # as the shop's category menu
    table_class = ProductExclusionTable
    filterset_class = ProductExclusionFilter
    default_page_size = 10

    def get_queryset(self):
        return Product.objects.order_by("-id")

    def get_table_data(self):
        # the table's columns only, as plain rows: no model instance per product
        return self.object_list.values(*EXCLUSION_FIELDS)

    def get_context_data(self, **kwargs):
        context, table, page, paginator, records = self.shown_page(**kwargs)
        context["table_html"] = render_table(
            "console/exclusion_table.html", spec=JinjaTableSpec.of(self.table_class, selection="selection"),
            request=self.request, table=table, page=page, paginator=paginator, rows=exclusion_rows(records),
            select_all=gettext("전체 선택"))
        context["search_form_html"] = self.search_form_html(self.filterset)
        # [검색 상품수 : N], counted exactly up to EXCLUSION_COUNT_CAP (a search of 100,000 products stops there)
        found = self.object_list.order_by()[:EXCLUSION_COUNT_CAP + 1].count()
        context["found_text"] = f"{min(found, EXCLUSION_COUNT_CAP):,}"
        context["found_capped"] = found > EXCLUSION_COUNT_CAP
        # the class: the template builds the form only when its cached fragment is rendered anew
        return {**context, "action_form": ExclusionActionForm, "rendering_version": rendering_version()}

    def search_key_extra(self) -> str:
        # the 상품분류 choices' version: a category added, renamed or deleted renders the form anew
        return cache.get_or_set(CATEGORIES_VERSION_KEY, lambda: uuid.uuid4().hex, None)

    def post(self, request):
        asked = [i for i in (int_or_none(raw) for raw in request.POST.getlist("selection")) if i is not None]
        # the products that exist, each once (a stale page's deleted product, an id sent twice)
        products = list(Product.objects.filter(pk__in=asked).order_by("pk").values_list("pk", "code"))
        ids, codes = [pk for pk, _code in products], [code for _pk, code in products]
        action = request.POST.get("action")
        if not ids:
            messages.error(request, _("상품을 선택해 주세요."))
        elif action not in ("set", "unset"):
            messages.error(request, _("예외상품설정 또는 예외상품설정 해제를 눌러 주세요."))
        elif action == "unset":
            count = exclusion_unset(product_ids=ids, by=request.user)
            if count:
                access_record(action=AccessAction.SETTINGS, request=request, targets=codes, count=count,
                              reason=REASON_EXCLUSION_UNSET)
            messages.success(request, _("예외상품설정 해제: %(count)s건") % {"count": count})
        else:
            try:
                count = exclusion_set(product_ids=ids, reason=request.POST.get("reason", ""), by=request.user)
            except PolicyError as exc:
                messages.error(request, str(exc))
            else:
                access_record(action=AccessAction.SETTINGS, request=request, targets=codes, count=count,
                              reason=REASON_EXCLUSION_SET)
                messages.success(request, _("예외상품설정: %(count)s건") % {"count": count})
        return redirect(request.get_full_path())


class RateCalendarView(OperatorRequiredMixin, View):
    def get(self, request):
        now = timezone.now()
        try:
            rates = get_client().accum_rate(fresh=True)
        except ProviderError as exc:
            return render(request, "console/rates.html", {"error": provider_error_text(exc)}, status=502)
        raw = rates.raw
        history = raw.get("history") or []
        if isinstance(history, dict):
            history = [history]
        # the provider's ISO timestamp read in business time; its month as the rest of the screen writes months
        history = [{**row, "requested": _business_time(row.get("requestedAt")),
                    "from_month": str(row.get("effectiveFrom") or "")[:7]} for row in history if isinstance(row, dict)]
        cutoff = next_cutoff(now)
        return render(request, "console/rates.html", {
            "current": extensions.stated_rate(rates), "next_month": raw.get("nextMonth"),
            "next_rate": raw.get("nextMonthRate"), "fixed": raw.get("nextMonthFixed") == "Y", "history": history,
            "cutoff": cutoff, "remaining": cutoff - now, "change_applies_from": "{:04d}-{:02d}".format(*effective_month(now))})


def _business_time(value) -> str:
    """A provider's ISO 8601 moment as the console writes times (Asia/Seoul, to the minute); what is not one, as
    sent."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value or "")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return ymd_hm(moment)


def _asked_month(value: str) -> str:
    """`value` as YYYY-MM when it is a month from 2000-01 to this month, else ""."""
    try:
        year, month = value.split("-")
        # from 2000: the chart beside the month reaches a year back, and the service is younger than that
        asked = date(parse_int(year, min_value=2000, max_value=9999, max_length=4),
                     parse_int(month, min_value=1, max_value=12, max_length=2), 1).strftime("%Y-%m")
    except ValueError:
        return ""
    return asked if asked <= timezone.now().astimezone(BUSINESS_TZ).strftime("%Y-%m") else ""


def _month(request) -> str:
    """The month asked for (YYYY-MM, from 2000 to this month); this month when none is asked, or — said on the page —
    when the one asked is not a month or lies ahead."""
    value = request.GET.get("month", "").strip()  # a blank month is no month asked
    this_month = timezone.now().astimezone(BUSINESS_TZ).strftime("%Y-%m")
    asked = _asked_month(value)
    if asked:
        return asked
    if value and request.method == "GET" and not request.GET.get("export"):
        messages.warning(request, _("정산할 수 없는 달입니다: %(asked)s. 2000-01부터 이번 달까지 YYYY-MM으로 골라 주세요. "
                                    "이번 달을 보여 드립니다.") % {"asked": value[:20]})
    return this_month


SETTLEMENT_EXPORTS = ("csv", "xlsx", "pdf")


STATEMENT_LINES_PER_PAGE = 100


class SettlementView(OperatorRequiredMixin, View):
    def post(self, request):
        """The 다운로드 사유 form of an export posts back here (the month and the kind in the query string)."""
        if request.GET.get("export") not in SETTLEMENT_EXPORTS:  # nothing to download: the month's screen again
            messages.error(request, _("내려받을 형식(CSV, XLSX, PDF)을 정산 화면에서 골라 주세요."))
            return redirect(f"{reverse('console:settlement')}?{urlencode({'month': _month(request)})}")
        return self.get(request)

    def get(self, request):
        month = _month(request)
        export = request.GET.get("export")
        asked = request.GET.get("month", "").strip()
        if export in SETTLEMENT_EXPORTS and asked and not _asked_month(asked):
            # an export of another month than the one asked would be filed as that one: refused, said on the page
            messages.error(request, _("정산할 수 없는 달이라 내려받지 않았습니다: %(asked)s. 2000-01부터 이번 달까지 "
                                      "YYYY-MM으로 골라 주세요.") % {"asked": asked[:20]})
            return redirect("console:settlement")
        if export in SETTLEMENT_EXPORTS:  # the reason first; the statement is the portal's own, no provider call
            title = _("정산 %(month)s %(kind)s") % {"month": month, "kind": export.upper()}
            return download_with_reason(request, title=title, build=lambda: export_statement(
                monthly_statement(month), export))
        statement = monthly_statement(month)
        report, error, unlisted_answer = None, "", ""
        if MileageSettings.load().provider_profile != ProviderProfile.STANDARD:
            # §4's report is asked whether or not getAccumRate lists it: a provider that has none answers with an
            # unknown path (no report, the same page next time), never with a report that is not one
            try:
                report = get_client().settlement(month)
            except ProviderError as exc:
                # a provider that does not list the report and refuses the path (a web server's 404, or a code of
                # its own such as "unknown path") has none: the ledger alone, as for the standard protocol, with its
                # answer quoted (a refused key reads there too); one that lists it and fails, or does not answer, is
                # an error to show
                if extensions.unexpected(exc):
                    pass
                elif isinstance(exc, ProviderUnavailable) or extensions.uses(extensions.SETTLEMENT):
                    error = provider_error_text(exc)
                else:
                    unlisted_answer = provider_error_text(exc)
            else:
                if not report_readable(report):
                    report, error = None, _("보고서에서 주문별 적립·사용 금액(orderNo, earned, used)을 읽을 수 없습니다. "
                                            "네이버 마일리지 파트너센터의 정산 내역과 비교해 주세요.")
        mismatches = []
        if report is not None:  # the orders that differ, then which of those few are still on their way
            mismatches = reconcile(statement, report)
            if mismatches:
                # a call answered between the two reads (a 환불완료 at that moment) is in the report and not yet in
                # the statement, and no longer on its way: the statement is read once more, and an order differs
                # only if it differed both times (the page shows the later read, the one the report is compared to)
                statement = monthly_statement(month)
                before = {m.order_number for m in mismatches}
                mismatches = [m for m in reconcile(statement, report) if m.order_number in before]
            mismatches = in_flight_last(mismatches, mileage_in_flight(m.order_number for m in mismatches))
        year, number = (int(p) for p in month.split("-"))
        # 주문별 내역 a page at a time (a busy month has thousands of orders); the totals above are the whole month's
        # and the exports carry every line
        lines = Paginator(statement.lines, STATEMENT_LINES_PER_PAGE).get_page(request.GET.get("page"))
        return render(request, "console/settlement.html", {
            "month": month, "statement": statement, "lines": lines, "report": report, "mismatches": mismatches,
            "error": error,
            "unlisted_answer": unlisted_answer,
            "chart": monthly_series(last_months(date(year, number, 1)))})


def export_statement(statement, kind: str) -> tuple[HttpResponse, list[str], int]:
    """The month's statement as CSV/XLSX (the same figures and the same 정산 차액 statement as the screen) or PDF;
    with the order numbers it names and their count (for the access log)."""
    # each kind as the screen's tables show it: 발생, 취소 (negative) and 합계 = 발생 + 취소, per order and in all
    header = [_("주문번호"), _("적립 발생 (가맹점 → 네이버)"), _("적립 취소"), _("적립 합계"),
              _("사용 발생 (네이버 → 가맹점)"), _("사용 취소"), _("사용 합계")]

    def figures(totals) -> list[int]:
        return [totals.earned_before_cancels, -totals.earn_cancelled, totals.earned,
                totals.used_before_cancels, -totals.use_cancelled, totals.used]

    rows = [[line.order_number, *figures(line)] for line in statement.lines]
    totals = [_("합계"), *figures(statement)]
    balance = statement.balance
    name = f"settlement-{statement.month}"
    numbers = [line.order_number for line in statement.lines]
    if kind in ("csv", "xlsx"):
        return export_response([header, *rows, totals, [_("정산 차액"), balance.amount_won, balance.payer_label]],
                               kind=kind, filename=name, sheet=statement.month), numbers, len(numbers)
    # whose statement it is and when it was issued: the shop's name, its API ID at the provider, the moment
    pdf = render_pdf("receipts/statement.html", {
        "statement": statement, "merchant": merchant_rows(),
        "api_id": MileageSettings.load().effective_credentials()[0], "issued_at": timezone.now()})
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    return response, numbers, len(numbers)
