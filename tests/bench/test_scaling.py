"""bench/scaling.py's arithmetic: the ceilings of a run, the targets, and what the README says of them."""

import os
import time

from bench import scaling

SHAPE = {"processes": 1, "threads": 4}  # describe() takes both; rows_of() reads the threads from the runs


def run(done: int, wall: float, *, busy: float = 0.5, before: float = 0.1, provider_ms: int = 20,
        portal_cpu: float = 0.030, machine_cpu: float = 0.060) -> dict:
    return {"done": done, "wall": wall, "latencies": [100.0] * done, "provider_ms": [provider_ms] * done,
            "portal_cpu": done * portal_cpu, "provider_cpu": done * 0.010, "clients_cpu": done * 0.005,
            "machine_cpu": done * machine_cpu, "busy_ratio": busy, "background": before}


def test_the_ceilings_are_cores_over_cpu_per_unit_and_threads_over_the_time_alone(monkeypatch):
    monkeypatch.setattr(scaling.os, "cpu_count", lambda: 2)
    # 60 ms of the machine's CPU per order on 2 cores: 33.3/s; the node's one process, 30 ms of it: 33.3/s too;
    # 4 threads, each order holding one 250 ms when alone: 16/s — the lower ceiling, and 15/s is 94% of it
    d = scaling.describe(run(150, 10.0), nodes=1, alone_ms=250, **SHAPE)
    assert (d["per_s"], d["cpu_ceiling"], d["waiting_ceiling"], d["of_ceiling"]) == (15.0, 33.3, 16.0, 0.94)
    assert (d["cpu_ms_portal"], d["cpu_ms_provider"], d["cpu_ms_clients"], d["cpu_ms_rest"]) == (30.0, 10.0, 5.0, 15.0)
    # the portal's own share bounds a node by its processes: 1 process × 1000 / 80 ms = 12.5/s below the machine's
    d = scaling.describe(run(100, 10.0, portal_cpu=0.080, machine_cpu=0.100), nodes=1, alone_ms=20, **SHAPE)
    assert (d["cpu_ceiling"], d["waiting_ceiling"]) == (12.5, 200.0)
    # two nodes: twice the processes and the threads
    d = scaling.describe(run(100, 10.0, portal_cpu=0.080, machine_cpu=0.100), nodes=2, alone_ms=20, **SHAPE)
    assert (d["cpu_ceiling"], d["waiting_ceiling"]) == (20.0, 400.0)


def runs_for(far_two_wall: float, near_two_busy_wall: float) -> dict:
    runs = {}
    for key, _name, _unit in scaling.WORKS:
        runs[key, 0, 1] = scaling.describe(run(100, 5.0), nodes=1, alone_ms=30, **SHAPE)
        runs[key, 0, 2] = scaling.describe(run(100, near_two_busy_wall), nodes=2, alone_ms=30, **SHAPE)
        runs[key, 100, 1] = scaling.describe(run(100, 10.0), nodes=1, alone_ms=250, **SHAPE)
        runs[key, 100, 2] = scaling.describe(run(100, far_two_wall), nodes=2, alone_ms=250, **SHAPE)
    return runs


def test_the_targets_two_nodes_far_at_1_8_one_node_at_85_percent_two_nodes_near_at_90_percent(monkeypatch):
    monkeypatch.setattr(scaling.os, "cpu_count", lambda: 2)
    rows = scaling.rows_of(runs_for(5.0, 3.1), [0, 100], waited=6.2, shape=SHAPE)
    by = {r["metric"].split(" (")[0]: r for r in rows}
    one = by["주문 placement with mileage, one node, the provider 100 ms away"]
    assert (one["ratio"], one["met"]) == (0.62, False)  # 10/s of a 16/s waiting ceiling
    assert by["주문 placement with mileage, one node, the provider 0 ms away"]["target"] == "reported"
    two = by["주문 placement with mileage, two nodes vs one, the provider 100 ms away"]
    assert (two["ratio"], two["met"]) == (2.0, True)
    near = by["환불관리 bulk 환불완료, two nodes, the provider 0 ms away, vs the machine's CPU ceiling"]
    assert (near["ratio"], near["met"]) == (0.97, True)  # 32.3/s of 33.3/s
    wait = rows[-1]
    assert wait["metric"].startswith("the buyer's wait") and (wait["this"], wait["met"]) == (6.2, False)
    rows = scaling.rows_of(runs_for(5.8, 4.0), [0, 100], waited=5.9, shape=SHAPE)
    by = {r["metric"].split(" (")[0]: r for r in rows}
    assert by["주문 placement with mileage, two nodes vs one, the provider 100 ms away"]["met"] is False  # 1.72×
    assert by["주문 placement with mileage, two nodes, the provider 0 ms away, vs the machine's CPU ceiling"][
        "met"] is False  # 25/s of 33.3/s
    assert rows[-1]["met"] is True


def test_the_readme_section_lists_every_run_once_and_names_what_bounds_a_missed_target(monkeypatch):
    monkeypatch.setattr(scaling.os, "cpu_count", lambda: 2)
    rows = scaling.rows_of(runs_for(5.8, 3.1), [0, 100], waited=5.0, shape=SHAPE)
    section = scaling.readme_section(rows)
    assert section.startswith(scaling.README_MARK)
    table = [line for line in section.splitlines() if line.startswith("| 주문 placement") and " ms | " in line]
    assert len(table) == 4  # 0 ms × 1 and 2 nodes, 100 ms × 1 and 2 nodes
    assert "| 주문 placement with mileage | 100 ms | 1 × 4 | 10.0 |" in section
    assert "1.72 | **no** |" in section
    text = scaling.explain(rows)
    assert "the lower ceiling is waiting on the provider (16.0/s)" in text


def test_cpu_seconds_counts_the_work_of_a_process():
    before = scaling.cpu_seconds([os.getpid()])
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    assert scaling.cpu_seconds([os.getpid()]) - before >= 0.2
    busy, total = scaling.machine_seconds()
    assert 0 < busy <= total


def test_nodes_take_four_threads_with_the_provider_near_and_two_when_far_unless_told():
    assert [scaling.threads_for(ms) for ms in (0, 50, 100)] == [4, 2, 2]
    assert scaling.threads_for(100, given=8) == 8
