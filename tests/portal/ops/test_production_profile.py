"""The production profile's settings: WhiteNoise right after the security middleware with hashed, compressed static
names, a required DATABASE_URL, and /healthz and /metrics exempt from the HTTPS redirect (the proxy's health check
and the scrape reach a node over plain HTTP)."""

import json

from tests.hardening.test_production_settings import _run

SHOW = ("shell", "-c", "from django.conf import settings as s; import json; print(json.dumps({'mw': s.MIDDLEWARE[:2], "
        "'static': s.STORAGES['staticfiles']['BACKEND'], 'exempt': s.SECURE_REDIRECT_EXEMPT, "
        "'cache': s.CACHES['default']['BACKEND']}))")


def test_production_serves_static_files_through_whitenoise():
    result = _run(*SHOW, REDIS_URL="redis://127.0.0.1:6379/5")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.strip().splitlines()[-1])
    assert shown["mw"] == ["django.middleware.security.SecurityMiddleware", "whitenoise.middleware.WhiteNoiseMiddleware"]
    assert shown["static"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert shown["exempt"] == ["^healthz$", "^metrics$"]
    assert shown["cache"] == "django.core.cache.backends.redis.RedisCache"


def test_production_refuses_to_start_without_a_database_url():
    result = _run("check", DATABASE_URL=None)
    assert result.returncode != 0 and "DATABASE_URL must be set" in result.stderr


def test_serve_refuses_to_start_without_its_environment():
    import subprocess

    from tests.sandbox_process import ROOT

    result = subprocess.run(["bash", "scripts/serve.sh"], cwd=ROOT, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgres://x/y"})
    assert result.returncode == 2
    assert "DJANGO_SECRET_KEY MILEAGE_API_BASE MILEAGE_SERVICE_BASE" in result.stderr
