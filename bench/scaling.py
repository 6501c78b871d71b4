"""One portal node against two on PostgreSQL: order placement with mileage and bulk 환불완료 throughput.

`python bench/scaling.py [--scale small|full]` (also run by `make bench`, through bench/run.py). It creates its own
databases on the PostgreSQL server at BENCH_PG_URL (`<BENCH_DB_PREFIX>_scaling` for the portal, a fresh one for the
sandbox; dropped afterwards), starts the provider sandbox (gunicorn, 2 processes), then measures the same work
with one gunicorn node and with two (each node the same `--node-workers` processes × `--node-threads` threads,
`bench.settings`, the cache shared in Redis when BENCH_REDIS_URL answers):

* placement: buyers prepared untimed (cart, order form, the popup's choice returned to the done page); timed, the
  결제하기 POSTs alone from `--clients` browsers, each bound to one node, nodes taking turns;
* bulk 환불완료: refunds prepared untimed (card orders placed and cancelled before shipping); timed, operators on
  every node press 환불완료 for batches of `--batch` refunds at once (the provider's cancel is called in the request).

Each row gives the two throughputs, the ratio (target ≥ 1.6×), the provider's own time per call (the sandbox's
X-Provider-Time-Ms, recorded by the portal) and the CPU the machine spent per order, split into the portal nodes,
the provider and the rest (PostgreSQL, the clients, anything else running), so that a ratio below target says why.
Prints one JSON object on its last line; `--write-readme` also rewrites the scaling section of bench/README.md.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PREFIX = os.environ.get("BENCH_DB_PREFIX", "mileage_bench")
SCALES = {  # refunds are pressed `batch` at a time
    "small": {"placements": 64, "refunds": 128, "batch": 4},
    "full": {"placements": 300, "refunds": 600, "batch": 10},
}
ONE_NODE_SHARE = 0.85  # one node, the provider far: of the lower of its two ceilings
TWO_NODES_FAR = 1.8  # two nodes vs one, the provider far (the machine is not CPU-bound there)
TWO_NODES_NEAR = 0.9  # two nodes, the provider near: of the machine's CPU ceiling
README_MARK = "## One node vs two nodes (PostgreSQL)"

# --- processes and their CPU ---------------------------------------------------------------------------------------



def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and all their descendants, in seconds."""
    total = 0.0
    for pid in pids:
        try:
            parent = psutil.Process(pid)
            family = [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for process in family:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
    return total


def own_cpu_seconds() -> float:
    """User + system CPU of this process alone (the clients' threads), not of the nodes and the sandbox it started."""
    times = os.times()
    return times.user + times.system


def machine_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    total = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
    return total - idle, total


def free_port() -> int:
    from tests.sandbox_process import free_port as pick

    return pick()


def wait_http(url: str, seconds: float = 60) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(url, timeout=5)
            return
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer") from None
            time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    from tests.sandbox_process import stop_process

    stop_process(process, timeout=20)


# --- databases -----------------------------------------------------------------------------------------------------

def fresh_database(name: str) -> tuple[str, bool]:
    """A new database `name`, copied from `<name>_template` (migrated by an earlier run) when there is one;
    returns its URL and whether it was copied."""
    import psycopg

    with psycopg.connect(PG + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        copied = bool(conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [f"{name}_template"]).fetchone())
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{name}_template"' if copied else ""))
    return f"{PG}/{name}", copied


def keep_as_template(name: str) -> None:
    """Keep the migrated, empty database as the template of the next run (migrate still runs on the copy)."""
    import psycopg

    with psycopg.connect(PG + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}_template"')
        conn.execute(f'CREATE DATABASE "{name}_template" TEMPLATE "{name}"')


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_url() -> str:
    url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
        return url
    except Exception:  # noqa: BLE001 - no Redis: each node keeps its own cache
        return ""


# --- the bench -----------------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args, scale: dict):
        self.args, self.scale = args, scale
        ports = ([int(os.environ["BENCH_PORT_BASE"]) + i for i in range(3)] if os.environ.get("BENCH_PORT_BASE")
                 else [free_port() for _ in range(3)])
        self.node_ports, self.sandbox_port = ports[:2], ports[2]
        self.db_name = f"{PREFIX}_scaling"
        self.tmp = ROOT / "var" / "bench" / "scaling"
        self.tmp.mkdir(parents=True, exist_ok=True)

    # setup

    def start(self) -> None:
        url, copied = fresh_database(self.db_name)
        os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "bench.settings", "PYTHONPATH": str(ROOT),
                           "SANDBOX_DATABASE_URL": f"{PG}/{self.db_name}_sandbox"})
        redis = redis_url()
        if redis:
            os.environ.update({"REDIS_URL": redis, "CACHE_KEY_PREFIX": f"{self.db_name}{os.getpid()}"})
        # the portal's database is migrated while the sandbox's is
        migrate = subprocess.Popen([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT)
        from tests.sandbox_process import Sandbox

        self.sandbox = Sandbox.start(self.tmp)
        if migrate.wait() != 0:
            raise RuntimeError("the portal's migrations failed")
        if not copied:
            keep_as_template(self.db_name)
        self.provider_at(0)
        os.environ.update({"MILEAGE_API_BASE": self.sandbox.base_url, "MILEAGE_SERVICE_BASE": self.sandbox.base_url})

        import django

        django.setup()
        from mileage.models import MileageSettings
        from portal.demo.shop import load_demo

        load_demo()
        self.api_id, hash_key = self.sandbox.new_merchant(rate="1")
        MileageSettings.objects.update_or_create(pk=1, defaults={"api_id": self.api_id, "hash_key": hash_key,
                                                                 "service_enabled": True})

    def provider_at(self, latency_ms: int) -> None:
        """(Re)start the provider sandbox `latency_ms` away: every server call waits that long before its answer
        (SANDBOX_LATENCY_MS). Two processes of 16 threads, so that neither one sandbox process nor its threads are
        what the portal's nodes wait on."""
        from tests.sandbox_process import serve_command

        if self.sandbox.process.poll() is None:
            stop(self.sandbox.process)
        command = serve_command(self.sandbox_port)
        command[command.index("--workers") + 1] = "2"
        command[command.index("--threads") + 1] = "16"
        self.sandbox.env = {**self.sandbox.env, "SANDBOX_LATENCY_MS": str(latency_ms), "SANDBOX_LATENCY_JITTER_MS": "0"}
        self.sandbox.process = subprocess.Popen(command, env=self.sandbox.env, cwd=ROOT,
                                                stdout=self.sandbox.log_path.open("a"), stderr=subprocess.STDOUT)
        self.sandbox.base_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.sandbox.wait_ready()
        self.latency_ms = latency_ms

    def nodes_up(self, count: int, **env: str) -> list[subprocess.Popen]:
        nodes = []
        for port in self.node_ports[:count]:
            nodes.append(subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "bench.wsgi", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(self.args.node_workers), "--threads", str(self.threads),
                 "--log-level", "error"], env={**os.environ, **env}, cwd=ROOT))
        for port in self.node_ports[:count]:
            wait_http(f"http://127.0.0.1:{port}/shop/")
        return nodes

    def close(self) -> None:
        sandbox = getattr(self, "sandbox", None)
        if sandbox is not None:
            stop(sandbox.process)
            sandbox.drop_database()
        from django.db import connections

        connections.close_all()
        drop_database(self.db_name)

    # the timed window

    def timed(self, nodes: list[subprocess.Popen], jobs: list, work, clients: int) -> dict:
        """Run work(job) for every job from `clients` threads, the n-th job on the n-th thread's turn; returns the
        wall time and the CPU spent by the nodes, the provider and the machine meanwhile."""
        queue, lock = list(jobs), threading.Lock()
        latencies = []

        def client():
            while True:
                with lock:
                    if not queue:
                        return
                    job = queue.pop(0)
                started = time.perf_counter()
                work(job)
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)

        node_pids = [node.pid for node in nodes]
        idle = machine_seconds()
        time.sleep(1)  # the machine's load before this run: other work on the same cores
        before = (cpu_seconds(node_pids), cpu_seconds([self.sandbox.process.pid]), machine_seconds(),
                  own_cpu_seconds())
        background = (before[2][0] - idle[0]) / max(0.01, before[2][1] - idle[1])
        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        after = (cpu_seconds(node_pids), cpu_seconds([self.sandbox.process.pid]), machine_seconds(),
                 own_cpu_seconds())
        busy, total = after[2][0] - before[2][0], after[2][1] - before[2][1]
        return {"wall": wall, "portal_cpu": after[0] - before[0], "provider_cpu": after[1] - before[1],
                "clients_cpu": after[3] - before[3],
                # the machine's CPU for this work: its busy time less what other work was taking in the second
                # before (the same share of the window), never less than what the work's own processes spent
                "machine_cpu": max(busy - background * total,
                                   after[0] - before[0] + after[1] - before[1] + after[3] - before[3]),
                "busy_ratio": busy / total if total else 0,
                "background": background, "latencies": latencies}

    # 1. placements

    def buyer_at(self, base: str):
        """A browser with 샘플상품 1 in its cart, the order form open and the popup's choice of 500원 (seeded at the
        provider) returned to the done page with the session's nonce: (base, session, CSRF token); untimed."""
        import requests

        session = requests.Session()
        session.get(base + "/shop/p/1/", timeout=20)
        session.post(base + "/shop/cart/add/", data={"code": "1", "quantity": "1"}, timeout=20,
                     headers={"X-CSRFToken": session.cookies.get("csrftoken", "")})
        form = session.get(base + "/shop/order/", timeout=20)
        opened = session.get(base + "/mileage/popup/open/", allow_redirects=False, timeout=20)
        done_url = dict(parse_qsl(urlsplit(opened.headers["Location"]).query))["doneUrl"]
        nonce = dict(parse_qsl(urlsplit(done_url).query))["n"]
        params = self.sandbox.control("popup", api_id=self.api_id, login_id=self.sandbox.new_buyer(15_500),
                                      use=500, max_use=5_000, done_url=done_url)
        done = session.get(base + "/mileage/popup/done/", params={**params, "n": nonce}, timeout=20)
        assert done.status_code == 200, done.status_code
        return base, session, form.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]

    def placements(self, count: int, jobs: int = 0, clients: int = 0) -> dict:

        from mileage.models import MileageEvent

        nodes = self.nodes_up(count)
        try:
            def prepare(n):
                return self.buyer_at(f"http://127.0.0.1:{self.node_ports[n % count]}")

            with ThreadPoolExecutor(max_workers=4) as pool:
                prepared = list(pool.map(prepare, range(jobs or self.scale["placements"])))
            numbers = []

            def place(job):
                base, session, token = job
                response = session.post(base + "/shop/order/", timeout=60, allow_redirects=False, data={
                    "csrfmiddlewaretoken": token, "orderer_name": "벤치", "orderer_phone": "010-0000-0000",
                    "same_as_orderer": "on", "address": "서울 동작구 신대방2동", "payment_method": "card",
                    "card_number": "4111", "guest_password": "bench123", "privacy_agreed": "on"})
                assert response.status_code == 302, response.status_code
                numbers.append(response.headers["Location"].rstrip("/").split("/")[-2])

            result = self.timed(nodes, prepared, place, clients or self.args.clients)
        finally:
            for node in nodes:
                stop(node)
        provider = list(MileageEvent.objects.filter(kind="approve", transaction__order__number__in=numbers)
                        .values_list("provider_ms", flat=True))
        assert len(provider) == len(prepared), "an order was placed without its one approval"
        return {**result, "done": len(numbers), "provider_ms": [ms or 0 for ms in provider]}

    # 2. bulk 환불완료

    def refunds(self, count: int, jobs: int = 0, clients: int = 0) -> dict:
        import requests
        from django.contrib.auth.models import User
        from django.db import connection

        from mileage.models import OutboxMessage
        from mileage.provider import get_client
        from portal.aftersales.cancellations import order_cancel_after_payment
        from portal.aftersales.common import RefundInput
        from portal.aftersales.models import Refund
        from portal.orders.checkout import Buyer, cart_lines, order_place

        get_client()
        operator = User.objects.get(username="operator")
        def prepare(_):
            params = self.sandbox.control("popup", api_id=self.api_id, login_id=self.sandbox.new_buyer(15_500),
                                          use=500, max_use=5_000)
            order = order_place(lines=cart_lines({"1": 1}), member=None, store_points_won=0, choice={
                "req_tx_id": params["reqTxId"], "use_won": 500, "params": params}, buyer=Buyer(
                orderer_name="벤치", orderer_phone="010-0000-0000", orderer_email="", recipient_name="벤치",
                recipient_phone="010-0000-0000", zipcode="", address="서울 동작구 신대방2동", address_detail="",
                shipping_message="", depositor_name="", payment_method="card", card_number="4111",
                guest_password="bench123"))
            order_cancel_after_payment(order=order, by=operator, data=RefundInput(
                cash_won=order.payable_won, store_points_won=0, mileage_won=order.mileage_use_won))
            connection.close()  # this thread's
            return order

        with ThreadPoolExecutor(max_workers=4) as pool:
            orders = list(pool.map(prepare, range(jobs or self.scale["refunds"])))
        ids = list(Refund.objects.filter(order__in=orders).order_by("pk").values_list("pk", flat=True))
        nodes = self.nodes_up(count)
        try:
            desks, clients = [], clients or self.args.clients
            for n in range(clients):
                base = f"http://127.0.0.1:{self.node_ports[n % count]}"
                session = requests.Session()
                session.get(base + "/accounts/login/", timeout=20)
                response = session.post(base + "/accounts/login/", allow_redirects=False, timeout=20, data={
                    "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""), "username": "operator",
                    "password": "operator1234!"})
                assert response.status_code == 302, response.status_code
                desks.append((base, session))
            batch = self.args.batch or self.scale["batch"]
            work = [(k, ids[i:i + batch]) for k, i in enumerate(range(0, len(ids), batch))]

            def complete(job):
                k, selection = job
                base, session = desks[k % len(desks)]
                response = session.post(base + "/console/refunds/", allow_redirects=False, timeout=120, data={
                    "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""), "selection": selection, "confirm": "1"})
                assert response.status_code == 302, response.status_code

            result = self.timed(nodes, work, complete, clients)
        finally:
            for node in nodes:
                stop(node)
        sent = OutboxMessage.objects.filter(order__in=orders, kind="cancel", status="sent")
        provider = [ms or 0 for ms in sent.values_list("provider_ms", flat=True)]
        assert len(provider) == len(ids), f"{len(provider)} cancels sent for {len(ids)} refunds"
        assert Refund.objects.filter(pk__in=ids, status="done").count() == len(ids)
        return {**result, "done": len(ids), "provider_ms": provider, "batch": batch}

    # 3. the buyer's worst wait

    def hanging_provider_wait(self) -> float:
        """Seconds a buyer waits for the order form's answer when the provider answers nothing for longer than the
        approval's deadline (MILEAGE_APPROVAL_DEADLINE_SECONDS): one placement on one node, the provider's every
        call held 3 deadlines long; the buyer must be told within the deadline, not the provider's silence."""
        from django.conf import settings

        nodes = self.nodes_up(1, BENCH_TASKS="database")  # the abort is left to the worker, as in production
        try:
            base, session, token = self.buyer_at(f"http://127.0.0.1:{self.node_ports[0]}")
            hang = 3 * settings.MILEAGE_APPROVAL_DEADLINE_SECONDS
            self.sandbox.fault(self.api_id, "timeout", count=10, delay=hang)
            started = time.perf_counter()
            response = session.post(base + "/shop/order/", timeout=4 * hang, allow_redirects=False, data={
                "csrfmiddlewaretoken": token, "orderer_name": "벤치", "orderer_phone": "010-0000-0000",
                "same_as_orderer": "on", "address": "서울 동작구 신대방2동", "payment_method": "card",
                "card_number": "4111", "guest_password": "bench123", "privacy_agreed": "on"})
            waited = time.perf_counter() - started
            assert response.status_code == 400, response.status_code  # refused with the reason, nothing charged
        finally:
            self.sandbox.fault(self.api_id, "", count=0)
            for node in nodes:
                stop(node)
        return waited


WORKS = (("placement", "주문 placement with mileage", "orders/s"), ("refund", "환불관리 bulk 환불완료", "refunds/s"))


NEAR_THREADS = 4  # threads of a node when the provider is near: make serve's least (scripts/serve.sh)
FAR_THREADS = 2  # when it is 50 ms or more away: thin nodes, so that two of them fit in this machine's CPU


def threads_for(latency_ms: int, given: int = 0) -> int:
    """Threads per node process for a run with the provider `latency_ms` away (`given` if not 0). Near, a unit holds
    its thread briefly and a node needs make serve's 4 to keep its core busy; far, a node of make serve's count (16 at
    100 ms) would alone ask more CPU than this 2-core machine has beside the provider and PostgreSQL, and two nodes
    could not show what a second node adds: each node is given 2, a quarter of the machine at 100 ms. On a real
    deployment each node has cores of its own and takes make serve's count."""
    return given or (NEAR_THREADS if latency_ms == 0 else FAR_THREADS)


def describe(run: dict, *, nodes: int, processes: int, threads: int, alone_ms: float) -> dict:
    """One timed run in figures: its rate, p95, the provider's own time, the CPU per unit split by who spent it,
    and its two ceilings: CPU (the machine's cores, and the nodes' processes for the portal's own share, over the
    CPU one unit costs) and waiting (the nodes' threads over the time one unit holds a thread, measured alone)."""
    cpus = os.cpu_count() or 1
    done = run["done"]

    def per(key):
        return run[key] * 1000 / done

    total_ms = per("machine_cpu")
    cpu_ceiling = min(cpus * 1000 / total_ms, nodes * processes * 1000 / max(0.1, per("portal_cpu")))
    waiting_ceiling = nodes * processes * threads * 1000 / alone_ms
    rate = done / run["wall"]
    return {"nodes": nodes, "threads": threads, "per_s": round(rate, 1), "count": done,
            "p95_ms": round(sorted(run["latencies"])[int(len(run["latencies"]) * 0.95) - 1]),
            "alone_ms": round(alone_ms, 1), "cpu_ceiling": round(cpu_ceiling, 1),
            "waiting_ceiling": round(waiting_ceiling, 1),
            "of_ceiling": round(rate / min(cpu_ceiling, waiting_ceiling), 2),
            "provider_ms_median": round(statistics.median(run["provider_ms"]), 1),
            "cpu_ms_total": round(total_ms, 1), "cpu_ms_portal": round(per("portal_cpu"), 1),
            "cpu_ms_provider": round(per("provider_cpu"), 1), "cpu_ms_clients": round(per("clients_cpu"), 1),
            "cpu_ms_rest": round(total_ms - per("portal_cpu") - per("provider_cpu") - per("clients_cpu"), 1),
            "machine_busy": round(run["busy_ratio"], 2), "busy_before": round(run["background"], 2)}


def measure(args) -> list[dict]:
    """Placement and bulk 환불완료 with the provider at each of --latencies: one node (and, alone, one client for
    the time a unit holds a thread); two nodes at the nearest and the farthest latency. Then the buyer's wait when
    the provider hangs."""
    bench = Bench(args, SCALES[args.scale])
    latencies = sorted({int(ms) for ms in args.latencies.split(",")})
    near, far = latencies[0], latencies[-1]
    shape = {"processes": args.node_workers}
    started = time.monotonic()
    runs: dict = {}

    def note(what):
        print(f"… scaling: {what} ({time.monotonic() - started:.0f} s)", file=sys.stderr)

    try:
        bench.start()
        note("set up")
        for latency in latencies:
            bench.provider_at(latency)
            bench.threads = threads_for(latency, args.node_threads)
            for key, _name, _unit in WORKS:
                work = bench.placements if key == "placement" else bench.refunds
                batch = 1 if key == "placement" else (args.batch or bench.scale["batch"])
                alone = work(1, jobs=4 * batch, clients=1)
                alone_ms = statistics.median(alone["latencies"]) / batch
                for nodes in (1, 2) if latency in (near, far) else (1,):
                    runs[key, latency, nodes] = describe(work(nodes), nodes=nodes, alone_ms=alone_ms,
                                                         threads=bench.threads, **shape)
                    note(f"{key}, provider {latency} ms away, {nodes} node(s)")
        bench.provider_at(0)
        bench.threads = threads_for(0, args.node_threads)
        waited = bench.hanging_provider_wait()
        note("the buyer's wait with a hanging provider")
    finally:
        bench.close()
    return rows_of(runs, latencies, waited, shape)


def rows_of(runs: dict, latencies: list[int], waited: float, shape: dict) -> list[dict]:
    from django.conf import settings

    near, far = latencies[0], latencies[-1]
    measured = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows = []
    for key, name, unit in WORKS:
        for latency in latencies:
            one = runs[key, latency, 1]
            target = f"≥ {ONE_NODE_SHARE:.0%} of the lower ceiling" if latency == far else "reported"
            rows.append({
                "metric": f"{name}, one node, the provider {latency} ms away ({unit}; of the lower of its ceilings: "
                          f"CPU {one['cpu_ceiling']}, waiting {one['waiting_ceiling']})",
                "database": "postgresql", "this": one["per_s"],
                "baseline": min(one["cpu_ceiling"], one["waiting_ceiling"]), "ratio": one["of_ceiling"],
                "target": target, "met": one["of_ceiling"] >= ONE_NODE_SHARE if latency == far else True,
                "unit": unit, "scaling": {"work": name, "latency": latency, "runs": [one], "measured": measured,
                                          "threads": one["threads"], **shape}})
        one, two = runs[key, far, 1], runs[key, far, 2]
        ratio = two["per_s"] / one["per_s"]
        rows.append({"metric": f"{name}, two nodes vs one, the provider {far} ms away ({unit})",
                     "database": "postgresql", "this": two["per_s"], "baseline": one["per_s"],
                     "ratio": round(ratio, 2), "target": f"≥ {TWO_NODES_FAR}×", "met": ratio >= TWO_NODES_FAR,
                     "unit": unit, "scaling": {"work": name, "latency": far, "runs": [one, two], "measured": measured,
                                               "threads": two["threads"], **shape}})
        two = runs[key, near, 2]
        share = two["per_s"] / two["cpu_ceiling"]
        rows.append({"metric": f"{name}, two nodes, the provider {near} ms away, vs the machine's CPU ceiling "
                               f"({unit})", "database": "postgresql", "this": two["per_s"],
                     "baseline": two["cpu_ceiling"], "ratio": round(share, 2),
                     "target": f"≥ {TWO_NODES_NEAR:.0%} of the CPU ceiling", "met": share >= TWO_NODES_NEAR,
                     "unit": unit, "scaling": {"work": name, "latency": near, "runs": [runs[key, near, 1], two],
                                               "measured": measured, "threads": two["threads"], **shape}})
    deadline = settings.MILEAGE_APPROVAL_DEADLINE_SECONDS
    rows.append({"metric": f"the buyer's wait for the order form's answer when the provider hangs (approval deadline "
                           f"{deadline:g} s)", "database": "postgresql", "this": round(waited, 2), "baseline": deadline,
                 "ratio": round(waited / deadline, 2), "target": f"≤ {deadline:g} s", "met": waited <= deadline,
                 "unit": "s"})
    return rows


def readme_section(rows: list[dict]) -> str:
    """The scaling section of bench/README.md: every run's figures and ceilings, then the targets."""
    runs = [r for r in rows if "scaling" in r]
    if not runs:
        return ""
    first = runs[0]["scaling"]
    lines = [README_MARK, "",
             "Measured by `bench/scaling.py` (part of `make bench`; alone: `python bench/scaling.py --write-readme`). "
             f"Each node is one gunicorn of {first['processes']} process × the threads in the table (4 with the "
             "provider near, as `make serve`'s least; 2 when it is far, so that two nodes fit in this machine's CPU: "
             "`bench/scaling.py`'s `threads_for`); the provider "
             "sandbox runs beside the nodes (2 processes × 16 threads), all on this one machine with PostgreSQL, "
             "and the same prepared work is sent by the same clients for one node and for two. The provider is put "
             "0, 50 and 100 ms away (every server call waits that long before its answer). Ceilings: **CPU** is the "
             "machine's cores over the CPU one unit costs (all of it: the nodes, the provider, PostgreSQL, the "
             "clients; what other work took in the second before the run is left out), or the nodes' processes over the portal's own share when that is lower; **waiting** is the "
             "nodes' threads over the time one unit holds a thread, measured with one client alone. A node that "
             "reaches the lower of the two wastes neither its cores nor its threads.", "",
             f"Last measured {first['measured']} on {os.cpu_count()} CPUs.", "",
             "| work | provider away | nodes × threads | per second | p95 ms | ceilings: CPU / waiting | of the lower | "
             "time alone ms | provider ms per call | CPU ms per unit: portal / provider / clients / PostgreSQL and rest "
             "| machine busy (before) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    seen = set()
    for r in runs:
        for d in r["scaling"]["runs"]:
            key = (r["scaling"]["work"], r["scaling"]["latency"], d["nodes"])
            if key in seen:
                continue
            seen.add(key)
            lines.append(f"| {key[0]} | {key[1]} ms | {d['nodes']} × {d['threads']} | {d['per_s']} | {d['p95_ms']} | "
                         f"{d['cpu_ceiling']} / {d['waiting_ceiling']} | {d['of_ceiling']:.0%} | {d['alone_ms']} | "
                         f"{d['provider_ms_median']} | {d['cpu_ms_portal']} / {d['cpu_ms_provider']} / "
                         f"{d['cpu_ms_clients']} / {d['cpu_ms_rest']} | {d['machine_busy']:.0%} "
                         f"({d['busy_before']:.0%}) |")
    lines += ["", "| target | figure | met? |", "|---|---|---|"]
    for r in rows:
        if r["target"] == "reported":
            continue
        lines.append(f"| {r['metric']}: {r['target']} | {r['this']} vs {r['baseline']} → {r['ratio']} | "
                     f"{'yes' if r['met'] else '**no**'} |")
    lines += ["", explain(rows), ""]
    return "\n".join(lines)


def explain(rows: list[dict]) -> str:
    """What limits each figure, read from the numbers themselves."""
    parts = []
    for r in rows:
        if "scaling" not in r or r["met"] and r["target"] == "reported":
            continue
        d = r["scaling"]["runs"][-1]
        bound = "CPU" if d["cpu_ceiling"] <= d["waiting_ceiling"] else "waiting on the provider"
        text = (f"**{r['metric']}**: {r['ratio']} ({'met' if r['met'] else 'not met'}); the lower ceiling is "
                f"{bound} ({min(d['cpu_ceiling'], d['waiting_ceiling'])}/s), the machine {d['machine_busy']:.0%} "
                f"busy ({d['busy_before']:.0%} in the second before, with nothing sent)")
        if not r["met"] and d["busy_before"] >= 0.3:
            text += "; other work shared the cores"
        parts.append(text + ".")
    return "\n\n".join(parts)


def write_readme(rows: list[dict]) -> None:
    """Replace (or add) the scaling section at the end of bench/README.md."""
    path = ROOT / "bench" / "README.md"
    text = path.read_text() if path.exists() else ""
    head = text.split(README_MARK)[0].rstrip("\n")
    path.write_text(head + "\n\n" + readme_section(rows) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="small", choices=SCALES)
    parser.add_argument("--node-workers", type=int, default=1, help="gunicorn processes per node")
    parser.add_argument("--node-threads", type=int, default=0,
                        help="threads per gunicorn process (by default 4 with the provider near, 2 when far)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent browsers or operators")
    parser.add_argument("--latencies", default="0,50,100", help="the provider's distance in ms, comma-separated")
    parser.add_argument("--batch", type=int, default=0, help="refunds per 환불완료 press (by default the scale's)")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    started = time.monotonic()
    rows = measure(args)
    if args.write_readme:
        write_readme(rows)
    for r in rows:
        print(f"{r['metric']}: {r['this']} vs {r['baseline']} → {r['ratio']}×", file=sys.stderr)
    print(f"scaling bench: {time.monotonic() - started:.0f} s", file=sys.stderr)
    print(json.dumps({"rows": rows}, ensure_ascii=False))


if __name__ == "__main__":
    main()
