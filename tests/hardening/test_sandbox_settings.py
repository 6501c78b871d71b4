"""Finding 7: the sandbox's /_control/ exists only with SANDBOX_TEST_CONTROLS=1; its settings pass check --deploy."""

import os
import subprocess
import sys

import pytest
import requests

from tests.sandbox_process import ROOT

RESOLVE = ("import django; django.setup(); from django.urls import resolve, Resolver404\n"
           "try:\n    resolve('/_control/merchant'); print('present')\nexcept Resolver404:\n    print('absent')")


def _sandbox_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SANDBOX_")}
    return {**env, "DJANGO_SETTINGS_MODULE": "provider_sandbox.settings", "PYTHONPATH": str(ROOT), **extra}


@pytest.mark.parametrize(("flag", "expected"), [(None, "absent"), ("0", "absent"), ("1", "present")])
def test_control_routes_only_with_the_flag(flag, expected):
    env = _sandbox_env(**({"SANDBOX_TEST_CONTROLS": flag} if flag is not None else {}))
    out = subprocess.run([sys.executable, "-c", RESOLVE], env=env, cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == expected


def test_sandbox_settings_pass_check_deploy_outside_dev():
    env = _sandbox_env(SANDBOX_SECRET_KEY="k" * 20 + "-Zq8v!x2Lp#s7Wn4Rt9Yb6Mc3Hd5Jf1Gk0")
    out = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env=env,
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "WARNINGS" not in out.stderr + out.stdout


@pytest.mark.sandbox
def test_running_sandbox_sends_the_security_headers(sandbox):
    response = requests.get(sandbox.base_url + "/", timeout=5)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
