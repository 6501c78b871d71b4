from datetime import timedelta

import pytest
from django.utils import timezone

import portal.retention.tasks as retention_tasks


@pytest.fixture
def clock(monkeypatch):
    """Moves Django's clock (django.utils.timezone.now) forward by a number of days from the real one."""
    real = timezone.now
    offset = {"days": 0}
    monkeypatch.setattr(timezone, "now", lambda: real() + timedelta(days=offset["days"]))

    def move(days: float) -> None:
        offset["days"] = days

    return move


@pytest.fixture(autouse=True)
def _fresh_scheduler_memo(monkeypatch):
    """Each test is a fresh scheduler process: it has not seen today's run claimed."""
    monkeypatch.setattr(retention_tasks.DAILY, "claimed", None)


YEARS = 365  # days; the tests stay clear of the leap days at the edges
