"""The queue_backlog verdict says what went wrong when something did: over the cap, lost, duplicated, not drained."""

from __future__ import annotations

from harness.compare.queue_verdict import queue_backlog_verdict
from harness.kit.records import ConnectionSample, RunRecord


def run(peak: int, **figures: object) -> RunRecord:
    parameters = {
        "messages": 100,
        "poison": 2,
        "max_concurrency": 5,
        "drained": True,
        "drain_s": 12.5,
        "good_done_s": 3.25,
        "deliveries": 98,
        "written": 98,
        "items": 98,
        "duplicates": 0,
        "lost": 0,
        "dead_letter_poison": 2,
        "dead_letter_good": 0,
        **figures,
    }
    return RunRecord("single", "queue_backlog", "100 messages", parameters, samples=[ConnectionSample(0.0, peak, peak)])


def test_a_clean_run_reads_as_drained_within_the_cap_exactly_once():
    assert queue_backlog_verdict([run(5)]) == (
        "100 messages enqueued at once for IngestFunction: single drained in 12.5 s (good messages done in 3.2 s, "
        "then the poison's retries), peak 5 connections (within MaximumConcurrency 5), each good message written "
        "exactly once (98 deliveries), 2 of 2 poison in the DLQ."
    )


def test_over_the_cap_lost_messages_and_no_drain_are_named():
    text = queue_backlog_verdict([run(7, drained=False, good_done_s=None, lost=3, written=95, items=95)])

    assert "single NOT drained, peak 7 connections (OVER MaximumConcurrency 5)" in text
    assert "3 lost, 0 good ones in the DLQ, 0 duplicates" in text
