"""Numbers from input, parsed one way everywhere in the portal: `parse_int` (mileage/wire.py, shared with the
sandbox, which imports no portal code) and `StrictIntegerField`, a form field built on it."""

import re

from django import forms
from django.core.exceptions import ValidationError

from mileage.wire import NotANumber, parse_int, phone_head_length

__all__ = ["PHONE_REGEX", "NotANumber", "StrictIntegerField", "dashed_phone", "int_or_none", "parse_int",
           "stored_phone"]

# A Korean phone number as a buyer types it: Seoul's 02, a three-digit prefix (010, 031, 070, …) or a 050x 안심번호,
# then 3–4 and 4 digits, with or without hyphens (member join, the order form's orderer and recipient)
PHONE_REGEX = r"^(02|0[1-9][0-9]|050[0-9])-?[0-9]{3,4}-?[0-9]{4}$"

THOUSANDS = re.compile(r"[+-]?[0-9]{1,3}(,[0-9]{3})+", re.ASCII)  # commas only between groups of three digits


def int_or_none(raw, **bounds) -> int | None:
    """`parse_int`, or None for anything it refuses (for query parameters with a fallback)."""
    try:
        return parse_int(raw, **bounds)
    except NotANumber:
        return None


class StrictIntegerField(forms.IntegerField):
    """An IntegerField that takes ASCII digits only, of bounded length (Django's takes '١٢' and crashes on
    nothing, but the database would on 10²⁰)."""

    def __init__(self, *, max_value: int = 10**12, min_value: int = 0, **kwargs):
        super().__init__(max_value=max_value, min_value=min_value, **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value)
        if "," in text and not THOUSANDS.fullmatch(text.strip()):  # "14,50,0" is no way of writing 14,500
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return parse_int(text.replace(",", ""), min_value=-(10**13), max_value=10**13)
        except NotANumber as exc:
            if exc.kind == "range":  # a number, only far too large (or small): just past the field's bound, so
                # that its validator says so in the field's own words
                if text.strip().startswith("-") and self.min_value is not None:
                    return self.min_value - 1
                if not text.strip().startswith("-") and self.max_value is not None:
                    return self.max_value + 1
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


def dashed_phone(digits: str) -> str:
    """A phone number typed in digits, as the shop stores it: Seoul's 02, a 050x 안심번호's four digits or a
    three-digit prefix (010, 031, …), then three digits in the middle when seven follow the prefix (02-123-4567,
    031-123-4567, 0505-123-4567), else four (0504-1234-5678). A number still being typed keeps what it has
    (0101234 → 010-1234)."""
    area = phone_head_length(digits)
    head, rest = digits[:area], digits[area:]
    middle = 3 if len(rest) == 7 else 4
    return f"{head}-{rest[:middle]}" + (f"-{rest[middle:]}" if len(rest) > middle else "")


def stored_phone(typed: str) -> str:
    """A phone a form accepted (PHONE_REGEX), as the shop stores it whether typed with hyphens or without:
    01012345678 and 010-1234-5678 are both kept as 010-1234-5678 (searched, masked and sent to the provider alike).
    Nothing typed stays nothing."""
    digits = "".join(ch for ch in typed if ch.isdigit())
    return dashed_phone(digits) if digits else ""
