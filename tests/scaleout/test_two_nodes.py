"""Scale-out: two portal nodes (gunicorn), two task workers and two schedulers on one PostgreSQL and one Redis,
with the provider sandbox. Orders with mileage are placed through both nodes (each step of an order on the other
node than the step before: sessions and the cache are shared), then refunded (배송전 취소, then 환불완료 pressed on
both nodes at once); a worker and a portal node are killed mid-run and restarted. Members' unpaid bank transfers
(무통장, with mileage and 적립금) pass their payment deadline while 환불완료 runs, so both schedulers race to expire
them while a scheduler and a portal node are killed. Afterwards the sandbox has every call once, every order is
cancelled (the card orders with their refund done, each expired one once: one status change, one auto-cancel at the
portal and at the provider, its 적립금 returned once), nothing waits in the outbox, and the settlement reconciles.
Run by `.ci/run` (`make pytest-scaleout`), not by `make test`. SCALEOUT_ORDERS (200) and SCALEOUT_EXPIRED (20) set
the counts; the test's databases are named after DATABASE_URL's (`<name>_scaleout_<pid>`, the sandbox's after
SANDBOX_DATABASE_URL's), so runs on one server do not clash."""

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

ORDERS = int(os.environ.get("SCALEOUT_ORDERS", "200"))
EXPIRED = int(os.environ.get("SCALEOUT_EXPIRED", "20"))
USE = 500
POINTS, POINTS_USED = 1_000, 300  # each expiring member's 적립금, and what their order spends
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


def place_unpaid(cluster: Cluster, sandbox: Sandbox, n: int) -> tuple[str, str]:
    """Member `expire<n>` orders by bank transfer (무통장) with mileage and 적립금 and never pays; returns the
    provider buyer and the order number."""
    buyer = sandbox.new_buyer(15_500)
    browser = Browser(cluster, n % 2)
    assert browser.send("GET", "/accounts/login/").status_code == 200
    response = browser.send("POST", "/accounts/login/", data={"username": f"expire{n}", "password": "expire1234!"})
    assert response.status_code == 302, response.text[-500:]
    assert browser.send("POST", "/shop/cart/add/", data={"code": "1", "quantity": "1"}).status_code == 302
    assert browser.send("GET", "/shop/order/").status_code == 200
    opened = browser.send("GET", "/mileage/popup/open/")
    assert opened.status_code == 302, opened.text[-500:]
    params = sandbox.choose_in_popup(opened.headers["Location"], buyer, USE)
    assert browser.send("GET", "/mileage/popup/done/", params=params).status_code == 200
    member = {k: v for k, v in GUEST.items() if k not in ("guest_password", "privacy_agreed")}
    placed = browser.send("POST", "/shop/order/", data={**member, "payment_method": "bank",
                                                       "store_points": str(POINTS_USED)})
    assert placed.status_code == 302, placed.text[-1500:]
    return buyer, placed.headers["Location"].rstrip("/").split("/")[-2]


def operator(cluster: Cluster) -> Browser:
    browser = Browser(cluster, 0)
    browser.send("GET", "/accounts/login/")
    response = browser.send("POST", "/accounts/login/", data={"username": "operator", "password": "operator1234!"})
    assert response.status_code == 302, response.text[-500:]
    return browser


def rows(params: dict, sql: str, args=()) -> list[tuple]:
    with psycopg.connect(**params) as conn:
        return conn.execute(sql, args).fetchall()


class Run:
    """What the scenario leaves for the checks: the databases, the sandbox, the buyers and the orders."""

    def __init__(self, **values):
        self.__dict__.update(values)


def _start(tmp_path) -> tuple[Run, Cluster]:
    """Fresh databases, the sandbox, the demo shop with EXPIRED members holding 적립금, and the six processes."""
    suffix = os.getpid()
    db_name = f"{urlsplit(PG_URL).path.strip('/') or 'mileage'}_scaleout_{suffix}"
    portal_url, portal_db = database(PG_URL, db_name)
    sandbox = Sandbox.start(tmp_path)
    sandbox_db = urlsplit(sandbox.env["SANDBOX_DATABASE_URL"])
    sandbox_admin = dict(host=sandbox_db.hostname, port=sandbox_db.port or 5432, user=sandbox_db.username or "postgres",
                         dbname=sandbox_db.path.strip("/"))
    import redis

    redis.Redis.from_url(REDIS_TEST_URL).flushdb()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "MILEAGE_", "SANDBOX_"))}
    env.update({"DJANGO_SETTINGS_MODULE": "tests.scaleout.node_settings", "PYTHONPATH": str(ROOT),
                "DATABASE_URL": portal_url, "REDIS_URL": REDIS_TEST_URL, "CACHE_KEY_PREFIX": f"scaleout{suffix}",
                "DJANGO_SECRET_KEY": "scaleout-Qm7-vT2x!pL9#sW4rN8yB6cH3dJ5fK1gZ0aE_uI-w8Rt5",
                "MILEAGE_API_BASE": sandbox.base_url, "MILEAGE_SERVICE_BASE": sandbox.base_url,
                "DJANGO_SECURE_SSL_REDIRECT": "0", "DJANGO_SECURE_COOKIES": "0", "DJANGO_SECURE_HSTS_SECONDS": "0",
                "ALLOW_TEST_GATEWAY": "1",
                "RECEIPTS_ROOT": str(tmp_path / "receipts"), "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"})
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    subprocess.run([sys.executable, "manage.py", "load_demo"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    # members whose bank transfers will expire, each with 적립금 on the ledger
    script = ("from django.contrib.auth.models import User; from portal.accounts.models import Member; "
              "from portal.accounts.services import store_points_change\n"
              f"for n in range({EXPIRED}):\n"
              "    user = User.objects.create_user(f'expire{n}', password='expire1234!')\n"
              "    member = Member.objects.create(user=user, name=f'입금전{n}', phone='010-0000-0000', "
              "address='서울 동작구 신대방2동')\n"
              f"    store_points_change(member=member, delta_won={POINTS}, reason='가입 적립금', "
              "idempotency_key=f'scaleout:expire{n}')")
    subprocess.run([sys.executable, "manage.py", "shell", "-c", script], env=env, cwd=ROOT, check=True)
    cluster = Cluster(env, tmp_path)
    for name in ("portal-0", "portal-1", "worker-0", "worker-1", "scheduler-0", "scheduler-1"):
        cluster.start(name)
    cluster.wait_ready()
    return Run(env=env, db_name=db_name, portal_db=portal_db, sandbox=sandbox, sandbox_admin=sandbox_admin), cluster


def _place_all(run: Run, cluster: Cluster) -> None:
    """Orders placed through both nodes (the members' unpaid bank transfers among the first half), while a worker
    dies halfway and comes back."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        unpaid = pool.map(lambda n: place_unpaid(cluster, run.sandbox, n), range(EXPIRED))
        first = list(pool.map(lambda n: place(cluster, run.sandbox, n), range(ORDERS // 2)))
        unpaid = list(unpaid)
        cluster.kill("worker-0")
        cluster.start("worker-0")
        run.buyers = first + list(pool.map(lambda n: place(cluster, run.sandbox, n), range(ORDERS // 2, ORDERS)))
    run.unpaid_buyers = [buyer for buyer, _ in unpaid]
    run.expiring = {number for _, number in unpaid}
    placed = rows(run.portal_db, "SELECT id, number, status FROM orders_order ORDER BY id")
    assert {(number, status) for _, number, status in placed if number in run.expiring} == {
        (number, "awaiting_deposit") for number in run.expiring}
    run.orders = [order for order in placed if order[1] not in run.expiring]
    assert len(run.orders) == ORDERS and {status for _, _, status in run.orders} == {"paid"}


def _cancel_all(run: Run, cluster: Cluster) -> list[int]:
    """Every card order cancelled before shipping (배송전 취소) on both nodes; returns the refunds waiting."""
    desk = operator(cluster)

    def cancel(number: str) -> None:
        response = desk.send("POST", f"/console/orders/{number}/cancel/", data={
            "cash_won": "4500", "store_points_won": "0", "mileage_won": str(USE),
            "shipping_deduction_won": "0", "method": "card"})
        assert response.status_code == 302, response.text[-800:]

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(cancel, [number for _, number, _ in run.orders]))
    refunds = [pk for (pk,) in rows(run.portal_db, "SELECT id FROM aftersales_refund WHERE status = 'before'")]
    assert len(refunds) == ORDERS
    return refunds


def _complete_while_nodes_die(run: Run, cluster: Cluster, refunds: list[int]) -> None:
    """환불완료 pressed for each refund on both nodes at once, while the bank transfers' deadline passes and a
    scheduler and a portal node die and come back."""
    desks = [operator(cluster), operator(cluster)]

    def complete(job: tuple[int, int]) -> int:
        index, refund = job
        return desks[index % 2].send("POST", "/console/refunds/?status=before",
                                     data={"selection": [refund], "confirm": "1"}).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = pool.map(complete, [(i, refund) for refund in refunds for i in (0, 1)])
        # the payment deadline passes at the portal (its 입금기한) and at the provider (16 days since the approval,
        # E8): both schedulers race to expire the orders, one is killed
        rows(run.portal_db, "UPDATE orders_order SET deposit_deadline = now() - interval '1 minute' "
                            "WHERE number = ANY(%s) RETURNING id", (list(run.expiring),))
        rows(run.sandbox_admin, "UPDATE sandbox_transaction SET approved_at = approved_at - interval '16 days' "
                                "WHERE order_no = ANY(%s) RETURNING id", (list(run.expiring),))
        time.sleep(0.5)
        cluster.kill("scheduler-0")
        time.sleep(0.5)
        cluster.kill("portal-1")
        run.sandbox.advance(0)  # the provider's own sweep (its clock unmoved)
        time.sleep(1)
        cluster.start("portal-1")
        cluster.start("scheduler-0")
        assert set(results) <= {200, 302}
    cluster.wait_ready()
    # once the workers have sent everything and the schedulers have swept (on a loaded machine the retries of calls
    # a dying node left behind take their backoff: 150 s, and what is still waiting is named if it is not enough)
    deadline = time.monotonic() + 150
    while rows(run.portal_db, "SELECT count(*) FROM mileage_outboxmessage WHERE status = 'pending'")[0][0] or rows(
            run.portal_db, "SELECT count(*) FROM orders_order WHERE status = 'awaiting_deposit'")[0][0]:
        assert time.monotonic() < deadline, ("the outbox did not drain or the unpaid orders did not expire", rows(
            run.portal_db, "SELECT kind, status, attempts, next_attempt_at, left(last_error, 120), idempotency_key "
                           "FROM mileage_outboxmessage WHERE status = 'pending'")[:5], rows(
            run.portal_db, "SELECT number, deposit_deadline FROM orders_order WHERE status = 'awaiting_deposit'")[:5])
        time.sleep(0.5)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The whole scenario once, through two nodes; the tests below check what it left."""
    started = time.monotonic()
    scenario, cluster = _start(tmp_path_factory.mktemp("scaleout"))
    try:
        _place_all(scenario, cluster)
        _complete_while_nodes_die(scenario, cluster, _cancel_all(scenario, cluster))
        print(f"scale-out: {ORDERS} orders placed and refunded and {EXPIRED} unpaid ones expired through two "
              f"nodes in {time.monotonic() - started:.0f} s")
        yield scenario
    finally:
        cluster.stop()
        scenario.sandbox.stop()
        scenario.sandbox.drop_database()
        with psycopg.connect(**(scenario.portal_db | {"dbname": "postgres"})) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{scenario.db_name}" WITH (FORCE)')


def test_every_order_is_cancelled_and_every_card_refund_done_once(run):
    assert not rows(run.portal_db, "SELECT id, last_error FROM mileage_outboxmessage WHERE status = 'failed'")
    assert rows(run.portal_db, "SELECT status, count(*) FROM orders_order GROUP BY status") == [
        ("cancelled", ORDERS + EXPIRED)]
    assert rows(run.portal_db, "SELECT status, count(*) FROM aftersales_refund GROUP BY status") == [("done", ORDERS)]
    # the expired orders need no refund
    assert not rows(run.portal_db, "SELECT r.id FROM aftersales_refund r JOIN orders_order o ON o.id = r.order_id "
                                   "WHERE o.number = ANY(%s)", (list(run.expiring),))


def test_each_expired_order_is_cancelled_once_with_its_points_back(run):
    expiring = list(run.expiring)
    # one status change to 주문취소 (the scheduler's), one auto-cancel of its mileage, its 적립금 returned once
    changes = rows(run.portal_db, "SELECT o.number, c.from_status, c.note, c.changed_by_id "
                                  "FROM orders_orderstatuschange c JOIN orders_order o ON o.id = c.order_id "
                                  "WHERE c.to_status = 'cancelled' AND o.number = ANY(%s)", (expiring,))
    assert sorted(number for number, *_ in changes) == sorted(expiring), changes
    assert {(before, note, by) for _, before, note, by in changes} == {("awaiting_deposit", "미입금 자동취소", None)}
    auto = rows(run.portal_db, "SELECT o.number, count(*) FROM mileage_mileageevent e "
                               "JOIN mileage_mileagetransaction t ON t.id = e.transaction_id "
                               "JOIN orders_order o ON o.id = t.order_id WHERE e.kind = 'auto_cancel' GROUP BY o.number")
    assert dict(auto) == dict.fromkeys(expiring, 1), auto
    assert rows(run.portal_db, "SELECT state, count(*) FROM mileage_mileagetransaction t JOIN orders_order o "
                               "ON o.id = t.order_id WHERE o.number = ANY(%s) GROUP BY state",
                (expiring,)) == [("cancelled", EXPIRED)]
    returned = rows(run.portal_db, "SELECT o.number, p.delta_won FROM accounts_storepointentry p "
                                   "JOIN orders_order o ON o.id = p.order_id WHERE p.delta_won > 0")
    assert sorted(returned) == sorted((number, POINTS_USED) for number in expiring), returned
    assert rows(run.portal_db, "SELECT DISTINCT m.store_points_won FROM accounts_member m JOIN auth_user u "
                               "ON u.id = m.user_id WHERE u.username LIKE 'expire%%'") == [(POINTS,)]


def test_the_portal_recorded_each_call_once(run):
    events = rows(run.portal_db, "SELECT e.kind, count(*), count(DISTINCT t.order_id) FROM mileage_mileageevent e "
                                 "JOIN mileage_mileagetransaction t ON t.id = e.transaction_id GROUP BY e.kind")
    counts = {kind: (n, distinct) for kind, n, distinct in events}
    assert counts["approve"] == (ORDERS + EXPIRED, ORDERS + EXPIRED), counts
    assert counts["cancel"] == (ORDERS, ORDERS) and counts.get("auto_cancel") == (EXPIRED, EXPIRED), counts
    assert all(n == distinct for n, distinct in counts.values()), counts


def test_the_provider_applied_each_call_once(run):
    # one approval per order, one cancellation per card order and per expired order the provider had not cancelled
    # by itself, nothing else applied; the expired orders' mileage ended once there too (one reversal of the use each)
    expiring = list(run.expiring)
    with psycopg.connect(**run.sandbox_admin) as conn:
        calls = conn.execute("SELECT path, count(*) FROM sandbox_apicall WHERE NOT replayed "
                             "AND result_code IN ('1000', '1001', '1002') GROUP BY path").fetchall()
        states = conn.execute("SELECT state, count(*), count(DISTINCT order_no) FROM sandbox_transaction "
                              "GROUP BY state ORDER BY state").fetchall()
        reversals = conn.execute("SELECT t.order_no, e.kind, e.amount_won FROM sandbox_settlemententry e "
                                 "JOIN sandbox_transaction t ON t.id = e.tx_id "
                                 "WHERE t.order_no = ANY(%s) AND e.amount_won < 0", (expiring,)).fetchall()
    applied = {}
    for path, n in calls:
        kind = re.sub(r"^/v2/partner/[^/]+/", "", path)
        kind = re.sub(r"payment/[^/]+/", "payment/TX/", kind)
        applied[kind] = applied.get(kind, 0) + n
    # an expired order's mileage ended either way, once: cancelled by the provider's own E8 (the portal's cancel then
    # answered 3092) or by the portal's cancel arriving first, whichever came first on the two clocks
    by_itself = dict((state, n) for state, n, _distinct in states).get("AUTO_CANCELLED", 0)
    assert applied.get("payment") == ORDERS + EXPIRED, applied
    assert applied.get("payment/TX/cancel") == ORDERS + EXPIRED - by_itself, applied
    assert [(state, n, distinct) for state, n, distinct in states if state != "AUTO_CANCELLED"] == [
        ("CANCELLED", ORDERS + EXPIRED - by_itself, ORDERS + EXPIRED - by_itself)], states
    assert sorted(reversals) == sorted((number, "USE", -USE) for number in expiring), reversals
    assert {run.sandbox.balance(buyer)["available"] for buyer in run.buyers + run.unpaid_buyers} == {15_500}


def test_the_months_settlement_reconciles_to_the_won(run):
    script = ("import json; from django.utils import timezone; from mileage.policy.constants import BUSINESS_TZ; "
              "from mileage.provider import get_client; "
              "from mileage.services.settlement import monthly_statement, reconcile; "
              "month = timezone.now().astimezone(BUSINESS_TZ).strftime('%Y-%m'); "
              "statement = monthly_statement(month); report = get_client().settlement(month); "
              "print(json.dumps({'mismatches': [m.order_number for m in reconcile(statement, report)], "
              "'lines': len(statement.lines)}))")
    shown = subprocess.run([sys.executable, "manage.py", "shell", "-c", script], env=run.env, cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout
    assert json.loads(shown.strip().splitlines()[-1])["mismatches"] == []
