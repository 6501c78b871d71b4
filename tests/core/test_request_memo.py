"""core.request_memo: values read once per request (the mileage settings row, the live disclosure page)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.request_memo import memo_close, memo_open, remembered
from mileage.models import MileageSettings

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_request():
    memo_open()
    yield
    memo_close()


def settings_reads(queries) -> int:
    return sum('FROM "mileage_mileagesettings"' in q["sql"] for q in queries)


def test_given_a_request_when_the_settings_are_loaded_three_times_then_the_row_is_read_once(in_request):
    MileageSettings.load()
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            MileageSettings.load()
    assert settings_reads(queries.captured_queries) == 0


def test_given_a_request_when_a_form_changes_its_copy_without_saving_then_the_next_reader_sees_the_row(in_request):
    MileageSettings.objects.update_or_create(pk=1, defaults={"api_id": "ABC123"})
    given = MileageSettings.load()
    given.api_id = "ZZZ999"  # e.g. a ModelForm that failed validation after copying its input onto the instance
    assert MileageSettings.load().api_id == "ABC123"


def test_given_a_request_when_the_settings_are_saved_then_later_readers_see_the_saved_row(in_request):
    MileageSettings.load()
    changed = MileageSettings.load()
    changed.api_id = "NEW123"
    changed.save()
    assert MileageSettings.load().api_id == "NEW123"


def test_given_no_request_when_the_row_changes_then_every_load_reads_it():
    MileageSettings.load()
    MileageSettings.objects.filter(pk=1).update(api_id="UPD123")
    assert MileageSettings.load().api_id == "UPD123"


def test_given_two_requests_then_the_second_does_not_see_the_first_ones_memo(client):
    MileageSettings.objects.update_or_create(pk=1, defaults={"api_id": "ONE111"})
    client.get("/shop/")
    MileageSettings.objects.filter(pk=1).update(api_id="TWO222")  # no signal: only a new request can see it
    memo_open()
    try:
        assert remembered("k", lambda: 1) == 1 and remembered("k", lambda: 2) == 1
        assert MileageSettings.load().api_id == "TWO222"
    finally:
        memo_close()
