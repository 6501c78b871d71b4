"""bench/scaling.py's arithmetic and its explanation: the ratio, the target, and the reason a ratio falls short."""

import os
import time

from bench import scaling


def run(done: int, wall: float, *, busy: float, before: float = 0.1, provider_ms: int = 20) -> dict:
    return {"done": done, "wall": wall, "latencies": [100.0] * done, "provider_ms": [provider_ms] * done,
            "portal_cpu": done * 0.030, "provider_cpu": done * 0.010, "clients_cpu": done * 0.005,
            "machine_cpu": done * 0.060, "busy_ratio": busy, "background": before}


def test_the_ratio_is_two_nodes_throughput_over_one_nodes_and_meets_the_target_at_1_6():
    row = scaling.summary("주문 placement with mileage", "orders/s", run(100, 10.0, busy=0.5), run(100, 5.0, busy=0.9))
    assert (row["ratio"], row["met"]) == (2.0, True)
    assert row["this"].startswith("20.0") and row["baseline"].startswith("10.0")
    detail = row["scaling"]["one"]
    assert (detail["cpu_ms_portal"], detail["cpu_ms_provider"], detail["cpu_ms_clients"], detail["cpu_ms_rest"]) == (
        30.0, 10.0, 5.0, 15.0)
    short = scaling.summary("환불관리 bulk 환불완료", "refunds/s", run(100, 10.0, busy=0.5), run(100, 8.0, busy=0.9))
    assert (short["ratio"], short["met"]) == (1.25, False)


def test_a_short_ratio_on_a_saturated_machine_is_explained_as_cpu_bound_with_the_provider_apart(monkeypatch):
    monkeypatch.setattr(scaling.os, "cpu_count", lambda: 2)
    row = scaling.summary("주문 placement with mileage", "orders/s", run(100, 10.0, busy=0.97, before=0.8),
                          run(100, 9.0, busy=1.0, before=0.8, provider_ms=60))
    text = scaling.explain([row])
    assert "below the 1.6× target" in text and "CPU-bound" in text
    assert "already 80% and 80% busy" in text  # other work on the machine is named
    assert "from 20.0 ms with one node to 60.0 ms with two" in text  # the provider's time, shown apart
    # 60 ms of CPU per order on 2 cores caps the machine near 33/s; one node ran 10/s: 30% of it, at most 3.33×
    assert "caps the machine near 33 per second" in text and "one node already ran at 30% of that cap" in text
    assert "could have gone past about 3.33×" in text
    section = scaling.readme_section([{"metric": "other row"}, row])
    assert section.startswith(scaling.README_MARK) and "**1.11×**" in section and "not met" in section


def test_a_short_ratio_with_idle_cpu_points_at_waiting_and_a_met_target_says_so():
    idle = scaling.summary("환불관리 bulk 환불완료", "refunds/s", run(100, 10.0, busy=0.4), run(100, 9.0, busy=0.5))
    assert "idle CPU" in scaling.explain([idle]) and "CPU-bound" not in scaling.explain([idle])
    met = scaling.summary("환불관리 bulk 환불완료", "refunds/s", run(100, 10.0, busy=0.4), run(100, 5.0, busy=0.8))
    assert scaling.explain([met]) == "**환불관리 bulk 환불완료**: 2.0×, the target is met."


def test_cpu_seconds_counts_the_work_of_a_process():
    before = scaling.cpu_seconds([os.getpid()])
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    assert scaling.cpu_seconds([os.getpid()]) - before >= 0.2
    busy, total = scaling.machine_seconds()
    assert 0 < busy <= total
