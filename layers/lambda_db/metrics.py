"""Per-invocation reporting: the stats as CloudWatch metrics (EMF) and as one JSON log line.

Uses Powertools' ``EphemeralMetrics`` rather than ``Metrics``: ``Metrics`` instances share one buffer per process,
so flushing ours would also flush (or be flushed with) the function's own metrics.
Reads ``POWERTOOLS_SERVICE_NAME`` and ``POWERTOOLS_METRICS_NAMESPACE`` (default ``serverless-sqlalchemy``);
``POWERTOOLS_METRICS_DISABLED=true`` turns the metrics off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from lambda_db.guards import Leak

__all__ = ["emit_invocation", "layer_logger", "log_leak"]

POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
DEFAULT_SERVICE = "lambda_db"
DEFAULT_NAMESPACE = "serverless-sqlalchemy"


@cache
def layer_logger() -> Logger:
    """The layer's JSON logger; it shares the function's configuration when the service names match."""
    return Logger(service=os.environ.get(POWERTOOLS_SERVICE_NAME) or DEFAULT_SERVICE)


def _unit(key: str) -> MetricUnit:
    return MetricUnit.Milliseconds if key.endswith("_ms") else MetricUnit.Count


def emit_invocation(stats: Mapping[str, float], **fields: Any) -> None:
    """One EMF document with every counter, and one log line with the counters and ``fields`` (cold_start...)."""
    layer_logger().info("lambda_db invocation", extra={"lambda_db": {**fields, **stats}})
    metrics = EphemeralMetrics(
        namespace=os.environ.get(POWERTOOLS_METRICS_NAMESPACE) or DEFAULT_NAMESPACE,
        service=os.environ.get(POWERTOOLS_SERVICE_NAME) or DEFAULT_SERVICE,
    )
    if "pool_mode" in fields:
        metrics.add_dimension(name="pool_mode", value=str(fields["pool_mode"]))
    for key, value in stats.items():
        metrics.add_metric(name=key, unit=_unit(key), value=value)
    metrics.flush_metrics()


def log_leak(leak: Leak, *, request_id: str | None) -> None:
    """Name the code that kept a connection past the end of its invocation."""
    layer_logger().warning(
        "connection still checked out at the end of the invocation; returned to the pool",
        extra={"leak": {"thread": leak.thread, "checked_out_at": list(leak.stack), "request_id": request_id}},
    )
