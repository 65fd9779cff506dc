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

__all__ = ["InvocationReporter", "layer_logger", "log_leak"]

POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
DEFAULT_SERVICE = "lambda_db"
DEFAULT_NAMESPACE = "serverless-sqlalchemy"


@cache
def layer_logger() -> Logger:
    """The layer's JSON logger; it shares the function's configuration when the service names match."""
    return Logger(service=os.environ.get(POWERTOOLS_SERVICE_NAME) or DEFAULT_SERVICE)


# The EMF document is on every invocation's path and Powertools spends ~20 us validating each metric, so it
# carries the two figures a dashboard plots per invocation (connection churn, time in the database) and the
# trouble counters when they are non-zero (a sum treats a missing point as zero). The log line has every key.
ALWAYS_SENT = ("connections_opened_num", "db_time_ms")
SENT_WHEN_NON_ZERO = (
    "connect_ms",
    "connect_errors_num",
    "retries_num",
    "pool_timeouts_num",
    "invalidations_num",
    "secret_refreshes_num",
    "leaks_num",
)


def _unit(key: str) -> MetricUnit:
    return MetricUnit.Milliseconds if key.endswith("_ms") else MetricUnit.Count


class InvocationReporter:
    """Writes the per-invocation log line and EMF document for one :class:`~lambda_db.Database`.

    The namespace, service and ``pool_mode`` dimension are read once: the reporter runs on every invocation, and
    one ``EphemeralMetrics`` reused with default dimensions costs less than one built and dimensioned each time
    (``flush_metrics()`` empties it but keeps the default dimensions).
    """

    def __init__(self, *, pool_mode: str) -> None:
        self._metrics = EphemeralMetrics(
            namespace=os.environ.get(POWERTOOLS_METRICS_NAMESPACE) or DEFAULT_NAMESPACE,
            service=os.environ.get(POWERTOOLS_SERVICE_NAME) or DEFAULT_SERVICE,
        )
        self._metrics.set_default_dimensions(pool_mode=pool_mode)
        self._pool_mode = pool_mode

    def emit(self, stats: Mapping[str, float], **fields: Any) -> None:
        """One log line with every counter and ``fields``, one EMF document (see :data:`ALWAYS_SENT`)."""
        layer_logger().info(
            "lambda_db invocation", extra={"lambda_db": {"pool_mode": self._pool_mode, **fields, **stats}}
        )
        metrics = self._metrics
        for key in ALWAYS_SENT:
            metrics.add_metric(name=key, unit=_unit(key), value=stats[key])
        for key in SENT_WHEN_NON_ZERO:
            if stats[key]:
                metrics.add_metric(name=key, unit=_unit(key), value=stats[key])
        metrics.flush_metrics()


def log_leak(leak: Leak, *, request_id: str | None) -> None:
    """Name the code that kept a connection past the end of its invocation."""
    layer_logger().warning(
        "connection still checked out at the end of the invocation; returned to the pool",
        extra={"leak": {"thread": leak.thread, "checked_out_at": list(leak.stack), "request_id": request_id}},
    )
