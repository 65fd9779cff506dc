"""The ``queue_backlog`` scenario: a deep SQS backlog for IngestFunction, drained by the template's event source.

N messages (some of them poison) are sent at once to the template's ``IngestQueue``, in a real SQS API (moto's
server, started by the emulator); the mapping's pollers drain it with the template's ``BatchSize``, batching
window and ``ScalingConfig.MaximumConcurrency``. Measured per strategy: the time to drain, the peak of server
connections (which must stay within ``MaximumConcurrency``: nothing else runs here), that every good message was
written exactly once (its idempotency key in ``ingested_messages``, one item each), and that the poison messages,
and only they, ended in the dead-letter queue after ``maxReceiveCount`` receives. Each batch invocation is one
request row of the report.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from harness.compare.options import CompareOptions
from harness.compare.phases import Phases
from harness.compare.progress import Progress
from harness.compare.strategies import Strategy
from harness.emulator import BatchOutcome, EventSourceOptions, LocalLambda
from harness.kit.lab import LOCAL_PARAMETERS, Lab, ServerProfile, migrate
from harness.kit.monitor import ConnectionMonitor
from harness.kit.outcomes import classify_error
from harness.kit.records import RequestRecord, RunRecord

__all__ = ["INGEST", "POISON_BODIES", "queue_backlog"]

SCENARIO = "queue_backlog"
INGEST = "IngestFunction"
QUEUE, DEAD_LETTERS = "IngestQueue", "IngestDeadLetterQueue"
# Longer than a batch takes with its cold start on a busy two-core machine (tens of ms forked, under a second with
# --start-mode fresh), so a batch is not redelivered while it runs; short enough that a poison message's
# maxReceiveCount receives take seconds, not the template's 5 x 90 s. Not 1 s: the null strategy's batches (ten
# connects each) reach 1.4 s at p99 here, and were redelivered while they ran (2004 deliveries of 1980 messages).
VISIBILITY_TIMEOUT_S = 2
DRAIN_TIMEOUT_S = 600.0
SENDERS = 4
POISON_BODIES = ("not json", '{"item": {"name": ""}}', '{"item": {"name": "bolt"}, "unexpected": 1}')
PROFILE = ServerProfile(max_connections=300)


def _bodies(good: int, poison: int) -> list[str]:
    bodies = [json.dumps({"item": {"name": f"part {n}"}, "idempotency_key": f"backlog-{n}"}) for n in range(good)]
    spread = max(1, good // max(1, poison))  # poison scattered through the backlog, not all in one batch
    for n in range(poison):
        bodies.insert(min(len(bodies), n * spread + n), POISON_BODIES[n % len(POISON_BODIES)])
    return bodies


def _send_all(lam: LocalLambda, bodies: list[str]) -> None:
    sqs, url = lam.sqs_client(), lam.queue_url(QUEUE)
    chunks = [bodies[i : i + 10] for i in range(0, len(bodies), 10)]

    def send(chunk: list[str]) -> None:
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)]
        failed = sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")
        if failed:
            raise RuntimeError(f"SQS refused {len(failed)} messages: {failed[0].get('Message')}")

    with ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(send, chunks))


def _depth(lam: LocalLambda, queue: str) -> int:
    attributes = lam.sqs_client().get_queue_attributes(
        QueueUrl=lam.queue_url(queue),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def _dead_letters(lam: LocalLambda) -> list[str]:
    sqs, url = lam.sqs_client(), lam.queue_url(DEAD_LETTERS)
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300).get("Messages", [])
        if not got:
            return bodies
        bodies += [message["Body"] for message in got]


class Context(Protocol):
    """What the scenario reads of :class:`~harness.compare.scenarios.ScenarioContext` (which imports this module)."""

    @property
    def lab(self) -> Lab: ...
    @property
    def options(self) -> CompareOptions: ...
    @property
    def phases(self) -> Phases: ...


class _Batches:
    """Each batch invocation as a request record (called from the poller threads)."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.records: list[RequestRecord] = []
        self._lock = threading.Lock()

    def __call__(self, batch: BatchOutcome) -> None:
        result = batch.result
        error: str | None = None
        status = 200
        if result is None:
            status, error = 0, batch.why or "invoke did not run"
        elif result.throttled:
            status, error = 429, "TooManyRequestsException (throttled)"
        elif result.function_error:  # a batch of poison only: Powertools raises, the whole batch fails
            payload = result.payload if isinstance(result.payload, dict) else {}
            status, error = 502, classify_error(f"{payload.get('errorType', '')}: {payload.get('errorMessage', '')}")
        elif batch.failed:
            error = "poison messages in the batch (reported in batchItemFailures)"
        record = RequestRecord(
            client=0,
            started_s=round(batch.started - self.t0, 4),
            latency_ms=batch.duration_ms,
            ok=error is None,
            status=status,
            error=error,
            cold_start=bool(batch.result and batch.result.cold_start),
            environment=batch.result.environment_id if batch.result else None,
        )
        with self._lock:
            self.records.append(record)


def queue_backlog(ctx: Context, strategy: Strategy) -> list[RunRecord]:
    """N messages, some poison, enqueued at once for IngestFunction: drain time, peak connections, exactly once."""
    options = ctx.options
    good, poison = options.messages - options.poison_messages, options.poison_messages
    phases = ctx.phases
    with phases.timed(SCENARIO, "deploy"):
        deployment = ctx.lab.deploy(strategy, PROFILE)
    with phases.timed(SCENARIO, "setup"):
        migrate(deployment.direct_url)  # a fresh database is empty: IngestFunction writes to the application's tables
    (env,) = ctx.lab.function_env(strategy, deployment).values()
    batches = _Batches()
    lam = LocalLambda.from_template(
        options.template,
        parameter_overrides=LOCAL_PARAMETERS,
        env_vars={INGEST: env},
        idle_ttl_s=600.0,
        event_source_options=EventSourceOptions(
            visibility_timeout_s=VISIBILITY_TIMEOUT_S, schedules=False, on_batch=batches
        ),
    )
    with phases.timed(SCENARIO, "start"):
        lam.start()
    try:
        (mapping,) = lam.event_source_stats()["sqs"]
        monitor = ConnectionMonitor(deployment.server, database=deployment.database).start()
        began = batches.t0 = time.monotonic()
        drained, good_done_s = False, None
        with (
            phases.timed(SCENARIO, "measure"),
            Progress(f"{SCENARIO}/{strategy.name}", options.messages, unit="done") as progress,
        ):
            _send_all(lam, _bodies(good, poison))
            deadline = began + DRAIN_TIMEOUT_S
            while time.monotonic() < deadline:
                stats = lam.event_source_stats()["sqs"][0]
                progress.set_done(min(options.messages, stats["succeeded"] + stats["dead_lettered"]))
                if good_done_s is None and stats["succeeded"] >= good:
                    good_done_s = round(time.monotonic() - began, 3)
                if _depth(lam, QUEUE) == 0 and stats["in_flight"] == 0 and _depth(lam, DEAD_LETTERS) >= poison:
                    drained = True
                    break
                time.sleep(0.2)
        drain_s = time.monotonic() - began
        environments = len(lam.environments(INGEST))
        result = monitor.stop()
        stats = lam.event_source_stats()["sqs"][0]
        dead = _dead_letters(lam)
    finally:
        with phases.timed(SCENARIO, "stop"):
            lam.stop()
    figures = _table_figures(deployment.server, deployment.database)
    poison_dead = sum(1 for body in dead if body in POISON_BODIES)
    run = RunRecord(
        strategy=strategy.name,
        scenario=SCENARIO,
        step=f"{options.messages} messages",
        parameters={
            "messages": options.messages,
            "poison": poison,
            "max_concurrency": mapping["max_concurrency"],
            "batch_size": mapping["batch_size"],
            "visibility_timeout_s": VISIBILITY_TIMEOUT_S,
            "drained": drained,
            "drain_s": round(drain_s, 3),
            "good_done_s": good_done_s,  # every good message delivered successfully (poison still retrying)
            "deliveries": stats["succeeded"],
            "throttled": stats["throttled"],
            "retried": stats["retried"],
            "written": figures["keys"],
            "items": figures["items"],
            "duplicates": figures["rows"] - figures["keys"],
            "dead_letter_poison": poison_dead,
            "dead_letter_good": len(dead) - poison_dead,
            "lost": good - figures["keys"] - (len(dead) - poison_dead),
        },
        requests=sorted(batches.records, key=lambda r: r.started_s),
        samples=result.samples,
        duration_s=round(drain_s, 4),
        connections_opened=result.connections_opened,
        connections_refused=result.connections_refused,
        final_connections=result.final_connections,
        backend_memory_kib=result.peak_memory_kib,
        environments=environments,
        request_unit="batch",
    )
    if not drained:
        run.notes.append(f"not drained within {DRAIN_TIMEOUT_S:.0f} s")
    return [run]


def _table_figures(server: Any, database: str) -> dict[str, int]:
    rows, keys, items = server.execute(
        "SELECT count(*), count(DISTINCT message_key), (SELECT count(*) FROM items) FROM ingested_messages",
        database=database,
    )[0]
    return {"rows": int(rows), "keys": int(keys), "items": int(items)}
