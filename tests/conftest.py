import os
import threading

import pytest
from django.utils import translation

from .portone_process import API_SECRET, STORE_ID, WEBHOOK_SECRET, PortOneEmulator
from .sandbox_process import Sandbox


@pytest.fixture(autouse=True)
def _language_back():
    """A request in English leaves English active in the test's thread (LocaleMiddleware activates the reader's
    language and nothing puts it back): each test starts in the shop's default language whatever ran before it."""
    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """The provider sandbox as a real process (own database, own port) for the whole test session."""
    running = Sandbox.start(tmp_path_factory.mktemp("sandbox"))
    yield running
    running.stop()
    running.drop_database()


class _OneRequestAtATime:
    """The live server's application, one request at a time. On in-memory SQLite every request thread shares the
    test's one connection, and Django's transaction state on it (`in_atomic_block`, autocommit, savepoints) is not
    thread-safe: two requests at once (the order form's repricing fetches) could leave it outside any atomic block
    with autocommit off, and every later test on that worker then failed with "on_commit() cannot be used in manual
    transaction management". The response is read whole inside the lock, since its closing touches the connection."""

    def __init__(self, app):
        self.app, self.lock = app, threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            response = self.app(environ, start_response)
            try:
                body = b"".join(response)
            finally:
                if hasattr(response, "close"):
                    response.close()
        return [body]


@pytest.fixture(scope="session")
def live_server(django_db_setup, live_server):
    """pytest-django's live server, started only once the test database exists: on in-memory SQLite its request
    threads then share the test's connection (started first, on a worker whose first test is a browser test, each
    request thread opened its own connection to the shared in-memory database, where two requests at once failed
    with "database table is locked"), and take turns on it."""
    from django.db import connections

    shared = [conn for conn in connections.all() if conn.vendor == "sqlite" and conn.is_in_memory_db()]
    for conn in shared:
        assert conn.alias in live_server.thread.connections_override, "the live server does not share the test's connection"
    if shared:
        httpd = live_server.thread.httpd
        httpd.set_app(_OneRequestAtATime(httpd.get_app()))
    return live_server


@pytest.fixture(scope="session")
def portone_emulator():
    """The PortOne emulator as a real process for the whole session (started only by the tests that use it)."""
    running = PortOneEmulator.start()
    yield running
    running.stop()


@pytest.fixture
def portone(portone_emulator, settings):
    """The portal on the PortOne adapter, pointed at the emulator."""
    settings.PAYMENT_GATEWAY = "portone"
    settings.PORTONE_API_SECRET, settings.PORTONE_STORE_ID = API_SECRET, STORE_ID
    settings.PORTONE_WEBHOOK_SECRET, settings.PORTONE_API_BASE = WEBHOOK_SECRET, portone_emulator.base_url
    settings.PORTONE_CHANNEL_KEY = "channel-key-emulator"
    settings.PORTONE_BROWSER_SDK_URL = f"{portone_emulator.base_url}/v2/browser-sdk.js"  # the window: the emulator's
    # a clean PortOne for each test: the test database starts its order numbers again, and a cash receipt is keyed
    # by the order's number (an earlier test's 20261205-0000001-CR1 would be answered "already issued")
    portone_emulator.control("reset")
    return portone_emulator


@pytest.fixture
def sandbox_clock(sandbox):
    """Tests that move the sandbox clock put it back afterwards."""
    sandbox.reset_clock()
    yield sandbox
    sandbox.reset_clock()


@pytest.fixture
def merchant(sandbox):
    """A fresh merchant at 1% so that each test has its own books and faults."""
    return sandbox.new_merchant(rate="1")


STANDARD_SANDBOX = os.environ.get("SANDBOX_PROFILE") == "standard"


def pytest_collection_modifyitems(config, items):
    """With SANDBOX_PROFILE=standard the seeded merchant and every new one speak the public protocol alone: the
    tests of an extension's own behaviour (the hold, the status call, the provider's report) do not apply."""
    if not STANDARD_SANDBOX:
        return
    skip = pytest.mark.skip(reason="an extension's behaviour: the sandbox plays the standard provider")
    for item in items:
        if "extended" in item.keywords:
            item.add_marker(skip)


def pytest_report_header(config):
    from django.conf import settings

    return (f"portal database: {settings.DATABASES['default']['ENGINE']} {settings.DATABASES['default'].get('NAME')}; "
            f"sandbox profile: {os.environ.get('SANDBOX_PROFILE', 'extended')}")
