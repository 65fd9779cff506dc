"""Concurrent clients: each one sends its invocations back to back and records what it saw.

One thread per client, all released together by a barrier, like a burst of traffic reaching API Gateway. Lambda
decides the rest (warm environment, new environment, or throttle), exactly as it would for real callers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from harness.compare.judge import Judge
from harness.kit.outcomes import Invoker, classify_error
from harness.kit.records import RequestRecord
from harness.kit.workload import Workload

__all__ = ["drive"]


def drive(
    invoke: Invoker,
    function: str,
    workload: Workload,
    *,
    clients: int,
    invocations: int,
    t0: float | None = None,
    pause_s: float = 0.0,
    on_request: Callable[[RequestRecord], None] | None = None,
    judge: Judge | None = None,
) -> list[RequestRecord]:
    """Run ``clients`` concurrent callers, ``invocations`` each; returns every request's record.

    ``pause_s`` is a think time between one client's requests (0: back to back). ``judge`` decides what an answer
    means and counts the rules it used (a fresh one when None).
    """
    judging = judge or Judge()
    if clients < 1 or invocations < 1:
        raise ValueError(f"clients and invocations must be at least 1, got {clients} and {invocations}")
    start = t0 if t0 is not None else time.monotonic()
    barrier = threading.Barrier(clients)
    records: list[RequestRecord] = []
    lock = threading.Lock()

    def client_loop(client: int) -> None:
        barrier.wait()
        for number in range(invocations):
            event = workload.next_event(client, number)
            began = time.monotonic()
            try:
                result = invoke(function, event)
                record = judging.record(
                    result, client=client, started_s=began - start, latency_ms=(time.monotonic() - began) * 1000
                )
            except Exception as exc:  # noqa: BLE001 - a client records any failure and goes on, like a real caller
                record = RequestRecord(
                    client=client,
                    started_s=began - start,
                    latency_ms=(time.monotonic() - began) * 1000,
                    ok=False,
                    status=0,
                    error=classify_error(f"{type(exc).__name__}: {exc}"),
                )
            with lock:
                records.append(record)
            if on_request is not None:
                on_request(record)
            if pause_s:
                time.sleep(pause_s)

    threads = [threading.Thread(target=client_loop, args=(i,), name=f"client-{i}", daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(records, key=lambda r: r.started_s)
