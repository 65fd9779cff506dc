"""The per-invocation line: one JSON object that is a Powertools-shaped log line and an EMF document at once."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from harness.kit.lambda_context import LambdaContext
from lambda_db.metrics import InvocationReporter, layer_logger
from lambda_db.stats import STATS_KEYS

STATS = {key: 0 for key in STATS_KEYS} | {"db_time_ms": 0.25, "checkouts_num": 1}


@pytest.fixture(autouse=True)
def logger_level(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The layer's logger at INFO and metrics on, whatever ran before in this process (the level sticks)."""
    for variable in ("POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_DEV", "_X_AMZN_TRACE_ID"):
        monkeypatch.delenv(variable, raising=False)
    logger = logging.getLogger(layer_logger().name)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield
    logger.setLevel(previous)


CONTEXT = LambdaContext(function_name="items", aws_request_id="r-1")


def _emit(capsys: pytest.CaptureFixture[str]) -> tuple[str, dict[str, Any]]:
    InvocationReporter(pool_mode="single").emit(STATS, cold_start=True, context=CONTEXT)
    out = capsys.readouterr().out
    [line] = out.splitlines()
    return line, json.loads(line)


def test_one_line_is_both_the_log_line_and_the_metrics(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "items")
    raw, line = _emit(capsys)
    assert line["message"] == "lambda_db invocation"
    assert line["lambda_db"]["cold_start"] is True
    assert line["lambda_db"]["request_id"] == "r-1"
    assert line["lambda_db"]["checkouts_num"] == 1
    [directive] = line["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["pool_mode", "service"]]
    assert (line["service"], line["pool_mode"]) == ("items", "single")
    assert raw.count('"service":') == 1  # the log's service key is the metrics' service dimension, written once
    assert line["db_time_ms"] == [0.25]
    assert "checkouts_num" not in line  # not a metric: only in the log half


def test_without_info_logging_the_line_is_metrics_only(capsys: pytest.CaptureFixture[str], logger_level: None) -> None:
    logging.getLogger(layer_logger().name).setLevel(logging.WARNING)
    _, line = _emit(capsys)
    assert "message" not in line
    assert "lambda_db" not in line
    assert line["service"] == "lambda_db"  # the dimension is still there, now from the metrics half
    assert line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["pool_mode", "service"]]


def test_with_metrics_disabled_the_line_is_the_log_only(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    _, line = _emit(capsys)
    assert "_aws" not in line
    assert line["lambda_db"]["db_time_ms"] == 0.25


def test_with_both_off_nothing_is_written(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    logging.getLogger(layer_logger().name).setLevel(logging.WARNING)
    InvocationReporter(pool_mode="single").emit(STATS, cold_start=False)
    assert capsys.readouterr().out == ""


def test_the_xray_trace_id_is_the_root_of_the_trace_header(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-67891233-abcdef012345678912345678;Parent=1;Sampled=1")
    _, line = _emit(capsys)
    assert line["xray_trace_id"] == "1-67891233-abcdef012345678912345678"
