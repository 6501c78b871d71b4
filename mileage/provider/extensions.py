"""Which of the protocol's extensions this shop's provider offers: negotiated, never assumed (docs/protocol.md
§6, docs/adr/0011-provider-profiles.md).

The standard profile is the public protocol (docs/protocol.md §1–2) and nothing else. A provider that offers
more says so in getAccumRate's answer: `extensions`, a comma-separated list
(`hold,status,serviceStatus,settlement,…`). The shop's setting 연동 방식 (노출설정 및 셋팅) can only narrow that list; a
provider that lists nothing is standard. Error codes are never read as "this provider has no such call": an
extension is used only when advertised — except where the public protocol itself tells a client to ask: the status
call to recover an approval's lost answer or a 3092 without a txId (`asks`), and the settlement report (§4).

An extension call answered in a way the portal did not expect (an unknown path, a 404, an HTML page, an unknown
result code, an answer without the fields the extension promises) never refuses a buyer: the extension is treated
as absent for that API ID from then on — logged once, kept as a ProviderExtensionNotice that the dashboard's 운영
지표 shows as a plain sentence — and the caller falls back to what the standard profile does.
"""

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from mileage import wire
from mileage.models import MileageSettings, ProviderExtensionNotice
from mileage.models.settings import ProviderProfile

from .client import REQ_TX_STATES, ApiResult, ProviderError, ProviderUnavailable, get_client

log = logging.getLogger(__name__)

HOLD = "hold"  # the popup's OK holds the chosen use until approval, abort or expiry
STATUS = "status"  # POST payment/{reqTxId}/status: what became of a reqTxId
SERVICE_STATUS = "serviceStatus"  # getAccumRate's serviceStatus (ACTIVE / SUSPENDED / REVIEW)
SETTLEMENT = "settlement"  # POST settlement/{YYYY-MM}: the provider's monthly report
RATE_CALENDAR = "rateCalendar"  # getAccumRate's next month's rate, whether it is fixed, the history
JOIN = "join"  # the partner sign-up with its application state in getAccumRate
IDEMPOTENCY = "idempotency"  # Idempotency-Key honoured on every POST

LABELS = {
    HOLD: _("사용 선택 보류"), STATUS: _("결제 상태 조회"), SERVICE_STATUS: _("서비스 상태"), SETTLEMENT: _("정산 보고서"),
    RATE_CALENDAR: _("적립률 예정표"), JOIN: _("가입신청 연동"), IDEMPOTENCY: _("중복 요청 방지 키"),
}
KNOWN = frozenset(LABELS)

RATE_CACHE_KEY = "mileage:rates"
UNAVAILABLE_RETRY_SECONDS = 30  # how long "the provider cannot be reached" is remembered, so pages do not wait on it
ACTIVE = "ACTIVE"
# 1xxx success, 2xxx request, 3xxx state (docs/protocol.md §2: the sandbox's numbering)
PROVIDER_CODE = re.compile(r"[123][0-9]{3}", re.ASCII)
# a result code of any provider: four digits, numbered its own way (§2 promises only 1000–1002 and 3092)
RESULT_CODE = re.compile(r"[0-9]{4}", re.ASCII)


def state_refusal(code: str | None) -> bool:
    """Whether a refusal may say the transaction's state does not allow the call (unknown, ended, replaced): the
    sandbox's 3xxx, or any result code of a provider numbering its errors its own way — never the sandbox's 1xxx
    or 2xxx (a request error: the key, a parameter)."""
    return bool(RESULT_CODE.fullmatch(code or "")) and not (PROVIDER_CODE.fullmatch(code) and code[0] != "3")


def sandbox_state_error(code: str | None) -> bool:
    """The sandbox's numbering of a state error (3xxx): the one numbering whose meaning the portal knows."""
    return bool(PROVIDER_CODE.fullmatch(code or "")) and code[0] == "3"

T = TypeVar("T")


@dataclass(frozen=True)
class ProviderInfo:
    """What getAccumRate says of this shop: the base rate, the service status and the advertised extensions."""

    base_rate_x10: int | None  # None: the provider could not be read
    service_status: str  # ACTIVE when the provider does not send one
    advertised: frozenset[str]
    # the extra rate the provider grants an ad visit now (addAccumRate), None when its answer does not say
    add_rate_x10: int | None = None


def advertised_in(raw: dict) -> frozenset[str]:
    """The extensions an answer lists (a comma- or space-separated string, or an XML/JSON list), the unknown left
    out."""
    value = raw.get("extensions", "")
    names = value if isinstance(value, list) else re.split(r"[\s,]+", str(value or ""))
    return frozenset(str(name).strip() for name in names) & KNOWN


def info_from(answer: ApiResult) -> ProviderInfo:
    advertised = advertised_in(answer.raw)
    # serviceStatus is the protocol's own field (docs/protocol.md §2): honoured whenever the provider sends it
    status = str(answer.raw.get("serviceStatus") or ACTIVE).strip().upper()
    # a rate that cannot be read is no rate (none shown), never 0%
    return ProviderInfo(_readable_rate(answer.raw.get("baseAccumRate")), status, advertised,
                        _readable_rate(answer.raw.get("addAccumRate")))


def stated_rate(answer: ApiResult) -> str:
    """getAccumRate's base rate as the screens write it ("1", "1.5"); "" when the answer states none it can read."""
    rate = _readable_rate(answer.raw.get("baseAccumRate"))
    return wire.rate_to_wire(rate) if rate is not None else ""


def _readable_rate(value) -> int | None:
    """A getAccumRate rate in tenths of a percent; None when the answer has none or one that cannot be read."""
    if value in (None, "") or isinstance(value, (dict, list)):
        return None
    try:
        return wire.rate_from_wire(str(value))
    except ValueError:
        return None


def _cache_key() -> str:
    """The cached answer belongs to one provider and one API ID: other credentials or another host read afresh."""
    api_id = MileageSettings.load().effective_credentials()[0]
    host = hashlib.sha256(django_settings.MILEAGE_API_BASE.encode()).hexdigest()[:12]
    return f"{RATE_CACHE_KEY}:{api_id}:{host}"


def provider_info(*, timeout_seconds: int = 300) -> ProviderInfo:
    """getAccumRate's answer for the configured credentials, cached (shared by every node through the cache); when
    it cannot be read, no rate and no extension for UNAVAILABLE_RETRY_SECONDS."""
    key = _cache_key()
    cached = cache.get(key)
    if isinstance(cached, (list, tuple)) and len(cached) == 4:
        return ProviderInfo(cached[0], cached[1], frozenset(cached[2]), cached[3])
    try:
        info = info_from(get_client().accum_rate(fresh=True))  # this cache is the one that counts
    except ProviderError as exc:
        log.warning("base rate unavailable: [%s]", exc.code)
        cache.set(key, (None, "", (), None), UNAVAILABLE_RETRY_SECONDS)
        return ProviderInfo(None, "", frozenset())
    cache.set(key, (info.base_rate_x10, info.service_status, sorted(info.advertised), info.add_rate_x10),
              timeout_seconds)
    return info


def forget_provider_info() -> None:
    cache.delete(_cache_key())


def in_use(*, settings: MileageSettings | None = None, info: ProviderInfo | None = None) -> frozenset[str]:
    """The extensions the portal uses now: advertised, not narrowed away by the shop's setting, not found absent."""
    settings = settings or MileageSettings.load()
    if settings.provider_profile == ProviderProfile.STANDARD:
        return frozenset()
    advertised = (info or provider_info()).advertised
    if not advertised:
        return frozenset()
    return advertised - _lost(settings.effective_credentials()[0])


LOST_SECONDS = 300


def _lost_key(api_id: str) -> str:
    return f"{RATE_CACHE_KEY}:lost:{api_id}"


def _lost(api_id: str) -> frozenset[str]:
    """The extensions found absent for this API ID, cached beside the provider's answer (read at every placement
    inside the approval's deadline) and forgotten when one more is found absent. A node whose copy is older only
    asks an absent extension once more: its unexpected answer marks it absent again and the call goes on without
    it."""
    key = _lost_key(api_id)
    lost = cache.get(key)
    if not isinstance(lost, (list, tuple)):
        lost = sorted(ProviderExtensionNotice.objects.filter(api_id=api_id).values_list("extension", flat=True))
        cache.set(key, lost, LOST_SECONDS)
    return frozenset(lost)


def labels(names) -> list[str]:
    """The Korean names of these extensions, in the protocol notes' order (for the console)."""
    return [str(label) for name, label in LABELS.items() if name in names]


# the provider-side states of a transaction (docs/protocol.md §2), which a status answer may name instead of the
# reqTxId's own state
TX_STATES = frozenset({"APPROVED", "STATED", "CONFIRMED", "ABORTED", "CANCELLED", "SUPERSEDED"})


def status_answer(answer: ApiResult) -> bool:
    """Whether an answer is one of the status call: it names the reqTxId's state, the transaction's state, or the
    txId (§2: "learn the state and txId"); the sandbox's reqTxState and doneUrl are more than a provider owes."""
    return (answer.req_tx_state in REQ_TX_STATES or answer.state.upper() in TX_STATES
            or bool(answer.tx_id and not answer.req_tx_state))


def status_of(client, req_tx_id: str, *, deadline: float | None = None) -> ApiResult | None:
    """The status extension's answer for a reqTxId, or None when it turned out absent (marked so). Raises a protocol
    error (e.g. 3001: no such reqTxId) or ProviderUnavailable as they are. Call it only where `uses(STATUS)` or
    `asks(STATUS)`."""
    return call(STATUS, lambda: client.status(req_tx_id, deadline=deadline), expected=status_answer)


def uses(name: str) -> bool:
    """Whether the portal uses extension `name` now: advertised, allowed, not found absent."""
    return name in in_use()


def asks(name: str) -> bool:
    """Whether the portal asks extension `name` when it needs it to recover (an approval's lost answer, a 3092
    without a txId): §2 tells a client to ask the status call then, so it is asked whether or not getAccumRate lists
    it — unless 연동 방식 is the standard protocol alone, or the call was found absent for this API ID. Never a
    call itself: read inside the approval's deadline."""
    settings = MileageSettings.load()
    if settings.provider_profile == ProviderProfile.STANDARD:
        return False
    return name not in _lost(settings.effective_credentials()[0])


def unexpected(exc: ProviderError) -> bool:
    """Whether an error is not an answer of the protocol at all (a 404 or HTML page, an unreadable body, a code
    outside 1xxx–3xxx): such an answer says the extension is not there, whatever was advertised."""
    return not isinstance(exc, ProviderUnavailable) and not PROVIDER_CODE.fullmatch(exc.code or "")


# the code of a notice the portal concluded itself: the answer lacked the extension's fields (the dashboard words it)
NO_FIELDS = "NO_FIELDS"
NO_FIELDS_BEFORE = "answer without the extension's fields"  # how such a notice was kept before it had its code


def mark_absent(name: str, detail: str) -> None:
    """From now on the portal works without extension `name` for this API ID (logged once, shown on the
    dashboard)."""
    api_id = MileageSettings.load().effective_credentials()[0]
    try:
        with transaction.atomic():
            ProviderExtensionNotice.objects.create(api_id=api_id, extension=name, detail=detail[:200])
    except IntegrityError:
        cache.delete(_lost_key(api_id))  # noticed before (by another node, whose forgetting this one missed)
        return  # logged then
    cache.delete(_lost_key(api_id))
    log.warning("provider extension %s answered unexpectedly for %s (%s): used no more", name, api_id, detail)


def call(name: str, send: Callable[[], T], *, expected: Callable[[T], bool] = lambda _result: True) -> T | None:
    """Make an extension call. None: the answer was not what the extension promises, so it is marked absent and the
    caller goes on as the standard profile would. A protocol error (1xxx–3xxx) or ProviderUnavailable is raised
    as it is."""
    try:
        result = send()
    except ProviderError as exc:
        if not unexpected(exc):
            raise
        mark_absent(name, f"[{exc.code}] {exc.message}")
        return None
    if not expected(result):
        mark_absent(name, f"[{NO_FIELDS}] {NO_FIELDS_BEFORE}")
        return None
    return result


def notices(api_id: str | None = None) -> list[ProviderExtensionNotice]:
    """The extensions found absent for this shop's API ID (the dashboard's 운영 지표)."""
    api_id = MileageSettings.load().effective_credentials()[0] if api_id is None else api_id
    return list(ProviderExtensionNotice.objects.filter(api_id=api_id))
