"""Per-invocation reporting: the stats as one JSON log line and one CloudWatch metrics document (EMF).

Both are on every invocation's path, so both are built the cheap way:

- the log line goes through the layer's Powertools logger (its JSON formatter, handlers and level), but the record
  is made with ``Logger.makeRecord`` + ``Logger.handle`` rather than ``Logger.info``, which skips the stack walk
  that finds the caller's line (the location is this module's, which is what it would find anyway);
- the EMF document is written by hand in the exact shape Powertools' ``EphemeralMetrics`` prints (``_aws`` with
  ``Timestamp`` and ``CloudWatchMetrics``, the dimensions, one list of values per metric). Powertools validates
  every metric and rebuilds the whole document each time (about 20 us); here the part that never changes (namespace,
  dimensions, metric definitions) is serialised once per set of metric names, and only the values are formatted.

Reads ``POWERTOOLS_SERVICE_NAME`` and ``POWERTOOLS_METRICS_NAMESPACE`` (default ``serverless-sqlalchemy``) and
Powertools' ``POWERTOOLS_METRICS_DISABLED`` / ``POWERTOOLS_DEV`` once, when the reporter is made.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from lambda_db.guards import Leak

__all__ = ["InvocationReporter", "layer_logger", "log_leak"]

POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
DEFAULT_SERVICE = "lambda_db"
DEFAULT_NAMESPACE = "serverless-sqlalchemy"
INVOCATION_MESSAGE = "lambda_db invocation"


@cache
def layer_logger() -> Logger:
    """The layer's JSON logger; it shares the function's configuration when the service names match."""
    return Logger(service=os.environ.get(POWERTOOLS_SERVICE_NAME) or DEFAULT_SERVICE)


# The EMF document carries the two figures a dashboard plots per invocation (connection churn, time in the
# database) and the trouble counters when they are non-zero (a sum treats a missing point as zero). The log line
# has every key.
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


def _unit(key: str) -> str:
    return "Milliseconds" if key.endswith("_ms") else "Count"


class EmfWriter:
    """Writes CloudWatch embedded-metric-format documents for a fixed namespace and set of dimensions.

    Parameters
    ----------
    namespace:
        The CloudWatch namespace.
    dimensions:
        Dimension names and values, in the order CloudWatch should group by them.
    """

    def __init__(self, *, namespace: str, dimensions: Mapping[str, str]) -> None:
        self._namespace = namespace
        self._dimensions = dict(dimensions)
        self._middles: dict[tuple[str, ...], str] = {}

    def _middle(self, names: tuple[str, ...]) -> str:
        """Everything between the timestamp and the values: the same for every document with these names."""
        middle = self._middles.get(names)
        if middle is None:
            directive = {
                "Namespace": self._namespace,
                "Dimensions": [list(self._dimensions)],
                "Metrics": [{"Name": name, "Unit": _unit(name)} for name in names],
            }
            dimensions = json.dumps(self._dimensions, separators=(",", ":"))[1:-1]
            middle = f',"CloudWatchMetrics":[{json.dumps(directive, separators=(",", ":"))}]}},{dimensions}'
            self._middles[names] = middle
        return middle

    def document(self, values: Mapping[str, float], *, timestamp_ms: int) -> str:
        """One EMF document (a JSON object on one line) with ``values``, each as a one-element list."""
        names = tuple(values)
        points = "".join(f',"{name}":[{float(value)!r}]' for name, value in values.items())
        return f'{{"_aws":{{"Timestamp":{timestamp_ms}{self._middle(names)}{points}}}'


class InvocationReporter:
    """Writes the per-invocation log line and EMF document for one :class:`~lambda_db.Database`.

    Parameters
    ----------
    pool_mode:
        The ``pool_mode`` dimension and log field.
    enabled:
        False (``DB_METRICS=off``) writes neither; leak warnings are still logged.
    """

    def __init__(self, *, pool_mode: str, enabled: bool = True) -> None:
        service = os.environ.get(POWERTOOLS_SERVICE_NAME) or DEFAULT_SERVICE
        namespace = os.environ.get(POWERTOOLS_METRICS_NAMESPACE) or DEFAULT_NAMESPACE
        self._enabled = enabled
        self._emf_enabled = enabled and not is_metrics_disabled()
        # Powertools' dimension order: the defaults (pool_mode), then service.
        self._emf = EmfWriter(namespace=namespace, dimensions={"pool_mode": pool_mode, "service": service})
        self._logger = logging.getLogger(layer_logger().name)  # the stdlib logger Powertools configured
        self._pool_mode = pool_mode

    def emit(self, stats: Mapping[str, float], **fields: Any) -> None:
        """One log line with every counter and ``fields``, one EMF document (see :data:`ALWAYS_SENT`)."""
        if not self._enabled:
            return
        logger = self._logger
        if logger.isEnabledFor(logging.INFO):
            payload = {"pool_mode": self._pool_mode, **fields, **stats}
            # The message as an argument of "%s": Powertools' formatter tries to parse a message without arguments
            # as JSON (an exception raised and caught, ~3 us); getMessage() is the same either way.
            record = logger.makeRecord(
                logger.name,
                logging.INFO,
                __file__,
                sys._getframe().f_lineno,
                "%s",
                (INVOCATION_MESSAGE,),
                None,
                "emit",
                {"lambda_db": payload},
            )
            logger.handle(record)
        if self._emf_enabled:
            values = {key: stats[key] for key in ALWAYS_SENT}
            values.update((key, stats[key]) for key in SENT_WHEN_NON_ZERO if stats[key])
            # print(), as Powertools does: whatever sys.stdout is now (the runtime's, or a test's capture).
            print(self._emf.document(values, timestamp_ms=int(time.time() * 1000)))


def log_leak(leak: Leak, *, request_id: str | None) -> None:
    """Name the code that kept a connection past the end of its invocation."""
    layer_logger().warning(
        "connection still checked out at the end of the invocation; returned to the pool",
        extra={"leak": {"thread": leak.thread, "checked_out_at": list(leak.stack), "request_id": request_id}},
    )
