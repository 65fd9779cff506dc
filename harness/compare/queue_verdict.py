"""The ``queue_backlog`` verdict: drain time, peak connections against the cap, exactly once, the dead letters.

Pure (run records in, one sentence out), and read from the runs' parameters, which carry what the summaries do
not: the drain time, the idempotency keys counted in the table and the dead-letter queue's content.
"""

from __future__ import annotations

from harness.kit.records import RunRecord

__all__ = ["queue_backlog_verdict"]


def _one(run: RunRecord) -> str:
    p = run.parameters
    cap = int(p["max_concurrency"])
    within = "within" if run.peak_connections <= cap else "OVER"
    once = (
        "each good message written exactly once"
        if p["duplicates"] == 0 and p["lost"] == 0 and p["dead_letter_good"] == 0 and p["items"] == p["written"]
        else f"{p['lost']} lost, {p['dead_letter_good']} good ones in the DLQ, {p['duplicates']} duplicates"
    )
    drained = f"drained in {p['drain_s']:.1f} s" if p["drained"] else "NOT drained"
    if p.get("good_done_s") is not None:
        drained += f" (good messages done in {p['good_done_s']:.1f} s, then the poison's retries)"
    return (
        f"{run.strategy} {drained}, peak {run.peak_connections} connections ({within} MaximumConcurrency {cap}), "
        f"{once} ({p['deliveries']} deliveries), {p['dead_letter_poison']} of {p['poison']} poison in the DLQ"
    )


def queue_backlog_verdict(runs: list[RunRecord]) -> str:
    if not runs:
        return ""
    first = runs[0].parameters
    return f"{first['messages']} messages enqueued at once for IngestFunction: " + "; ".join(map(_one, runs)) + "."
