"""The provider client: the popup URL and its signed return, and every server-to-server call.

One `requests.Session`, connect/read timeouts and ONE attempt per call: retrying is the caller's business (the outbox
for every call that follows a state change, the checkout's authorisation for the approval), always with the same
Idempotency-Key. Results are typed; errors are exceptions carrying the provider's code and message.
"""

import json
import logging
import os
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.utils.translation import gettext as _

from mileage import wire
from mileage.models import MileageSettings
from mileage.policy import PolicyError, validate_use

log = logging.getLogger(__name__)

ALREADY_DONE = "3092"
SUCCESS_CODES = frozenset({"1000", ALREADY_DONE})
# 1001/1002: accepted, completed later — success for an approval and a re-approval (docs/protocol.md §2).
APPROVAL_SUCCESS_CODES = SUCCESS_CODES | {"1001", "1002"}
# what the status extension may say of a reqTxId
REQ_TX_STATES = frozenset({"OPEN", "HELD", "EXPIRED", "CANCELLED", "ABORTED", "USED"})
REQ_TX_ONLY_STATES = frozenset({"OPEN", "HELD", "EXPIRED", "USED"})  # a reqTxId's, never a transaction's (§2)


class ProviderError(Exception):
    """The provider answered with an error code (or its answer could not be trusted)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"[{code}] {message}")
        self.code, self.message = code, message


class ProviderUnavailable(ProviderError):
    """Transient: connection refused, timeout or HTTP 5xx. Safe to retry with the same key."""


@dataclass(frozen=True)
class ApiResult:
    code: str
    message: str
    tx_id: str = ""
    base_rate_x10: int = 0
    add_rate_x10: int = 0
    earn_won: int = 0
    raw: dict = field(default_factory=dict)
    provider_ms: float | None = None

    @property
    def state(self) -> str:
        """The provider's state of the transaction, when the answer names it (e.g. APPROVED, ABORTED)."""
        return str(self.raw.get("state", ""))

    @property
    def req_tx_state(self) -> str:
        """The status call's state of a reqTxId: OPEN, HELD, EXPIRED, CANCELLED, ABORTED or USED. The sandbox names it
        `reqTxState`; a provider that answers one `state` (§2 names no field) and says HELD, OPEN, EXPIRED or USED
        there speaks of the reqTxId too — no transaction has those states — so it is read as the same answer."""
        named = str(self.raw.get("reqTxState", ""))
        if named:
            return named
        state = self.state.upper()
        return state if state in REQ_TX_ONLY_STATES else ""


@dataclass(frozen=True)
class PaymentRequest:
    order_no: str
    product_name: str
    qty: int
    order_amount_won: int
    amount_won: int  # the earn base (docs/policy.md E1)
    mileage_use_won: int
    is_member: bool
    is_confirmed: bool
    items: list[wire.WireItem]
    cash_use_won: int = 0
    req_tx_id: str = ""

    def fields(self) -> dict[str, str]:
        data = {
            "orderNo": self.order_no, "orderProductName": wire.order_product_name(self.product_name),
            "qty": str(self.qty), "orderAmount": str(self.order_amount_won), "amount": str(self.amount_won),
            "mileageUseAmount": str(self.mileage_use_won), "cashUseAmount": str(self.cash_use_won),
            "isMember": "Y" if self.is_member else "N", "isConfirmed": "Y" if self.is_confirmed else "N",
            "items": wire.encode_items(self.items),
        }
        if self.req_tx_id:
            data["reqTxId"] = self.req_tx_id
        return data

    def to_json(self) -> dict:
        return {**{k: v for k, v in self.__dict__.items() if k != "items"},
                "items": [i.__dict__ for i in self.items]}

    @classmethod
    def from_json(cls, data: dict) -> "PaymentRequest":
        return cls(**{**data, "items": [wire.WireItem(**i) for i in data.get("items", [])]})


@dataclass(frozen=True)
class Invoice:
    shipped_date: str  # YYYYMMDD
    invoice_no: str
    recipient_name: str
    service_company: str
    address: str
    recipient_tel_no: str = ""
    recipient_cph_no: str = ""

    def fields(self) -> dict[str, str]:
        """The wire form: the name masked and base64, company and address base64, phones masked digit by digit,
        a missing number left out (never sent empty)."""
        data = {"shippedDate": self.shipped_date, "invoiceNo": self.invoice_no,
                "recipientName": wire.b64(wire.mask_name(self.recipient_name)),
                "serviceCompany": wire.b64(self.service_company), "address": wire.b64(self.address)}
        for name, number in (("recipientTelNo", self.recipient_tel_no), ("recipientCphNo", self.recipient_cph_no)):
            masked = wire.mask_phone(number) if number else ""
            if masked:
                data[name] = masked
        return data


def _parse(response: requests.Response) -> dict:
    """The answer's fields, read by what its body is (a JSON object or an XML document), whatever Content-Type
    claims; the header decides only a body that is neither."""
    text = _decoded(response)
    if text.startswith("{") or (not text.startswith("<") and "json" in response.headers.get("Content-Type", "")):
        answer = json.loads(text)
        return answer.get("response", {}) if isinstance(answer, dict) else {}
    if text.startswith("<?xml"):  # its encoding is read already (_decoded): the document alone is parsed
        text = text[text.index("?>") + 2:] if "?>" in text else text
    root = ET.fromstring(text)
    return _xml_fields(list(root))


XML_ENCODING = re.compile(rb"\s*(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding=[\"']([A-Za-z0-9_.:-]+)[\"']")
HEADER_CHARSET = re.compile(r"charset=[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def _decoded(response: requests.Response) -> str:
    """The answer's text in the encoding it declares — the XML declaration's, else the Content-Type's charset, else
    UTF-8 (a provider answering in EUC-KR keeps its Korean messages readable)."""
    raw = response.content
    declared = XML_ENCODING.match(raw)
    named = HEADER_CHARSET.search(response.headers.get("Content-Type", ""))
    encoding = declared.group(1).decode("ascii") if declared else (named.group(1) if named else "utf-8")
    try:
        text = raw.decode(encoding, errors="replace")
    except LookupError:  # an encoding Python does not know: read as UTF-8
        text = raw.decode("utf-8", errors="replace")
    return text.lstrip("\ufeff").strip()


def _xml_fields(children: list[ET.Element]) -> dict:
    """Elements as fields by their tag; a tag that repeats (a report's <line>, <line>, …) is the list of its values,
    never its last one alone."""
    grouped: dict[str, list] = {}
    for child in children:
        grouped.setdefault(child.tag, []).append(_xml_value(child))
    return {tag: values[0] if len(values) == 1 else values for tag, values in grouped.items()}


def _xml_value(node: ET.Element):
    children = list(node)
    if not children:
        return (node.text or "").strip()  # an indented document pads its values: <resultCode> 1000 </resultCode>
    tags = {c.tag for c in children}
    if tags == {"item"} or (len(children) > 1 and len(tags) == 1):  # <items><item/>…, <lines><line/><line/>…
        return [_xml_value(c) for c in children]
    return _xml_fields(children)


def _session(api_base: str) -> requests.Session:
    """The client's session, with what requests would otherwise look up in the environment on every call (its
    proxies for the provider's host, NO_PROXY honoured; the CA bundle; a ~/.netrc, which the protocol never uses)
    read once, here."""
    session = requests.Session()
    session.proxies.update(requests.utils.get_environ_proxies(api_base))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
    return session


class MileageClient:
    def __init__(self, *, api_base: str, service_base: str, api_id: str, hash_key: str,
                 session: requests.Session | None = None, connect_timeout: float = 3.0, read_timeout: float = 10.0,
                 send_extension_headers: bool = True,
                 fmt: str = "xml", rate_cache_seconds: float = 300.0):
        self.api_base, self.service_base = api_base.rstrip("/"), service_base.rstrip("/")
        self.api_id, self.hash_key = api_id, hash_key
        self.session = session or _session(self.api_base)
        self.timeout = (connect_timeout, read_timeout)
        self.send_extension_headers, self.fmt = send_extension_headers, fmt
        self.rate_cache_seconds = rate_cache_seconds
        self._rate_cache: tuple[float, ApiResult] | None = None
        self._lock = threading.Lock()

    # --- popup -----------------------------------------------------------------------------------------------

    def popup_url(self, *, done_url: str, max_use_won: int, ncisy: str = "", req_tx_id: str = "",
                  timestamp: int | None = None) -> str:
        stamp = int(time.time()) if timestamp is None else timestamp
        query = urlencode({"doneUrl": done_url, "maxUseAmount": max_use_won, "Ncisy": ncisy, "reqTxId": req_tx_id,
                           "sig": wire.popup_signature(self.hash_key, stamp, done_url), "timestamp": stamp})
        return f"{self.service_base}/service/v2/accumulation/{self.api_id}?{query}"

    def verify_done(self, params: Mapping[str, str], *, max_use_won: int) -> wire.DoneResult:
        """Check the popup's return: integers, the signature (constant time, on OK, CANCEL and ERROR alike), then
        the result code and the amounts against what was offered. Nothing unsigned is acted on."""
        code = params.get("resultCode", "")
        try:
            result = wire.DoneResult(
                result_code=code, req_tx_id=params.get("reqTxId", ""),
                base_rate_x10=wire.rate_from_wire(params.get("baseAccumRate") or "0"),
                add_rate_x10=wire.rate_from_wire(params.get("addAccumRate") or "0"),
                mileage_use_won=_non_negative(params.get("mileageUseAmount") or "0"),
                cash_use_won=_non_negative(params.get("cashUseAmount") or "0"),
                total_use_won=_non_negative(params.get("totalUseAmount") or "0"),
                balance_won=_non_negative(params.get("balanceAmount") or "0"),
            )
        except (KeyError, ValueError) as exc:
            raise ProviderError("BAD_RESULT", _("네이버 마일리지 응답 형식이 올바르지 않습니다.")) from exc
        if code not in ("OK", "CANCEL", "ERROR") or not wire.constant_time_equal(
                params.get("sig", ""), wire.done_signature(self.hash_key, result)):
            raise ProviderError("BAD_SIGNATURE", _("네이버 마일리지 응답의 서명이 올바르지 않습니다."))
        if code == "CANCEL":
            raise ProviderError("CANCEL", _("네이버 마일리지 적립/사용을 취소했습니다."))
        if code != "OK" or not result.req_tx_id:
            raise ProviderError("ERROR", _("네이버 마일리지 적립/사용에 실패했습니다."))
        if result.mileage_use_won > max_use_won or result.total_use_won > max_use_won:
            raise ProviderError("ABOVE_OFFER", _("사용금액이 이 주문의 최대 사용가능금액(%(max)s원)을 넘습니다.")
                                % {"max": f"{max_use_won:,}"})
        try:  # U1 on the portal's side too: no use, or at least 500원 (a signed answer is not proof of the rule)
            validate_use(result.total_use_won, balance_won=result.total_use_won, max_use_won=max_use_won)
        except PolicyError as exc:
            raise ProviderError("BELOW_MINIMUM", str(exc)) from exc
        return result

    # --- server to server ------------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.api_base}/v2/partner/{self.api_id}/{path}"

    def _timeout(self, deadline: float | None) -> tuple[float, float]:
        """The connect and read timeouts of one call, cut to what is left before `deadline` (time.monotonic)."""
        if deadline is None:
            return self.timeout
        left = deadline - time.monotonic()
        if left <= 0.05:
            raise ProviderUnavailable("DEADLINE", _("네이버 마일리지 서버에 연결할 수 없습니다."))
        return (min(self.timeout[0], left), min(self.timeout[1], left))

    def _send(self, method: str, path: str, fields: dict[str, str], idempotency_key: str = "", *,
              success: frozenset[str] = SUCCESS_CODES, fmt: str | None = None,
              deadline: float | None = None) -> ApiResult:
        """One attempt, within `deadline` if one is given. A transient failure (no connection, a timeout, HTTP 5xx)
        raises ProviderUnavailable: the caller retries with the same idempotency key (the outbox does)."""
        url = self._url(path)
        # The secret travels only in a POST body; a GET (getAccumRate: rates are public) carries none.
        data = {**fields, "format": fmt or self.fmt}
        if method != "GET":
            data["secret"] = self.hash_key
        try:
            timeout = self._timeout(deadline)
            if method == "GET":
                response = self.session.get(url, params=data, timeout=timeout)
            else:
                body = urlencode(data).encode()
                headers = {"Content-Type": "application/x-www-form-urlencoded"}
                if idempotency_key:
                    headers["Idempotency-Key"] = idempotency_key
                if self.send_extension_headers:
                    stamp = str(int(time.time()))
                    path_only = requests.utils.urlparse(url).path
                    headers["X-Mileage-Timestamp"] = stamp
                    headers["X-Mileage-Signature"] = wire.request_signature(self.hash_key, "POST", path_only,
                                                                            stamp, body)
                response = self.session.post(url, data=body, headers=headers, timeout=timeout)
        except (requests.ConnectionError, requests.Timeout) as exc:
            # never the exception text: it carries the URL
            log.warning("provider %s %s failed: %s", method, path, type(exc).__name__)
            raise ProviderUnavailable("UNAVAILABLE", _("네이버 마일리지 서버에 연결할 수 없습니다.")) from None
        if response.status_code >= 500 or response.status_code == 429:  # busy (429 Too Many Requests): no answer yet
            log.warning("provider %s %s failed: HTTP %s", method, path, response.status_code)
            raise ProviderUnavailable("UNAVAILABLE", _("네이버 마일리지 서버에 연결할 수 없습니다."))
        try:
            payload = _parse(response)
            if not isinstance(payload, dict) or not str(payload.get("resultCode") or ""):
                raise ValueError("no resultCode: not an answer of the protocol")
        except (ET.ParseError, json.JSONDecodeError, ValueError, AttributeError) as exc:
            code = f"HTTP{response.status_code}" if response.status_code >= 400 else "BAD_ANSWER"
            raise ProviderError(code, _("네이버 마일리지 서버의 응답을 읽을 수 없습니다 (HTTP %(status)s).")
                                % {"status": response.status_code}) from exc
        code = str(payload.get("resultCode", ""))
        result = ApiResult(
            code=code, message=str(payload.get("resultMessage", "")), tx_id=str(payload.get("txId", "")),
            base_rate_x10=_rate(payload.get("baseAccumRate")), add_rate_x10=_rate(payload.get("addAccumRate")),
            # the earn granted: baseAccumAmount, and an ad inflow's addAccumAmount where a provider states that part
            # apart (the protocol's example names the first alone; a provider's answer with both grants their sum)
            earn_won=_won(payload.get("baseAccumAmount")) + _won(payload.get("addAccumAmount")), raw=payload,
            # the sandbox states its own time; any other provider is timed as the portal waited for its answer
            provider_ms=float(response.headers["X-Provider-Time-Ms"])
            if "X-Provider-Time-Ms" in response.headers else response.elapsed.total_seconds() * 1000,
        )
        if code not in success:
            raise ProviderError(code or str(response.status_code), result.message or response.reason)
        return result

    def _on(self, template: str, ident: str) -> str:
        """A call's path on a txId or reqTxId; an empty one is refused here, never sent as `/payment//…`."""
        if not ident or "/" in ident:
            raise ProviderError("NO_TX_ID", _("거래번호가 없어 요청을 보낼 수 없습니다."))
        return template.format(ident)

    def approve(self, request: PaymentRequest, *, idempotency_key: str, deadline: float | None = None) -> ApiResult:
        return self._send("POST", "payment", request.fields(), idempotency_key, success=APPROVAL_SUCCESS_CODES,
                          deadline=deadline)

    def abort(self, req_tx_id: str, *, idempotency_key: str, deadline: float | None = None) -> ApiResult:
        return self._send("POST", self._on("payment/{}/abort", req_tx_id), {}, idempotency_key, deadline=deadline)

    def status(self, req_tx_id: str, *, deadline: float | None = None) -> ApiResult:
        """Extension (`status`): what became of a reqTxId (and its txId once approved). A read, with a key of its own
        (§2's extension: every POST carries one; nothing is applied twice by reading again). Call it through
        mileage.provider.extensions, only when the provider advertises it."""
        return self._send("POST", self._on("payment/{}/status", req_tx_id), {}, uuid.uuid4().hex, deadline=deadline)

    def stated(self, tx_id: str, *, idempotency_key: str) -> ApiResult:
        return self._send("POST", self._on("payment/{}/stated", tx_id), {}, idempotency_key)

    def cancel_stated(self, tx_id: str, *, idempotency_key: str) -> ApiResult:
        return self._send("POST", self._on("payment/{}/cancel/stated", tx_id), {}, idempotency_key)

    def cancel(self, tx_id: str, *, idempotency_key: str) -> ApiResult:
        return self._send("POST", self._on("payment/{}/cancel", tx_id), {}, idempotency_key)

    def repayment(self, tx_id: str, request: PaymentRequest, *, idempotency_key: str) -> ApiResult:
        return self._send("POST", self._on("repayment/{}", tx_id), request.fields(), idempotency_key,
                          success=APPROVAL_SUCCESS_CODES)

    def confirmed(self, tx_id: str, *, idempotency_key: str) -> ApiResult:
        return self._send("POST", self._on("payment/{}/confirmed", tx_id), {}, idempotency_key)

    def invoice(self, tx_id: str, invoice: Invoice, *, idempotency_key: str) -> ApiResult:
        return self._send("POST", self._on("delivery/{}/invoice", tx_id), invoice.fields(), idempotency_key)

    def accum_rate(self, *, fresh: bool = False) -> ApiResult:
        """getAccumRate, cached for `rate_cache_seconds`."""
        with self._lock:
            cached = self._rate_cache
            if not fresh and cached and time.monotonic() - cached[0] < self.rate_cache_seconds:
                return cached[1]
        result = self._send("GET", "getAccumRate", {})
        with self._lock:
            self._rate_cache = (time.monotonic(), result)
        return result

    def settlement(self, month: str) -> dict:
        return self._send("POST", f"settlement/{month}", {}, uuid.uuid4().hex, fmt="json").raw  # a read, keyed (§2)


def _non_negative(text: str) -> int:
    if not isinstance(text, str) or not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise ValueError(f"not a non-negative integer: {text!r}")
    return int(text)


def _won(value) -> int:
    try:
        return _non_negative(str(value)) if value not in (None, "") else 0
    except ValueError:
        return 0


def _rate(value) -> int:
    try:
        return wire.rate_from_wire(str(value)) if value not in (None, "") else 0
    except ValueError:
        return 0


_clients: dict[tuple, MileageClient] = {}
_clients_lock = threading.Lock()


def client_for(api_id: str, hash_key: str, **overrides) -> MileageClient:
    """A client for these credentials with the MILEAGE_* settings (hosts, timeouts, headers, rate cache)."""
    options = {"connect_timeout": settings.MILEAGE_CONNECT_TIMEOUT, "read_timeout": settings.MILEAGE_READ_TIMEOUT,
               "send_extension_headers": settings.MILEAGE_SEND_EXTENSION_HEADERS,
               "rate_cache_seconds": settings.MILEAGE_RATE_CACHE_SECONDS, **overrides}
    return MileageClient(api_base=settings.MILEAGE_API_BASE, service_base=settings.MILEAGE_SERVICE_BASE,
                         api_id=api_id, hash_key=hash_key, **options)


def get_client(**overrides) -> MileageClient:
    """The client for the current settings (screen values win over the environment) and these overrides (e.g. the
    approval's short timeouts); one per configuration, so its connections are kept alive between calls."""
    api_id, hash_key = MileageSettings.load().effective_credentials()
    key = (settings.MILEAGE_API_BASE, settings.MILEAGE_SERVICE_BASE, api_id, hash_key, *sorted(overrides.items()))
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = client_for(api_id, hash_key, **overrides)
            _clients[key] = client
    return client
