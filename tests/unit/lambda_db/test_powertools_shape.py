"""The per-invocation line holds to Powertools: what ``Logger`` (with ``inject_lambda_context``) and
``EphemeralMetrics`` print for the same values, merged into one line.

The layer writes its line by hand to stay cheap on every invocation; this is what keeps the hand-written line
honest. Powertools itself prints the reference here, for the same counters, context and correlation id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from harness.kit.lambda_context import LambdaContext
from lambda_db.metrics import ALWAYS_SENT, INVOCATION_MESSAGE, SENT_WHEN_NON_ZERO, InvocationReporter, layer_logger
from lambda_db.stats import STATS_KEYS

SERVICE, NAMESPACE = "lambda_db", "shape-tests"
STATS: dict[str, float] = {key: 0 for key in STATS_KEYS} | {"db_time_ms": 0.731, "checkouts_num": 2, "pings_num": 1}
STATS |= {"retries_num": 3}
TIMESTAMPS = ("timestamp", "_aws.Timestamp")


# a request id that needs escaping in JSON, so both lines must escape it the same way
CONTEXT = LambdaContext(function_name="items", memory_limit_in_mb=256, aws_request_id='6f1a-"quoted"-request')


@pytest.fixture(autouse=True)
def powertools_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", SERVICE)
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE)
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-67891233-abcdef012345678912345678;Parent=1;Sampled=1")
    for variable in ("POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_DEV"):
        monkeypatch.delenv(variable, raising=False)
    logger = logging.getLogger(layer_logger().name)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield
    logger.setLevel(previous)
    layer_logger().set_correlation_id(None)


def _powertools_lines(payload: dict[str, Any], *, cold_start: bool, correlation_id: str | None) -> dict[str, Any]:
    """What Powertools prints: the log line of a decorated handler and the metrics document, merged."""
    logger = layer_logger()  # the layer's Powertools Logger: same service, same handler and formatter
    metrics = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
    metrics.set_default_dimensions(pool_mode="single")
    printed: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            printed.append(logger.registered_formatter.format(record))

    capture = Capture()
    logging.getLogger(logger.name).addHandler(capture)
    try:

        @logger.inject_lambda_context(correlation_id_path="headers.id", clear_state=True)
        def handler(event: Any, context: Any) -> None:
            logger.info(INVOCATION_MESSAGE, extra={"lambda_db": payload})

        import aws_lambda_powertools.logging.logger as powertools_logger

        powertools_logger.is_cold_start = cold_start
        handler({"headers": {"id": correlation_id}}, CONTEXT)
    finally:
        logging.getLogger(logger.name).removeHandler(capture)
    values = {key: STATS[key] for key in ALWAYS_SENT}
    values.update((key, STATS[key]) for key in SENT_WHEN_NON_ZERO if STATS[key])
    for name, value in values.items():
        metrics.add_metric(
            name=name, unit=MetricUnit.Milliseconds if name.endswith("_ms") else MetricUnit.Count, value=value
        )
    document = metrics.serialize_metric_set()
    log_line = json.loads(printed[0])
    return {**log_line, **document}


def _without_timestamps(line: dict[str, Any]) -> dict[str, Any]:
    line = json.loads(json.dumps(line))
    del line["timestamp"], line["_aws"]["Timestamp"]
    return line


@pytest.mark.parametrize(("cold_start", "correlation_id"), [(True, "c-1"), (False, None)])
def test_the_line_is_what_powertools_logger_and_ephemeral_metrics_print(
    capsys: pytest.CaptureFixture[str], cold_start: bool, correlation_id: str | None
) -> None:
    context = CONTEXT
    layer_logger().set_correlation_id(correlation_id)  # as inject_lambda_context(correlation_id_path=) would
    InvocationReporter(pool_mode="single").emit(STATS, cold_start=cold_start, context=context, invocation_ms=1.25)
    [printed] = capsys.readouterr().out.splitlines()
    ours = json.loads(printed)
    payload = {"pool_mode": "single", "cold_start": cold_start, "request_id": context.aws_request_id}
    payload |= {"function_name": "items", "invocation_ms": 1.25, **STATS}
    theirs = _powertools_lines(payload, cold_start=cold_start, correlation_id=correlation_id)
    theirs["location"] = ours["location"]  # Powertools names the line that called logger.info: here, this test
    assert _without_timestamps(ours) == _without_timestamps(theirs)
    assert ("correlation_id" in ours) is (correlation_id is not None)
    assert ours["function_request_id"] == context.aws_request_id
    assert isinstance(ours["_aws"]["Timestamp"], int)
    assert ours["timestamp"][:10] == theirs["timestamp"][:10]  # the same format, the same day
