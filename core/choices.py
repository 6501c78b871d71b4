"""`get_FOO_display` for the project's models without the cost Django's has on every call: Django builds the field's
choices into a dict each time, hashing every label, and a label is a lazy translation, so each hash translates it
(a 환불관리 page of fifty refunds translated the bank list some five hundred times: two thirds of its rendering).
Here the dict is built once per field, keyed by the stored values; the label is translated once, when it is shown,
in the language active then, as Django's does."""

from functools import cache

from django.utils.encoding import force_str
from django.utils.hashable import make_hashable


@cache
def _labels(field) -> dict:
    return {make_hashable(value): label for value, label in field.flatchoices}


class ChoiceLabels:
    """A model mixin, listed before `models.Model` (or the model's abstract base): the `get_FOO_display` methods the
    fields with choices add to the model read their labels through `_labels`. Same result as Django's, a value
    outside the choices included (shown as stored)."""

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        return force_str(_labels(field).get(make_hashable(value), value), strings_only=True)
