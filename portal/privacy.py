"""Personal data as lists and exports show it (issue 25: masked by default): 홍*동, 010-****-5678 and the address
cut after its 동/읍/면/리 — the masking the provider's invoice call uses (mileage.wire), one helper for every screen.
The order's own detail (주문상세정보), where an operator ships it, shows the full data."""

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
