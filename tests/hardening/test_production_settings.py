"""Finding 8: production settings pass check --deploy and refuse to start without the provider's hosts."""

import os
import subprocess
import sys

from tests.sandbox_process import ROOT

SECRET = "Qm7-vT2x!pL9#sW4rN8yB6cH3dJ5fK1gZ0aE_uI-w8Rt5Yq2Xc7Vb"  # 50+ characters, as check --deploy wants


def _run(*args, **env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MILEAGE_", "PORTONE_", "ALLOW_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "portal.settings.production", "DJANGO_SECRET_KEY": SECRET,
                "MILEAGE_API_BASE": "https://api.mileage.example", "MILEAGE_SERVICE_BASE": "https://service.example",
                "DATABASE_URL": "sqlite:////tmp/unused-prod-check.sqlite3", "ALLOW_TEST_GATEWAY": "1", **env_extra})
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run([sys.executable, "manage.py", *args], env=env, cwd=ROOT, capture_output=True, text=True)


def test_check_deploy_has_no_warnings():
    result = _run("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_the_api_base():
    result = _run("check", MILEAGE_API_BASE=None)
    assert result.returncode != 0
    assert "MILEAGE_API_BASE must be set" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    assert _run("check", DJANGO_SECRET_KEY=None).returncode != 0


def test_production_refuses_the_test_gateway_unless_told_so():
    result = _run("check", ALLOW_TEST_GATEWAY=None)
    assert result.returncode != 0
    assert "PORTONE_API_SECRET" in result.stderr


def test_production_with_portone_needs_its_store_and_webhook_secret():
    assert _run("check", ALLOW_TEST_GATEWAY=None, PORTONE_API_SECRET="s").returncode != 0
    result = _run("check", ALLOW_TEST_GATEWAY=None, PORTONE_API_SECRET="s", PORTONE_STORE_ID="store-1",
                  PORTONE_WEBHOOK_SECRET="whsec_c2VjcmV0")
    assert result.returncode == 0, result.stdout + result.stderr
