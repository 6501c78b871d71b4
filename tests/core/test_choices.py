"""get_FOO_display on the project's models (core/choices.py): the label Django's would show, in the active
language, a stored value outside the choices shown as stored — and the labels translated only as shown."""

import pytest
from django.apps import apps
from django.utils import translation

from core.choices import ChoiceLabels
from portal.aftersales.models import Refund, RefundReason, RefundStatus

PROJECT = ("portal.", "mileage.", "core.")


def project_models_with_choices():
    return [model for model in apps.get_models() if model.__module__.startswith(PROJECT)
            and any(field.choices for field in model._meta.concrete_fields)]


def test_every_model_of_the_project_with_choices_reads_its_labels_through_choice_labels():
    models = project_models_with_choices()
    assert len(models) > 10  # orders, payments, refunds, the mileage ledger, the outbox, …
    assert [model.__name__ for model in models if not issubclass(model, ChoiceLabels)] == []


@pytest.mark.parametrize("language", ["ko", "en"])
def test_each_choice_reads_as_djangos_label_in_the_active_language_and_a_stray_value_as_stored(language):
    # given each model's choice fields, in each language
    with translation.override(language):
        for model in project_models_with_choices():
            for field in (f for f in model._meta.concrete_fields if f.choices):
                for value, label in field.flatchoices:
                    # when a row holds that value
                    row = model(**{field.attname: value})
                    # then its display is the label as the active language writes it
                    assert getattr(row, f"get_{field.name}_display")() == str(label), (model, field.name, value)
                # and a value outside the choices is shown as stored
                if field.get_internal_type() in ("CharField", "TextField"):
                    assert getattr(model(**{field.attname: "zz-unknown"}), f"get_{field.name}_display")() \
                        == "zz-unknown"
        assert Refund(reason=RefundReason.RETURN).get_reason_display() == ("반품" if language == "ko" else "Return")
        assert Refund(status=RefundStatus.DONE).get_status_display() == (
            "환불완료" if language == "ko" else str(RefundStatus.DONE.label))


def test_a_display_translates_the_label_it_shows_not_every_label_of_the_field(monkeypatch):
    # given a refund and a count of the labels translated
    translated = []
    real = translation._trans.gettext  # what every lazy label calls when it is read
    monkeypatch.setattr(translation._trans, "gettext", lambda message: (translated.append(message), real(message))[1])
    refund = Refund(reason=RefundReason.RETURN, status=RefundStatus.DONE)
    # when its reason and status are shown a hundred times (a page of 환불관리 shows them on each row)
    with translation.override("ko"):
        for _ in range(100):
            refund.get_reason_display(), refund.get_status_display()
    # then each showing translated one label, never the whole list of its field
    assert len(translated) <= 200
