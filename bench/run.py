"""`make bench [SCALE=small]`: run the measurements on SQLite and on PostgreSQL, print one table, keep the JSON.

Data is generated once per database and scale into var/bench/ (SQLite files) or <BENCH_DB_PREFIX>_<scale>
(PostgreSQL, default mileage_bench_<scale>); later runs reuse it.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
# The PostgreSQL databases' names start with this (e.g. BENCH_DB_PREFIX=h3_bench when several people run the bench
# against one server at the same time).
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "mileage_bench")


def pg_ready() -> bool:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "pg_ready.py"), PG + "/postgres"],
                          capture_output=True).returncode == 0


def pg_database(name: str) -> str:
    import psycopg

    with psycopg.connect(PG + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG}/{name}"


def run(database_url: str, *args: str) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "bench.settings",
           "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    out = subprocess.run([sys.executable, "-m", "bench.measure", *args], env=env, cwd=ROOT, check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", default="full", choices=["small", "full"])
    parser.add_argument("--skip-sandbox", action="store_true")
    parser.add_argument("--vendor", choices=["sqlite", "postgresql"], action="append",
                        help="measure only this database (repeatable; default: both)")
    parser.add_argument("--only", action="append", metavar="SECTION",
                        help="measure only this section of bench/measure.py (repeatable: order_queue, settlement, "
                             "exclusions, receipts, bulk_work, sandbox; 'data' only generates the data)")
    parser.add_argument("--readme-from", nargs="+", metavar="JSON",
                        help="write bench/README.md from results JSON files (their rows together) and stop")
    args = parser.parse_args()
    if args.readme_from:
        reports = [json.loads(Path(name).read_text()) for name in args.readme_from]
        write_readme({**reports[-1], "rows": [r for report in reports for r in report["rows"]]})
        return
    (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
    databases = [("sqlite", f"sqlite:///{ROOT / 'var' / 'bench' / f'bench-{args.scale}.sqlite3'}",
                  f"sqlite:///{ROOT / 'var' / 'bench' / 'bench-tiny.sqlite3'}")]
    vendors = set(args.vendor or ["sqlite", "postgresql"])
    if "sqlite" not in vendors:
        databases = []
    if "postgresql" in vendors:
        if pg_ready():
            databases.append(("postgresql", pg_database(f"{DB_PREFIX}_{args.scale}"),
                              pg_database(f"{DB_PREFIX}_tiny")))
        else:
            print("PostgreSQL does not answer: it is not measured", file=sys.stderr)
    load_before = os.getloadavg()[0]  # other work on the machine skews every figure: the report says how busy it was
    rows = []
    for vendor, url, tiny_url in databases:
        print(f"… {vendor}", file=sys.stderr)
        extra = ["--skip-sandbox"] if args.skip_sandbox else []
        extra += [arg for name in args.only or [] for arg in ("--only", name)]
        result = run(url, "--scale", args.scale, *extra)
        rows += result["rows"]
        if args.only:  # a part of the run: its rows alone
            continue
        tiny = run(tiny_url, "--memory-only")["memory"]
        for view, kib in result["memory"].items():
            ratio = kib / max(1.0, tiny[view])
            rows.append({"metric": f"memory of {view} list (large vs tiny table)", "database": vendor,
                         "this": round(kib), "baseline": round(tiny[view]), "ratio": round(ratio, 2),
                         "target": "does not grow (≤ 1.5×)", "met": ratio <= 1.5, "unit": "KiB"})
    if pg_ready() and not args.skip_sandbox and not args.only:  # one node vs two (bench/scaling.py), on PostgreSQL
        out = subprocess.run([sys.executable, str(ROOT / "bench" / "scaling.py"), "--scale", args.scale], cwd=ROOT,
                             check=True, stdout=subprocess.PIPE, text=True).stdout
        rows += json.loads(out.strip().splitlines()[-1])["rows"]
    report = {"date": datetime.now().isoformat(timespec="seconds"), "scale": args.scale,
              "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                          "load": [round(load_before, 2), round(os.getloadavg()[0], 2)]},
              "rows": rows}
    suffix = "" if not args.vendor else "-" + "-".join(sorted(set(args.vendor)))
    suffix += "".join(f"-{name}" for name in sorted(set(args.only or [])))
    out = ROOT / "bench" / "results" / f"{datetime.now():%Y-%m-%d}-{args.scale}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=2))
    print(table(rows))
    print(f"\n{sum(r['met'] for r in rows)} of {len(rows)} targets met · results in {out.relative_to(ROOT)}")
    if args.scale == "full" and not args.vendor and not args.only:  # a one-database run: --readme-from joins the files
        write_readme(report)


README_HEAD = """# Benchmarks

`make bench` (1,000,000 orders, 100,000 products, 1,000,000 mileage events) or `make bench SCALE=small`.
`python bench/run.py --scale full --only order_queue` measures one section alone (repeatable; `--only data` only generates the data); its rows go to bench/results/, not into this file.
`make bench LATENCY_MS=100` puts the provider sandbox 100 ms away for these rows (every server call waits that long
before its answer, outside the provider's own time; `LATENCY_JITTER_MS` adds a random part); the scaling section
below measures placement and bulk 환불완료 at 0, 50 and 100 ms on its own, and `docs/capacity.md` reads its figures.
Every figure is a median of several runs; every target is a ratio against a baseline measured in the same run, or a
count. Baselines: the Django admin changelist of the same Order model (order queue), the same grouped query on a bare cursor
(settlement statement), a bare WeasyPrint render of the same HTML (receipts), the single-process rate (receipt batches), a plain
view rendering the product template without the mileage work (storefront, gunicorn with 2 workers, 8 clients on
loopback), an order placement without mileage (placement: the two kinds interleaved, as many buyers at once as the
server has workers), the same order with 500원 of mileage placed on the TEST gateway (placement through PortOne: the
window's pre-registration and the confirming post, against the PortOne emulator with the real SDK, the two kinds
interleaved in one process; the gateway's time — the TEST gateway's books, PortOne's SDK calls — left out of both), one order's 배송 or 입금확인 posted from its detail screen (송장 일괄등록 per row, bulk 입금확인
per order: both sides record the same outbox rows, the sending is left to the outbox worker), the screen's own
statements run bare on a cursor after the same login (대시보드, 예외상품설정 search: what the page adds to its SQL), a
stored file of the same size served after the same login (cached receipt). The provider's time is left out of the
portal's: per placement its own time, which the sandbox reports in `X-Provider-Time-Ms`; per refund the portal's wait
for each answer (requests' `elapsed`, from the request's sending to its answer's headers: what a provider across the
internet costs), timed as it happens like the gateway's cancel, after an untimed bulk of five so that neither side
pays the process's first calls.
Query budgets (`bench/queries.py`, tested in `tests/portal/test_query_budgets.py`) are counted, never timed: a
*query* is a statement the portal runs to read or write its rows. Counted apart and shown beside it are the TEST
gateway's own book (`GatewayEntry`: it stands for the payment company's database, as the gateway's time is left out
of the portal's) and BEGIN / COMMIT / SAVEPOINT / RELEASE, which touch no row and follow the transactions' shape
(ADR 0005 and 0012). A placement is the order form's POST, the whole request, session included; a 환불완료 is one
card refund with mileage (`refund_complete`), its provider call sent afterwards by the outbox worker (the bulk row
counts that too, on a bulk of its own: the timed bulk and its floor run without Django's statement log).

"""


def write_readme(report: dict) -> None:
    """bench/README.md: the last full run's table and the machine it ran on."""
    machine = report["machine"]
    lines = [README_HEAD, f"## Last full run: {report['date']}\n",
             f"Machine: {machine['cpus']} CPUs, {machine['platform']}, Python {machine['python']}"
             + (f"; load average {machine['load'][0]} at the start, {machine['load'][1]} at the end" if machine.get("load")
                else "") + ".\n",
             "| metric | database | this project | baseline | ratio | target | met? |", "|---|---|---|---|---|---|---|"]
    for r in report["rows"]:
        lines.append(f"| {r['metric']} | {r['database']} | {r['this']} {r['unit']} | {r['baseline']} | {r['ratio']} | "
                     f"{r['target']} | {'yes' if r['met'] else '**no**'} |")
    from bench.scaling import readme_section

    (ROOT / "bench" / "README.md").write_text("\n".join(lines) + "\n\n" + readme_section(report["rows"]))


def table(rows) -> str:
    header = ["metric", "database", "this project", "baseline", "ratio", "target", "met?"]
    body = [[r["metric"], r["database"], f"{r['this']} {r['unit']}", f"{r['baseline']}", f"{r['ratio']}",
             r["target"], "yes" if r["met"] else "NO"] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body, strict=False)]
    lines = [" | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=False)) for line in [header, *body]]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


if __name__ == "__main__":
    main()
