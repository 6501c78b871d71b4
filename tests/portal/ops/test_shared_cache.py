"""Shared state for several nodes: the cache is Redis when REDIS_URL is set, and the rate cache and django-axes
lockouts live there, so a second node sees what the first one learnt."""

import os
import subprocess
import sys

import pytest
from axes.handlers.proxy import AxesProxyHandler
from django.core import checks
from django.core.cache import caches
from django.test import Client

from mileage import selectors
from tests.support.db_state import load_demo

from .redis_support import needs_redis, redis_cache  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


def cache_backend(**env) -> str:
    script = "import django; django.setup(); from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    environment = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | env
    environment["DJANGO_SETTINGS_MODULE"] = "portal.settings.base"
    return subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_local_memory_is_the_default_and_redis_url_switches_to_redis():
    assert cache_backend() == "django.core.cache.backends.locmem.LocMemCache"
    assert cache_backend(REDIS_URL="redis://127.0.0.1:6379/5") == "django.core.cache.backends.redis.RedisCache"


@needs_redis
def test_the_rate_cache_is_read_by_another_node(redis_cache, monkeypatch):  # noqa: F811
    # given one node that read the provider's rate
    calls = []

    class Answer:
        base_rate_x10, raw = 15, {"baseAccumRate": "1.5", "serviceStatus": "ACTIVE", "extensions": "serviceStatus,status"}

    class Client_:
        def accum_rate(self, fresh=False):
            calls.append(fresh)
            return Answer()

    monkeypatch.setattr("mileage.provider.extensions.get_client", lambda: Client_())
    assert selectors.provider_rates() == (15, "ACTIVE")
    # then the value is in Redis, and a fresh cache connection (another node) reads it without asking again
    assert any(b"mileage:rates" in key for key in redis_cache.keys("*"))
    caches.close_all()
    del caches["default"]
    assert selectors.provider_rates() == (15, "ACTIVE")
    assert calls == [True]


@needs_redis
@pytest.mark.parametrize("handler", ["axes.handlers.database.AxesDatabaseHandler",
                                     "axes.handlers.cache.AxesCacheHandler"])
def test_axes_locks_out_on_every_node_with_redis(redis_cache, settings, handler):  # noqa: F811
    # given the shared cache and either of the two handlers
    load_demo()
    settings.AXES_HANDLER = handler
    AxesProxyHandler.get_implementation(force=True)
    try:
        assert not [m for m in checks.run_checks() if m.id.startswith("axes.")]
        # when one node sees the failures
        first, second = Client(), Client()
        for _ in range(settings.AXES_FAILURE_LIMIT):
            first.post("/accounts/login/", {"username": "operator", "password": "nope"})
        # then another node refuses the right password too
        response = second.post("/accounts/login/", {"username": "operator", "password": "operator1234!"})
        assert response.status_code == 429
        if handler.endswith("AxesCacheHandler"):
            assert redis_cache.keys("*axes*")
    finally:
        settings.AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
        AxesProxyHandler.get_implementation(force=True)


def test_axes_refuses_its_cache_handler_on_a_per_process_cache(settings):
    settings.AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
    assert "axes.W001" in [m.id for m in checks.run_checks()]
