"""Scale-out: two portal nodes (gunicorn), two task workers and two schedulers on one PostgreSQL and one Redis,
with the provider sandbox. Orders with mileage are placed through both nodes (each step of an order on the other
node than the step before: sessions and the cache are shared), then refunded (배송전 취소, then 환불완료 pressed on
both nodes at once); a worker and a portal node are killed mid-run and restarted. Afterwards the sandbox has every
call once, every order is cancelled with its refund done, nothing waits in the outbox, and the settlement
reconciles. Run by `.ci/run` (`make pytest-scaleout`), not by `make test`."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import requests

from tests.portal.ops.redis_support import REDIS_TEST_URL, redis_answers
from tests.portal.storefront.conftest import GUEST
from tests.sandbox_process import ROOT, Sandbox, free_port

ORDERS = int(os.environ.get("SCALEOUT_ORDERS", "50"))
USE = 500
PG_URL = os.environ.get("DATABASE_URL", "")
pytestmark = [
    pytest.mark.scaleout,
    pytest.mark.skipif(not PG_URL.startswith("postgres"), reason="the scale-out test runs on PostgreSQL"),
    pytest.mark.skipif(not redis_answers(), reason=f"no Redis answers at {REDIS_TEST_URL}"),
]


def database(url: str, name: str) -> tuple[str, dict]:
    parts = urlsplit(url)
    admin = dict(host=parts.hostname, port=parts.port or 5432, user=parts.username or "postgres",
                 password=parts.password, dbname="postgres", autocommit=True)
    with psycopg.connect(**admin) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), admin | {"dbname": name}


class Cluster:
    """The processes of two nodes, each one restartable."""

    def __init__(self, env: dict, logs):
        self.env, self.logs, self.processes = env, logs, {}
        self.ports = [free_port(), free_port()]
        self.urls = [f"http://127.0.0.1:{port}" for port in self.ports]

    def command(self, name: str) -> list[str]:
        kind, n = name.rsplit("-", 1)
        if kind == "portal":
            return [str(ROOT / ".venv/bin/gunicorn"), "portal.wsgi", "--bind", f"127.0.0.1:{self.ports[int(n)]}",
                    "--workers", "1", "--threads", "6", "--log-level", "warning"]
        if kind == "worker":
            return [sys.executable, "manage.py", "db_worker", "--interval", "0.5"]
        return [sys.executable, "manage.py", "outbox_scheduler", "--interval", "1"]

    def start(self, name: str) -> None:
        log = (self.logs / f"{name}.log").open("a")
        self.processes[name] = subprocess.Popen(self.command(name), env=self.env, cwd=ROOT, stdout=log,
                                                stderr=subprocess.STDOUT)

    def kill(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait()

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        for url in self.urls:
            while True:
                try:
                    if requests.get(url + "/healthz", timeout=5).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not start: {[p.poll() for p in self.processes.values()]}")
                time.sleep(0.2)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


class Browser:
    """One person's browser; `node` alternates between the two portal nodes, a dead node's request goes to the
    other one (as the proxy in front would do)."""

    def __init__(self, cluster: Cluster, first: int):
        self.cluster, self.next, self.session = cluster, first, requests.Session()

    def send(self, method: str, path: str, **kwargs) -> requests.Response:
        deadline = time.monotonic() + 30
        node = self.next
        self.next = 1 - self.next
        while True:
            try:
                if method == "POST":
                    kwargs.setdefault("data", {})["csrfmiddlewaretoken"] = self.session.cookies.get("csrftoken", "")
                return self.session.request(method, self.cluster.urls[node] + path, allow_redirects=False,
                                            timeout=30, **kwargs)
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                node = 1 - node
                time.sleep(0.2)


def place(cluster: Cluster, sandbox: Sandbox, n: int) -> str:
    buyer = sandbox.new_buyer(15_500)
    browser = Browser(cluster, n % 2)
    assert browser.send("GET", "/accounts/login/").status_code == 200  # the CSRF cookie
    assert browser.send("POST", "/shop/cart/add/", data={"code": "1", "quantity": "1"}).status_code == 302
    assert browser.send("GET", "/shop/order/").status_code == 200
    opened = browser.send("GET", "/mileage/popup/open/")
    assert opened.status_code == 302, opened.text[-500:]
    params = sandbox.choose_in_popup(opened.headers["Location"], buyer, USE)
    assert browser.send("GET", "/mileage/popup/done/", params=params).status_code == 200
    placed = browser.send("POST", "/shop/order/", data={**GUEST, "payment_method": "card",
                                                       "card_number": "4111111111111111"})
    assert placed.status_code == 302, placed.text[-1500:]
    return buyer


def operator(cluster: Cluster) -> Browser:
    browser = Browser(cluster, 0)
    browser.send("GET", "/accounts/login/")
    response = browser.send("POST", "/accounts/login/", data={"username": "operator", "password": "operator1234!"})
    assert response.status_code == 302, response.text[-500:]
    return browser


def rows(params: dict, sql: str, args=()) -> list[tuple]:
    with psycopg.connect(**params) as conn:
        return conn.execute(sql, args).fetchall()


def test_two_nodes_place_and_refund_every_order_once(tmp_path):
    started = time.monotonic()
    suffix = os.getpid()
    portal_url, portal_db = database(PG_URL, f"mileage_scaleout_{suffix}")
    sandbox = Sandbox.start(tmp_path)
    sandbox_db = urlsplit(sandbox.env["SANDBOX_DATABASE_URL"])
    import redis

    redis.Redis.from_url(REDIS_TEST_URL).flushdb()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MILEAGE_", "SANDBOX_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "tests.scaleout.node_settings", "PYTHONPATH": str(ROOT),
                "DATABASE_URL": portal_url, "REDIS_URL": REDIS_TEST_URL, "CACHE_KEY_PREFIX": f"scaleout{suffix}",
                "DJANGO_SECRET_KEY": "scaleout-Qm7-vT2x!pL9#sW4rN8yB6cH3dJ5fK1gZ0aE_uI-w8Rt5",
                "MILEAGE_API_BASE": sandbox.base_url, "MILEAGE_SERVICE_BASE": sandbox.base_url,
                "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_SECURE_COOKIES": "0", "DJANGO_SECURE_HSTS_SECONDS": "0",
                "RECEIPTS_ROOT": str(tmp_path / "receipts"), "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"})
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    subprocess.run([sys.executable, "manage.py", "load_demo"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    cluster = Cluster(env, tmp_path)
    try:
        for name in ("portal-0", "portal-1", "worker-0", "worker-1", "scheduler-0", "scheduler-1"):
            cluster.start(name)
        cluster.wait_ready()

        # when orders are placed through both nodes, and a worker dies halfway and comes back
        with ThreadPoolExecutor(max_workers=6) as pool:
            first = list(pool.map(lambda n: place(cluster, sandbox, n), range(ORDERS // 2)))
            cluster.kill("worker-0")
            cluster.start("worker-0")
            buyers = first + list(pool.map(lambda n: place(cluster, sandbox, n), range(ORDERS // 2, ORDERS)))
        orders = rows(portal_db, "SELECT id, number, status FROM orders_order ORDER BY id")
        assert len(orders) == ORDERS and {status for _, _, status in orders} == {"paid"}

        # and every order is cancelled before shipping (배송전 취소), on both nodes
        desk = operator(cluster)

        def cancel(number: str) -> None:
            response = desk.send("POST", f"/console/orders/{number}/cancel/", data={
                "cash_won": "4500", "store_points_won": "0", "mileage_won": str(USE),
                "shipping_deduction_won": "0", "method": "card"})
            assert response.status_code == 302, response.text[-800:]

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(cancel, [number for _, number, _ in orders]))
        refunds = [pk for (pk,) in rows(portal_db, "SELECT id FROM aftersales_refund WHERE status = 'before'")]
        assert len(refunds) == ORDERS

        # and 환불완료 is pressed for each refund on both nodes at once, while a portal node dies and comes back
        desks = [operator(cluster), operator(cluster)]

        def complete(job: tuple[int, int]) -> int:
            index, refund = job
            browser = desks[index % 2]
            return browser.send("POST", "/console/refunds/?status=before", data={"selection": [refund]}).status_code

        jobs = [(i, refund) for refund in refunds for i in (0, 1)]
        with ThreadPoolExecutor(max_workers=6) as pool:
            results = pool.map(complete, jobs)
            time.sleep(1)
            cluster.kill("portal-1")
            time.sleep(1)
            cluster.start("portal-1")
            assert set(results) <= {200, 302}
        cluster.wait_ready()

        # then, once the workers have sent everything,
        deadline = time.monotonic() + 60
        while rows(portal_db, "SELECT count(*) FROM mileage_outboxmessage WHERE status = 'pending'")[0][0]:
            assert time.monotonic() < deadline, "the outbox did not drain"
            time.sleep(0.5)
        assert not rows(portal_db, "SELECT id, last_error FROM mileage_outboxmessage WHERE status = 'failed'")
        # every order is cancelled with its one refund done
        assert rows(portal_db, "SELECT status, count(*) FROM orders_order GROUP BY status") == [("cancelled", ORDERS)]
        assert rows(portal_db, "SELECT status, count(*) FROM aftersales_refund GROUP BY status") == [("done", ORDERS)]
        # the portal recorded each call once
        events = rows(portal_db, "SELECT e.kind, count(*), count(DISTINCT t.order_id) FROM mileage_mileageevent e "
                                 "JOIN mileage_mileagetransaction t ON t.id = e.transaction_id GROUP BY e.kind")
        counts = {kind: (n, distinct) for kind, n, distinct in events}
        assert counts["approve"] == (ORDERS, ORDERS) and counts["cancel"] == (ORDERS, ORDERS), counts
        assert all(n == distinct for n, distinct in counts.values()), counts
        # the sandbox acted on each call once: one approval and one cancellation per order, nothing else applied
        with psycopg.connect(host=sandbox_db.hostname, port=sandbox_db.port or 5432,
                             user=sandbox_db.username or "postgres", dbname=sandbox_db.path.strip("/")) as conn:
            calls = conn.execute("SELECT path, count(*) FROM sandbox_apicall WHERE NOT replayed "
                                 "AND result_code IN ('1000', '1001', '1002') GROUP BY path").fetchall()
            states = conn.execute("SELECT state, count(*), count(DISTINCT order_no) FROM sandbox_transaction "
                                  "GROUP BY state").fetchall()
        applied = {}
        for path, n in calls:
            kind = re.sub(r"^/v2/partner/[^/]+/", "", path)
            kind = re.sub(r"payment/[^/]+/", "payment/TX/", kind)
            applied[kind] = applied.get(kind, 0) + n
        assert applied.get("payment") == ORDERS and applied.get("payment/TX/cancel") == ORDERS, applied
        assert states == [("CANCELLED", ORDERS, ORDERS)], states
        assert {sandbox.balance(buyer)["available"] for buyer in buyers} == {15_500}
        # and the month's settlement reconciles to the won
        script = ("import json; from django.utils import timezone; from mileage.policy.constants import BUSINESS_TZ; "
                  "from mileage.provider import get_client; "
                  "from mileage.services.settlement import monthly_statement, reconcile; "
                  "month = timezone.now().astimezone(BUSINESS_TZ).strftime('%Y-%m'); "
                  "statement = monthly_statement(month); report = get_client().settlement(month); "
                  "print(json.dumps({'mismatches': [m.order_number for m in reconcile(statement, report)], "
                  "'lines': len(statement.lines)}))")
        shown = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], env=env, cwd=ROOT, check=True,
                               capture_output=True, text=True).stdout
        assert json.loads(shown.strip().splitlines()[-1])["mismatches"] == []
        print(f"scale-out: {ORDERS} orders placed and refunded through two nodes in "
              f"{time.monotonic() - started:.0f} s")
    finally:
        cluster.stop()
        sandbox.stop()
        sandbox.drop_database()
        with psycopg.connect(**(portal_db | {"dbname": "postgres"})) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "mileage_scaleout_{suffix}" WITH (FORCE)')
