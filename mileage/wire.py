"""The provider wire protocol (docs/protocol.md): signatures, encodings and the inflow token.

Pure Python, shared by the portal's client and the provider sandbox so that both sides compute the very same
bytes. Nothing here knows about Django, and nothing here imports the rest of the project: this module is the one
piece of the portal that the provider sandbox may import (docs/adr/0008). The protocol owns the facts it carries
(the ×10 rate scale, the product name's length, the inflow token's fields); `mileage.policy` takes them from here.
"""

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

# Rates are percentages with one decimal, written "1" or "1.5" in fields; the popup result's signature and
# both sides' arithmetic use the rate × 10 as an int (docs/protocol.md §1, docs/policy.md E2).
RATE_SCALE = 10

# orderProductName is cut to 66 characters before base64 (docs/protocol.md §2).
ORDER_PRODUCT_NAME_MAX_CHARS = 66


@dataclass(frozen=True)
class InflowToken:
    """The NaPm inflow token's fields (docs/protocol.md §5). Minted and signed by the provider; the shop can
    only read them."""

    visited_at: datetime  # ct
    channel: str  # ci
    traffic_type: str  # tr: sa search ad, ds shopping
    base_rate_x10: int  # ba
    extra_rate_x10: int  # aa
    expires_at: datetime  # et
    signature: str  # hk, only the provider can verify it
    raw: str = ""  # the token as received, handed back to the provider as Ncisy

_PHP_SAFE = "-_."


def php_urlencode(value: str) -> str:
    """PHP's urlencode: space → '+', every byte but A–Z a–z 0–9 - _ . → %XX (uppercase hex)."""
    return quote(value, safe=_PHP_SAFE).replace("%20", "+").replace("~", "%7E")


def hmac_sha1_hex(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha1).hexdigest()


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def popup_signature(hash_key: str, timestamp: int | str, done_url: str) -> str:
    """§1: sig = hex HMAC-SHA1(hash key, timestamp + urlencode(doneUrl))."""
    return hmac_sha1_hex(hash_key, f"{timestamp}{php_urlencode(done_url)}")


def rate_to_wire(rate_x10: int) -> str:
    """A rate ×10 as the percentage the wire shows: 10 → '1', 15 → '1.5'."""
    whole, tenth = divmod(rate_x10, RATE_SCALE)
    return str(whole) if tenth == 0 else f"{whole}.{tenth}"


class NotANumber(ValueError):
    """Raised by `parse_int`: `kind` is "invalid" (not ASCII digits) or "range" (too large or small, or too long)."""

    def __init__(self, kind: str, text: str):
        super().__init__(f"{kind}: {text[:40]!r}")
        self.kind = kind


_ASCII_INT = re.compile(r"-?[0-9]+", re.ASCII)


def parse_int(raw, *, min_value: int = 0, max_value: int = 10**12, max_length: int = 13) -> int:
    """The one strict parser of numbers typed by people or sent by peers: ASCII digits only (an optional leading
    '-' only when `min_value` allows it), at most `max_length` characters after trimming spaces, and within
    [min_value, max_value]. `str.isdigit()` and `int()` accept '²', '١٢' or 5,000 digits; this does not."""
    text = raw.strip() if isinstance(raw, str) else str(raw) if isinstance(raw, int) else ""
    if not text or not _ASCII_INT.fullmatch(text) or (text[0] == "-" and min_value >= 0):
        raise NotANumber("invalid", text)
    digits = text.lstrip("-").lstrip("0")
    if len(digits) > max_length:  # more digits than any value taken: out of range, never converted
        raise NotANumber("range", text)
    if len(text) > max_length + 20:  # a small number behind a run of zeros nobody types
        raise NotANumber("invalid", text)
    value = int(text)
    if not min_value <= value <= max_value:
        raise NotANumber("range", text)
    return value


def rate_from_wire(text: str) -> int:
    """'1' → 10, '1.5' → 15, '1.50' → 15, '1.0' → 10, '0' → 0: a rate in tenths of a percent, written with as many
    decimals as a provider likes so long as nothing is below a tenth. Raises ValueError on anything else (a rate
    of '1.25' cannot be granted to the won as the protocol's tenths state it)."""
    text = (text or "").strip()
    if not text:
        raise ValueError("empty rate")
    whole, _, decimals = text.partition(".")
    if (not text.isascii() or len(whole) > 4 or not whole.isdigit() or len(decimals) > 6
            or (decimals and (not decimals.isdigit() or decimals[1:].strip("0")))):
        raise ValueError(f"bad rate {text!r}")
    return int(whole) * RATE_SCALE + (int(decimals[0]) if decimals else 0)


@dataclass(frozen=True)
class DoneResult:
    """What the popup hands back on doneUrl."""

    result_code: str
    req_tx_id: str
    base_rate_x10: int
    add_rate_x10: int
    mileage_use_won: int
    cash_use_won: int
    total_use_won: int
    balance_won: int


def done_signature(hash_key: str, result: DoneResult) -> str:
    """§1: HMAC-SHA1 over resultCode + reqTxId + rate×10s + the four amounts."""
    message = (
        f"{result.result_code}{result.req_tx_id}{result.base_rate_x10}{result.add_rate_x10}"
        f"{result.mileage_use_won}{result.cash_use_won}{result.total_use_won}{result.balance_won}"
    )
    return hmac_sha1_hex(hash_key, message)


def done_params(hash_key: str, result: DoneResult) -> dict[str, str]:
    params = {
        "resultCode": result.result_code,
        "reqTxId": result.req_tx_id,
        "baseAccumRate": rate_to_wire(result.base_rate_x10),
        "addAccumRate": rate_to_wire(result.add_rate_x10),
        "mileageUseAmount": str(result.mileage_use_won),
        "cashUseAmount": str(result.cash_use_won),
        "totalUseAmount": str(result.total_use_won),
        "balanceAmount": str(result.balance_won),
    }
    params["sig"] = done_signature(hash_key, result)  # every result is signed: OK, CANCEL and ERROR alike
    return params


def request_signature(hash_key: str, method: str, path: str, timestamp: int | str, body: bytes) -> str:
    """Extension: HMAC-SHA256(hash key, METHOD\\nPATH\\ntimestamp\\nsha256hex(body))."""
    message = f"{method.upper()}\n{path}\n{timestamp}\n{hashlib.sha256(body).hexdigest()}"
    return hmac.new(hash_key.encode(), message.encode(), hashlib.sha256).hexdigest()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def unb64(text: str) -> str:
    return base64.b64decode(text.encode(), validate=True).decode()


def mask_name(name: str) -> str:
    """Invoice recipientName (docs/protocol.md §2): every character but the first and the last replaced by
    '*' (홍*동)."""
    name = name.strip()
    return name if len(name) <= 2 else name[0] + "*" * (len(name) - 2) + name[-1]


def phone_head_length(digits: str) -> int:
    """How many digits a Korean phone number's first group has: Seoul's 02, a 050x 안심번호's four, else three
    (010, 031, 070, …). The shop's stored shape (portal.parsing.dashed_phone) and the invoice's mask read it here."""
    return 2 if digits.startswith("02") else 4 if digits.startswith("050") else 3


def mask_phone(number: str) -> str:
    """Invoice phone numbers: the middle group masked digit by digit (010-1234-5678 → 010-****-5678)."""
    digits = "".join(ch for ch in number if ch.isascii() and ch.isdigit())
    groups = number.strip().split("-")
    if len(groups) != 3 or not all(g.isascii() and g.isdigit() for g in groups):
        if len(digits) < 9:
            return ""
        groups = [digits[:phone_head_length(digits)], "", digits[-4:]]
        groups[1] = digits[len(groups[0]):-4]
    return f"{groups[0]}-{'*' * len(groups[1])}-{groups[2]}"


def mask_address(address: str) -> str:
    """Invoice address (docs/protocol.md §2): cut after its 동/읍/면/리 part — a 읍 or 면 with the 리 under it
    (강원도 홍천군 내면 창촌리 456-7 → 강원도 홍천군 내면 창촌리) — or the first three words when it has none."""
    words = address.split()
    for index, word in enumerate(words):
        if word.endswith(("동", "읍", "면", "리")) and index > 0:
            end = index + 1
            if word.endswith(("읍", "면")) and end < len(words) and words[end].endswith("리"):
                end += 1
            return " ".join(words[:end])
    return " ".join(words[:3])


def is_masked_phone(value: str) -> bool:
    """A masked phone as mask_phone writes it: Seoul's 02, a three-digit prefix or a 050x 안심번호's four digits, the
    middle group masked, the last four digits."""
    head, _, rest = value.partition("-")
    middle, _, tail = rest.partition("-")
    head_ok = 2 <= len(head) <= 3 or (len(head) == 4 and head.startswith("050"))
    return (head.isascii() and head.isdigit() and head_ok and middle and set(middle) == {"*"}
            and 3 <= len(middle) <= 4 and tail.isascii() and tail.isdigit() and len(tail) == 4)


def order_product_name(name: str) -> str:
    """orderProductName: the name cut to 66 characters, then base64 of UTF-8."""
    return b64(name[:ORDER_PRODUCT_NAME_MAX_CHARS])


@dataclass(frozen=True)
class WireItem:
    goods_no: str
    name: str
    unit_price_won: int
    qty: int
    line_total_won: int
    category_path: str


def encode_items(items: list[WireItem]) -> str:
    return "|".join(
        f"{i.goods_no},{b64(i.name)},{i.unit_price_won},{i.qty},{i.line_total_won},{b64(i.category_path)}"
        for i in items
    )


def decode_items(text: str) -> list[WireItem]:
    items = []
    for part in filter(None, (text or "").split("|")):
        goods_no, name, unit, qty, total, cat = part.split(",")
        items.append(WireItem(goods_no, unb64(name), int(unit), int(qty), int(total), unb64(cat)))
    return items


# --- NaPm inflow token (docs/protocol.md §5) ----------------------------------------------------------------

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def to_base36(number: int) -> str:
    if number < 0:
        raise ValueError("negative")
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _B36[rest] + digits
        if number == 0:
            return digits


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _from_epoch_ms(ms: int) -> datetime:
    """A moment from epoch milliseconds; ValueError for one no calendar holds (a negative or enormous value)."""
    if not 0 <= ms <= _LATEST_MS:
        raise ValueError("moment out of range")
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


_LATEST_MS = 253_402_300_799_000  # 9999-12-31T23:59:59Z


_NAPM_SIGNED_FIELDS = ("ct", "ci", "tr", "ba", "aa", "et")


def _napm_message(fields: dict[str, str]) -> str:
    return "|".join(f"{k}={fields.get(k, '')}" for k in _NAPM_SIGNED_FIELDS)


def mint_napm(provider_key: str, *, visited_at: datetime, channel: str, traffic_type: str,
              base_rate_x10: int, extra_rate_x10: int, expires_at: datetime) -> str:
    """The provider's side: a signed token, as the raw `k=v|…` text (URL-encode it to put it in a link)."""
    fields = {
        "ct": to_base36(_epoch_ms(visited_at)),
        "ci": channel,
        "tr": traffic_type,
        "ba": rate_to_wire(base_rate_x10),
        "aa": rate_to_wire(extra_rate_x10),
        "et": to_base36(_epoch_ms(expires_at)),
    }
    return _napm_message(fields) + "|hk=" + hmac_sha1_hex(provider_key, _napm_message(fields))


def parse_napm(raw: str) -> InflowToken:
    """Read a token's fields (accepts it URL-encoded or not). Raises ValueError when malformed."""
    text = unquote(raw or "") if "%7C" in (raw or "").upper() else (raw or "")
    fields: dict[str, str] = {}
    for part in text.split("|"):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError("malformed NaPm")
        fields[key] = value
    missing = [k for k in (*_NAPM_SIGNED_FIELDS, "hk") if k not in fields]
    if missing:
        raise ValueError(f"NaPm lacks {missing}")
    if len(fields["hk"]) != 40 or any(c not in "0123456789abcdef" for c in fields["hk"]):
        raise ValueError("bad NaPm signature field")
    return InflowToken(
        visited_at=_from_epoch_ms(int(fields["ct"], 36)),
        channel=fields["ci"],
        traffic_type=fields["tr"],
        base_rate_x10=rate_from_wire(fields["ba"]),
        extra_rate_x10=rate_from_wire(fields["aa"]),
        expires_at=_from_epoch_ms(int(fields["et"], 36)),
        signature=fields["hk"],
        raw=text,
    )


def napm_signature_ok(provider_key: str, raw: str) -> bool:
    """The provider's check of a token it minted."""
    try:
        parse_napm(raw)
    except ValueError:
        return False
    text = unquote(raw) if "%7C" in raw.upper() else raw
    body, _, hk = text.rpartition("|hk=")
    return constant_time_equal(hmac_sha1_hex(provider_key, body), hk)
