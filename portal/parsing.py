"""Numbers from input, parsed one way everywhere in the portal: `parse_int` (mileage/wire.py, shared with the
sandbox, which imports no portal code) and `StrictIntegerField`, a form field built on it."""

from django import forms
from django.core.exceptions import ValidationError

from mileage.wire import NotANumber, parse_int

__all__ = ["NotANumber", "StrictIntegerField", "int_or_none", "parse_int"]


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
        try:
            return parse_int(str(value).replace(",", ""), min_value=-(10**13), max_value=10**13)
        except NotANumber:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
