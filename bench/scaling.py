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
    "small": {"placements": 48, "refunds": 64, "batch": 4},
    "full": {"placements": 300, "refunds": 600, "batch": 10},
}
TARGET = 1.6
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
        from tests.sandbox_process import Sandbox, serve_command

        self.sandbox = Sandbox.start(self.tmp)
        if migrate.wait() != 0:
            raise RuntimeError("the portal's migrations failed")
        if not copied:
            keep_as_template(self.db_name)
        # the provider in two processes, so that one sandbox process is not what two portal nodes wait on
        stop(self.sandbox.process)
        command = serve_command(self.sandbox_port)
        command[command.index("--workers") + 1] = "2"
        self.sandbox.process = subprocess.Popen(command, env=self.sandbox.env, cwd=ROOT,
                                                stdout=self.sandbox.log_path.open("a"), stderr=subprocess.STDOUT)
        self.sandbox.base_url = f"http://127.0.0.1:{self.sandbox_port}"
        self.sandbox.wait_ready()
        os.environ.update({"MILEAGE_API_BASE": self.sandbox.base_url, "MILEAGE_SERVICE_BASE": self.sandbox.base_url})

        import django

        django.setup()
        from mileage.models import MileageSettings
        from portal.demo.shop import load_demo

        load_demo()
        self.api_id, hash_key = self.sandbox.new_merchant(rate="1")
        MileageSettings.objects.update_or_create(pk=1, defaults={"api_id": self.api_id, "hash_key": hash_key,
                                                                 "service_enabled": True})

    def nodes_up(self, count: int) -> list[subprocess.Popen]:
        nodes = []
        for port in self.node_ports[:count]:
            nodes.append(subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "bench.wsgi", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(self.args.node_workers), "--threads", str(self.args.node_threads),
                 "--log-level", "error"], env=os.environ.copy(), cwd=ROOT))
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

    def timed(self, nodes: list[subprocess.Popen], jobs: list, work) -> dict:
        """Run work(job) for every job from --clients threads, the n-th job on the n-th thread's turn; returns the
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
        threads = [threading.Thread(target=client) for _ in range(self.args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        after = (cpu_seconds(node_pids), cpu_seconds([self.sandbox.process.pid]), machine_seconds(),
                 own_cpu_seconds())
        busy, total = after[2][0] - before[2][0], after[2][1] - before[2][1]
        return {"wall": wall, "portal_cpu": after[0] - before[0], "provider_cpu": after[1] - before[1],
                "clients_cpu": after[3] - before[3], "machine_cpu": busy, "busy_ratio": busy / total if total else 0,
                "background": background, "latencies": latencies}

    # 1. placements

    def placements(self, count: int) -> dict:
        import requests

        from mileage.models import MileageEvent

        nodes = self.nodes_up(count)
        try:
            def prepare(n):
                base = f"http://127.0.0.1:{self.node_ports[n % count]}"
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
                token = form.text.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
                return base, session, token

            with ThreadPoolExecutor(max_workers=4) as pool:
                prepared = list(pool.map(prepare, range(self.scale["placements"])))
            numbers = []

            def place(job):
                base, session, token = job
                response = session.post(base + "/shop/order/", timeout=60, allow_redirects=False, data={
                    "csrfmiddlewaretoken": token, "orderer_name": "벤치", "orderer_phone": "010-0000-0000",
                    "same_as_orderer": "on", "address": "서울 동작구 신대방2동", "payment_method": "card",
                    "card_number": "4111", "guest_password": "bench123", "privacy_agreed": "on"})
                assert response.status_code == 302, response.status_code
                numbers.append(response.headers["Location"].rstrip("/").split("/")[-2])

            result = self.timed(nodes, prepared, place)
        finally:
            for node in nodes:
                stop(node)
        provider = list(MileageEvent.objects.filter(kind="approve", transaction__order__number__in=numbers)
                        .values_list("provider_ms", flat=True))
        assert len(provider) == len(prepared), "an order was placed without its one approval"
        return {**result, "done": len(numbers), "provider_ms": [ms or 0 for ms in provider]}

    # 2. bulk 환불완료

    def refunds(self, count: int) -> dict:
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
            orders = list(pool.map(prepare, range(self.scale["refunds"])))
        ids = list(Refund.objects.filter(order__in=orders).order_by("pk").values_list("pk", flat=True))
        nodes = self.nodes_up(count)
        try:
            desks = []
            for n in range(self.args.clients):
                base = f"http://127.0.0.1:{self.node_ports[n % count]}"
                session = requests.Session()
                session.get(base + "/accounts/login/", timeout=20)
                response = session.post(base + "/accounts/login/", allow_redirects=False, timeout=20, data={
                    "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""), "username": "operator",
                    "password": "operator1234!"})
                assert response.status_code == 302, response.status_code
                desks.append((base, session))
            batch = self.args.batch or self.scale["batch"]
            jobs = [(k, ids[i:i + batch]) for k, i in enumerate(range(0, len(ids), batch))]

            def complete(job):
                k, selection = job
                base, session = desks[k % len(desks)]
                response = session.post(base + "/console/refunds/", allow_redirects=False, timeout=120, data={
                    "csrfmiddlewaretoken": session.cookies.get("csrftoken", ""), "selection": selection, "confirm": "1"})
                assert response.status_code == 302, response.status_code

            result = self.timed(nodes, jobs, complete)
        finally:
            for node in nodes:
                stop(node)
        sent = OutboxMessage.objects.filter(order__in=orders, kind="cancel", status="sent")
        provider = [ms or 0 for ms in sent.values_list("provider_ms", flat=True)]
        assert len(provider) == len(ids), f"{len(provider)} cancels sent for {len(ids)} refunds"
        assert Refund.objects.filter(pk__in=ids, status="done").count() == len(ids)
        return {**result, "done": len(ids), "provider_ms": provider}


def summary(name: str, unit: str, one: dict, two: dict) -> dict:
    rate1, rate2 = one["done"] / one["wall"], two["done"] / two["wall"]
    ratio = rate2 / rate1

    def per(run, key):
        return round(run[key] * 1000 / run["done"], 1)

    detail = {
        run_name: {"per_s": round(run["done"] / run["wall"], 1), "count": run["done"],
                   "p95_ms": round(sorted(run["latencies"])[int(len(run["latencies"]) * 0.95) - 1]),
                   "provider_ms_median": round(statistics.median(run["provider_ms"]), 1),
                   "provider_share": round(sum(run["provider_ms"]) / max(1.0, sum(run["latencies"])), 3),
                   "cpu_ms_portal": per(run, "portal_cpu"), "cpu_ms_provider": per(run, "provider_cpu"),
                   "cpu_ms_clients": per(run, "clients_cpu"),
                   "cpu_ms_rest": round((run["machine_cpu"] - run["portal_cpu"] - run["provider_cpu"]
                                         - run["clients_cpu"]) * 1000 / run["done"], 1),
                   "machine_busy": round(run["busy_ratio"], 2), "busy_before": round(run["background"], 2)}
        for run_name, run in (("one", one), ("two", two))}
    return {"metric": f"{name}, two nodes vs one ({unit}; provider ms per call, machine CPU busy)",
            "database": "postgresql",
            "this": f"{rate2:.1f} ({detail['two']['provider_ms_median']} ms, {detail['two']['machine_busy']:.0%})",
            "baseline": f"{rate1:.1f} ({detail['one']['provider_ms_median']} ms, {detail['one']['machine_busy']:.0%})",
            "ratio": round(ratio, 2), "target": f"≥ {TARGET}×", "met": ratio >= TARGET, "unit": unit,
            "scaling": {**detail, "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}}


def measure(args) -> list[dict]:
    bench = Bench(args, SCALES[args.scale])
    started = time.monotonic()

    def note(what):
        print(f"… scaling: {what} ({time.monotonic() - started:.0f} s)", file=sys.stderr)

    try:
        bench.start()
        note("set up")
        place = [bench.placements(1)]
        note("placements on one node")
        place.append(bench.placements(2))
        note("placements on two nodes")
        refund = [bench.refunds(1)]
        note("refunds on one node")
        refund.append(bench.refunds(2))
        note("refunds on two nodes")
    finally:
        bench.close()
    return [summary("주문 placement with mileage", "orders/s", *place),
            summary("환불관리 bulk 환불완료", "refunds/s", *refund)]


def readme_section(rows: list[dict]) -> str:
    """The scaling section of bench/README.md: the numbers, and what limits the ratio on this machine."""
    rows = [r for r in rows if "scaling" in r]
    if not rows:
        return ""
    lines = [README_MARK, "",
             "Measured by `bench/scaling.py` (part of `make bench`; alone: `python bench/scaling.py --write-readme`). "
             "Each node is one gunicorn of the same shape (by default 1 process × 4 threads); the provider sandbox "
             "runs beside the nodes in two processes, all on this one machine with PostgreSQL, and 8 clients send "
             "the same prepared work in both runs. CPU per unit is the machine's user + system time during the "
             "timed window divided by the units done, split into the portal nodes, the provider sandbox, the "
             "benchmark's clients and the rest (PostgreSQL's backends and anything else running on the machine); "
             "*busy before* is how busy the machine was in the second before the run, with nothing sent yet.", "",
             f"Last measured {rows[0]['scaling']['measured']} on {os.cpu_count()} CPUs: "
             + ", ".join(f"{r['scaling']['one']['count']} {r['unit'].split('/')[0]}" for r in rows) + " per run.", "",
             "| work | nodes | per second | p95 ms | provider ms per call (median) | CPU ms per unit: portal / provider "
             "/ clients / PostgreSQL and rest | machine busy (busy before) |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        name = r["metric"].split(",")[0]
        for key, label in (("one", "1"), ("two", "2")):
            d = r["scaling"][key]
            lines.append(f"| {name} | {label} | {d['per_s']} {r['unit']} | {d['p95_ms']} | {d['provider_ms_median']} | "
                         f"{d['cpu_ms_portal']} / {d['cpu_ms_provider']} / {d['cpu_ms_clients']} / "
                         f"{d['cpu_ms_rest']} | {d['machine_busy']:.0%} ({d['busy_before']:.0%}) |")
        lines.append(f"| {name}: **2 nodes vs 1** | | **{r['ratio']}×** (target ≥ {TARGET}×: "
                     f"{'met' if r['met'] else '**not met**'}) | | | | |")
    lines += ["", explain(rows), ""]
    return "\n".join(lines)


def explain(rows: list[dict]) -> str:
    """Why the ratio is what it is, read from the numbers themselves."""
    cpus = os.cpu_count() or 1
    parts = []
    for r in rows:
        one, two = r["scaling"]["one"], r["scaling"]["two"]
        name = r["metric"].split(",")[0]
        if r["met"]:
            parts.append(f"**{name}**: {r['ratio']}×, the target is met.")
            continue
        total = one["cpu_ms_portal"] + one["cpu_ms_provider"] + one["cpu_ms_clients"] + one["cpu_ms_rest"]
        why = []
        if max(one["machine_busy"], two["machine_busy"]) >= 0.85:
            why.append(
                f"the machine is CPU-bound: its {cpus} cores were {one['machine_busy']:.0%} busy with one node and "
                f"{two['machine_busy']:.0%} with two, so a second node has no idle core to run on. One unit costs "
                f"about {total:.0f} ms of CPU in all, of which the portal node's own share is "
                f"{one['cpu_ms_portal']:.0f} ms; the provider sandbox ({one['cpu_ms_provider']:.0f} ms), the clients "
                f"({one['cpu_ms_clients']:.0f} ms) and PostgreSQL with everything else ({one['cpu_ms_rest']:.0f} ms) "
                f"share the same cores, which caps the machine near {cpus * 1000 / total:.0f} per second whatever the "
                f"number of portal nodes: one node already ran at {one['per_s'] * total / (cpus * 1000):.0%} of that "
                f"cap, so no number of nodes could have gone past about {cpus * 1000 / total / one['per_s']:.2f}× "
                "here")
        else:
            why.append(f"the machine still had idle CPU ({two['machine_busy']:.0%} busy with two nodes), so the time "
                       "went to waiting: on the provider and on rows locked in PostgreSQL")
        if max(one["busy_before"], two["busy_before"]) >= 0.3:
            why.append(f"other work shared the machine: it was already {one['busy_before']:.0%} and "
                       f"{two['busy_before']:.0%} busy in the second before each run")
        why.append(f"the provider's own time per call went from {one['provider_ms_median']} ms with one node to "
                   f"{two['provider_ms_median']} ms with two (its share of the clients' wait from "
                   f"{one['provider_share']:.0%} to {two['provider_share']:.0%}): on shared cores the provider's "
                   "time grows with the load on the machine, which is why it is shown apart")
        parts.append(f"**{name}**: {r['ratio']}×, below the {TARGET}× target, because " + "; ".join(why)
                     + ". A second node adds throughput where it has cores of its own (another machine, or this "
                     "one when the provider, PostgreSQL and the clients are elsewhere).")
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
    parser.add_argument("--node-threads", type=int, default=4, help="threads per gunicorn process")
    parser.add_argument("--clients", type=int, default=8, help="concurrent browsers or operators")
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
