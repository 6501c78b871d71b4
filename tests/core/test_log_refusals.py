"""A refused request is logged as its one line: no traceback for an answer that worked as meant."""

import logging

import pytest
from django.contrib.auth.models import User

from tests.support.db_state import load_demo

pytestmark = pytest.mark.django_db


def test_an_operator_refused_the_access_log_leaves_one_line_and_no_traceback(client, caplog):
    load_demo()
    client.force_login(User.objects.get(username="operator"))  # no 개인정보 보호책임자 permission
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/console/access-log/")
    assert response.status_code == 403
    refusals = [r for r in caplog.records if r.name == "django.request"]
    assert [r.getMessage() for r in refusals] == ["Forbidden (Permission denied): /console/access-log/"]
    assert refusals[0].exc_info is None and "Traceback" not in caplog.text
