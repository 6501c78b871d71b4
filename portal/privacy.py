"""Personal data as lists and exports show it (issue 25: masked by default): 홍*동, 010-****-5678 and the address
cut after its 동/읍/면/리 — the masking the provider's invoice call uses (mileage.wire), one helper for every screen.
주문상세정보 shows the buyer masked too; a holder of `accesslog.view_personal_data` reveals one order's full data
with a reason, each reveal one access-log record (docs/adr/0016)."""

import re
from dataclasses import dataclass

from mileage import wire


def masked_name(name: str) -> str:
    """홍길동 → 홍*동; a two-letter name keeps its first letter only (홍길 → 홍*)."""
    name = (name or "").strip()
    if len(name) == 2:
        return name[0] + "*"
    return wire.mask_name(name)


def masked_phone(number: str) -> str:
    return wire.mask_phone(number or "") or ("*" * len(number or ""))


def masked_address(address: str) -> str:
    return wire.mask_address(address or "")


def masked_account(number: str) -> str:
    """A refund account number: every digit but the last four replaced by '*' (123-456-789012 → ***-***-**9012)."""
    number = (number or "").strip()
    digits = sum(ch.isdigit() for ch in number)
    seen, out = 0, []
    for ch in number:
        if ch.isdigit():
            seen += 1
            out.append(ch if seen > digits - 4 else "*")
        else:
            out.append(ch)
    return "".join(out)


def masked_email(email: str) -> str:
    """hong@example.com → h***@example.com."""
    local, at, domain = (email or "").strip().partition("@")
    if not at:
        return "*" * len(local)
    return (local[:1] + "***" if local else "") + "@" + domain


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\d)0\d{1,2}[-. ]?\d{3,4}[-. ]?\d{4}(?!\d)")
# an account-like run: eight or more digits, maybe split by '-' or spaces (110-123-456789, 1002 3456 7890)
_DIGIT_RUN = re.compile(r"(?<!\d)\d(?:[- ]?\d){7,}(?!\d)")


def masked_free_text(text: str) -> str:
    """A buyer's free text (신청 사유) with the phone numbers, e-mail addresses and account-like digit runs inside it
    masked: "010-1234-5678로 연락" → "010-****-5678로 연락", "hong@example.com" → "h***@example.com", "국민
    123-456-789012" → "국민 ***-***-**9012"; the rest as written."""
    text = _EMAIL.sub(lambda m: masked_email(m.group()), text or "")
    text = _PHONE.sub(lambda m: masked_phone(m.group()), text)
    return _DIGIT_RUN.sub(lambda m: masked_account(m.group()), text)


VIEW_PERSONAL_DATA = "accesslog.view_personal_data"


def can_reveal(user) -> bool:
    """Whether this staff person may see one order's full personal data (logged each time, ADR 0016)."""
    return bool(user and user.has_perm(VIEW_PERSONAL_DATA))


@dataclass(frozen=True)
class OrderContact:
    """An order's buyer as 주문상세정보 shows it: masked, or in full after a logged 개인정보 보기."""

    revealed: bool
    orderer_name: str
    orderer_phone: str
    orderer_email: str
    recipient_name: str
    recipient_phone: str
    address: str
    shipping_message: str
    depositor_name: str

    @classmethod
    def of(cls, order, *, revealed: bool = False) -> "OrderContact":
        if revealed:
            address = " ".join(part for part in (f"({order.zipcode})" if order.zipcode else "", order.address,
                                                 order.address_detail) if part)
            return cls(True, order.orderer_name, order.orderer_phone, order.orderer_email, order.recipient_name,
                       order.recipient_phone, address, order.shipping_message, order.depositor_name)
        return cls(False, masked_name(order.orderer_name), masked_phone(order.orderer_phone),
                   masked_email(order.orderer_email), masked_name(order.recipient_name),
                   masked_phone(order.recipient_phone), masked_address(order.address),
                   "***" if order.shipping_message else "", masked_name(order.depositor_name))
