"""Runs the provider sandbox as a real separate process on a free loopback port, with its own database."""

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    """Ask a server process to stop; kill it if it has not after `timeout` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def serve_command(port: int) -> list[str]:
    """The sandbox behind gunicorn (threads, so an injected slow answer does not hold the others up)."""
    return [str(Path(sys.executable).parent / "gunicorn"), "provider_sandbox.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", "1", "--threads", "8", "--log-level", "warning"]


def _sandbox_database(tmp: Path) -> tuple[str, callable]:
    """SQLite in a temporary folder, or a fresh PostgreSQL database when SANDBOX_DATABASE_URL names a server."""
    url = os.environ.get("SANDBOX_DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp / 'sandbox.sqlite3'}", lambda: None
    parts = urlsplit(url)
    name = f"{parts.path.strip('/') or 'provider_sandbox'}_test_{os.getpid()}"
    admin = dict(host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
                 password=parts.password, dbname="postgres", autocommit=True)
    with psycopg.connect(**admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return urlunsplit(parts._replace(path=f"/{name}")), drop


@dataclass
class Sandbox:
    base_url: str
    process: subprocess.Popen
    env: dict
    log_path: Path
    drop_database: callable = field(repr=False, default=lambda: None)

    # --- lifecycle ---

    @classmethod
    def start(cls, tmp: Path) -> "Sandbox":
        db_url, drop = _sandbox_database(tmp)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "provider_sandbox.settings", "SANDBOX_DATABASE_URL": db_url,
               "SANDBOX_TEST_CONTROLS": "1", "SANDBOX_DEV": "1",
               "SANDBOX_PASSWORD_HASHERS": "django.contrib.auth.hashers.MD5PasswordHasher",
               "SANDBOX_EMAIL_FILE_PATH": str(tmp / "mail"),
               "PYTHONPATH": str(ROOT)}
        env.pop("DATABASE_URL", None)
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=ROOT)
        subprocess.run([*manage, "sandbox_seed"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        port = free_port()
        log_path = tmp / "sandbox.log"
        process = subprocess.Popen(serve_command(port), env=env, cwd=ROOT, stdout=log_path.open("w"),
                                   stderr=subprocess.STDOUT)
        sandbox = cls(f"http://127.0.0.1:{port}", process, env, log_path, drop)
        sandbox.wait_ready()
        return sandbox

    def wait_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sandbox exited: {self.log_path.read_text()[-2000:]}")
            try:
                requests.get(self.base_url + "/", timeout=5)
                return
            except (requests.ConnectionError, requests.Timeout):  # not up yet, or slow on a loaded machine
                time.sleep(0.1)
        raise RuntimeError("sandbox did not start")

    def stop(self) -> None:
        stop_process(self.process)

    def restart(self) -> None:
        """Start the process again on the same port and database (after `stop`)."""
        port = urlsplit(self.base_url).port
        self.process = subprocess.Popen(serve_command(port), env=self.env, cwd=ROOT,
                                        stdout=self.log_path.open("a"), stderr=subprocess.STDOUT)
        self.wait_ready()

    # --- test controls ---

    def control(self, path: str, **data) -> dict:
        response = requests.post(f"{self.base_url}/_control/{path}", json=data, timeout=10)
        response.raise_for_status()
        return response.json()

    def new_merchant(self, rate: str = "1", **extra) -> tuple[str, str]:
        api_id = uuid.uuid4().hex[:6].upper()
        hash_key = uuid.uuid4().hex + uuid.uuid4().hex[:8]
        self.control("merchant", api_id=api_id, hash_key=hash_key, name=f"M{api_id}", rate=rate, **extra)
        return api_id, hash_key

    def new_buyer(self, opening: int = 15_500) -> str:
        login = "b" + uuid.uuid4().hex[:10]
        self.control("buyer", login_id=login, password="demo1234!", opening_balance=opening, name="구매자")
        return login

    def balance(self, login: str) -> dict:
        response = requests.get(f"{self.base_url}/_control/buyers/{login}", timeout=10)
        response.raise_for_status()
        return response.json()

    def advance(self, seconds: int) -> dict:
        return self.control("clock", advance_seconds=seconds)

    def reset_clock(self) -> dict:
        return self.control("clock", reset=True)

    def fault(self, api_id: str, mode: str, count: int = 1, delay: float = 2.0) -> dict:
        return self.control("fault", api_id=api_id, mode=mode, count=count, delay=delay)

    # --- the buyer in the popup ---

    def choose_in_popup(self, popup_url: str, login: str, use: int, password: str = "demo1234!",
                        action: str = "confirm") -> dict[str, str]:
        """Open the popup, log in, enter the amount and press 확인; returns the doneUrl's query parameters."""
        browser = requests.Session()
        page = browser.get(popup_url, timeout=10)
        page.raise_for_status()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        page = browser.post(page.url, data={"csrfmiddlewaretoken": token, "action": "login", "login_id": login,
                                            "password": password}, timeout=10)
        page.raise_for_status()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        done = browser.post(page.url, data={"csrfmiddlewaretoken": token, "action": action, "use": str(use)},
                            allow_redirects=False, timeout=10)
        if done.status_code != 302:
            raise PopupRefused(done.status_code, done.text)
        return dict(parse_qsl(urlsplit(done.headers["Location"]).query, keep_blank_values=True))


class PopupRefused(Exception):
    def __init__(self, status: int, html: str):
        super().__init__(f"popup answered {status}")
        self.status, self.html = status, html
