"""The test Redis: database 5 of the machine's server (REDIS_TEST_URL), flushed before and after each use."""

import os

import pytest

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/5")


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not redis_answers(), reason=f"no Redis answers at {REDIS_TEST_URL}")


def redis_cache_setting() -> dict:
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_TEST_URL,
                        "KEY_PREFIX": "portal-test", "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}}


@pytest.fixture
def redis_cache(settings):
    """The default cache in Redis database 5 for one test; the database is flushed around it."""
    import redis

    raw = redis.Redis.from_url(REDIS_TEST_URL)
    raw.flushdb()
    settings.CACHES = redis_cache_setting()
    yield raw
    raw.flushdb()
