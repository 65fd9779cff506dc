"""Per-invocation reporting: the stats in one JSON line that is both the log line and the CloudWatch metrics (EMF).

CloudWatch reads metrics from any JSON log line with an ``_aws`` member (the embedded metric format), so one line
serves both readers and each invocation costs one write rather than two. The line is built by hand, cheaply, since
it is on every invocation's path (Powertools' logger and metrics spend about 70 us here, between a query's work):

- the log half has the keys of a Powertools JSON log line (``level``, ``location``, ``message``, ``timestamp``,
  ``service``, ``xray_trace_id`` under X-Ray) and ``lambda_db`` with every counter; it is written when the layer's
  Powertools logger is enabled for INFO (``POWERTOOLS_LOG_LEVEL`` / ``AWS_LAMBDA_LOG_LEVEL``);
- the metrics half is in the exact shape Powertools' ``EphemeralMetrics`` prints (``_aws`` with ``Timestamp`` and
  ``CloudWatchMetrics``, the dimensions, one list of values per metric); the part that never changes (namespace,
  dimensions, metric definitions) is serialised once per set of metric names, and only the values are formatted.
  ``POWERTOOLS_METRICS_DISABLED`` (or ``POWERTOOLS_DEV``) leaves it out.

Written with ``print``, as Powertools Metrics does: to whatever ``sys.stdout`` is (the runtime's, or a test's capture).
Reads ``POWERTOOLS_SERVICE_NAME`` and ``POWERTOOLS_METRICS_NAMESPACE`` (default ``serverless-sqlalchemy``) once, when
the reporter is made.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from lambda_db.guards import Leak
from lambda_db.stats import STATS_KEYS

__all__ = ["InvocationReporter", "layer_logger", "log_leak"]

POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
DEFAULT_SERVICE = "lambda_db"
DEFAULT_NAMESPACE = "serverless-sqlalchemy"
INVOCATION_MESSAGE = "lambda_db invocation"
LOCATION = "lambda_db.metrics:emit"
XRAY_TRACE_ID_ENV = "_X_AMZN_TRACE_ID"


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
    "units_retried_num",
)


def _unit(key: str) -> str:
    return "Milliseconds" if key.endswith("_ms") else "Count"


class EmfWriter:
    """Writes CloudWatch embedded-metric-format members for a fixed namespace and set of dimensions.

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
        self._middles: dict[tuple[tuple[str, ...], tuple[str, ...]], str] = {}

    def _middle(self, names: tuple[str, ...], carried: tuple[str, ...]) -> str:
        """Everything between the timestamp and the values: the same for every document with these names."""
        key = (names, carried)
        middle = self._middles.get(key)
        if middle is None:
            directive = {
                "Namespace": self._namespace,
                "Dimensions": [list(self._dimensions)],
                "Metrics": [{"Name": name, "Unit": _unit(name)} for name in names],
            }
            members = "".join(
                f",{json.dumps(name)}:{json.dumps(value)}"
                for name, value in self._dimensions.items()
                if name not in carried
            )
            middle = self._middles[key] = (
                f',"CloudWatchMetrics":[{json.dumps(directive, separators=(",", ":"))}]}}{members}'
            )
        return middle

    def document(
        self, values: Mapping[str, float], *, timestamp_ms: int, head: str = "", carried: tuple[str, ...] = ()
    ) -> str:
        """One JSON object on one line: ``head``'s members, then ``_aws``, the dimensions and ``values`` as lists.

        ``head`` holds members of the same line written first (a log line's), without braces; the dimensions named
        in ``carried`` are among them with the same value, so they are not written twice.
        """
        names = tuple(values)
        points = "".join(f',"{name}":[{float(value)!r}]' for name, value in values.items())
        start = f"{{{head}," if head else "{"
        return f'{start}"_aws":{{"Timestamp":{timestamp_ms}{self._middle(names, carried)}{points}}}'


class _Clock:
    """Powertools' log timestamp (``2024-01-01 12:00:00,123+0000``, UTC as on Lambda), formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def timestamp(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._second, self._prefix = second, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second))
        return f"{self._prefix},{int((now - second) * 1000):03d}+0000"


def _xray_member() -> str:
    """``,"xray_trace_id":"1-..."`` when X-Ray tracing is on (the Root of ``_X_AMZN_TRACE_ID``), as Powertools adds."""
    header = os.environ.get(XRAY_TRACE_ID_ENV)
    if not header:
        return ""
    return f',"xray_trace_id":{json.dumps(header.split(";", 1)[0].removeprefix("Root="))}'


_encode = json.encoder.encode_basestring  # json.dumps of one str, without the dumps machinery around it
# What Powertools' ``inject_lambda_context`` adds from the context object, in its order: (log key, context attribute).
CONTEXT_KEYS = (
    ("function_name", "function_name"),
    ("function_memory_size", "memory_limit_in_mb"),
    ("function_arn", "invoked_function_arn"),
)
_BOOLS = ("false", "true")


class InvocationReporter:
    """Writes the per-invocation line (log and EMF in one) for one :class:`~lambda_db.Database`.

    The line is what Powertools would print for the same values from a ``Logger`` whose handler is decorated with
    ``inject_lambda_context`` (``cold_start``, ``function_name``, ``function_memory_size``, ``function_arn``,
    ``function_request_id``, ``correlation_id`` when the function's logger has one) logging ``lambda_db`` as an extra
    key, merged with the document ``EphemeralMetrics`` flushes; ``tests/unit/lambda_db/test_powertools_shape.py``
    holds it to that. The parts that stay the same for an execution environment (the context's function members,
    the key names of every counter, the metrics' directive) are serialised once; an invocation formats its numbers,
    its request id and its timestamps.

    Parameters
    ----------
    pool_mode:
        The ``pool_mode`` dimension and log field.
    enabled:
        False (``DB_METRICS=off``) writes nothing; leak warnings are still logged.
    """

    def __init__(self, *, pool_mode: str, enabled: bool = True) -> None:
        service = os.environ.get(POWERTOOLS_SERVICE_NAME) or DEFAULT_SERVICE
        namespace = os.environ.get(POWERTOOLS_METRICS_NAMESPACE) or DEFAULT_NAMESPACE
        self._enabled = enabled
        self._emf_enabled = enabled and not is_metrics_disabled()
        # Powertools' dimension order: the defaults (pool_mode), then service.
        self._emf = EmfWriter(namespace=namespace, dimensions={"pool_mode": pool_mode, "service": service})
        self._powertools = layer_logger()
        self._logger = logging.getLogger(self._powertools.name)  # the stdlib logger Powertools configured
        self._clock = _Clock()
        self._log_start = f'{{"level":"INFO","location":"{LOCATION}","message":"{INVOCATION_MESSAGE}","timestamp":"'
        self._service = f'","service":{_encode(service)},"cold_start":'
        self._payload_start = f',"lambda_db":{{"pool_mode":{_encode(pool_mode)},"cold_start":'
        self._context_seen: tuple[Any, ...] | None = None
        self._context_members = ""
        self._function_name = "null"
        self._counters = ",".join(f'"{key}":%r' for key in STATS_KEYS)
        self._formatter: Any = None

    def _correlation_id(self) -> Any:
        """The correlation id the function's Powertools logger holds (``inject_lambda_context(correlation_id_path=)``,
        ``set_correlation_id``), when it shares the layer's service name and so its formatter; else None."""
        if self._formatter is None:
            self._formatter = self._powertools.registered_formatter
        log_format = getattr(self._formatter, "log_format", None)
        return None if log_format is None else log_format.get("correlation_id")

    def _context_part(self, context: Any) -> str:
        """``inject_lambda_context``'s members for this context: serialised again only when they change."""
        seen = tuple(getattr(context, attribute, None) for _, attribute in CONTEXT_KEYS)
        if seen != self._context_seen:
            self._context_seen = seen
            self._context_members = "".join(
                f",{_encode(key)}:{json.dumps(value)}"
                for (key, _), value in zip(CONTEXT_KEYS, seen, strict=True)
                if value is not None
            )
            self._function_name = json.dumps(seen[0])
        return self._context_members

    def emit(
        self, stats: Mapping[str, float], *, cold_start: bool, context: Any = None, invocation_ms: float = 0.0
    ) -> None:
        """One line: the log members, ``lambda_db`` with every counter, and the EMF members (see :data:`ALWAYS_SENT`).

        ``stats`` holds every key of :data:`~lambda_db.stats.STATS_KEYS` (``Stats.pop`` gives that).
        """
        if not self._enabled:
            return
        log = self._logger.isEnabledFor(logging.INFO)
        if not (log or self._emf_enabled):
            return
        now = time.time()
        line = ""
        if log:
            request_id = getattr(context, "aws_request_id", None)
            request = "null" if request_id is None else _encode(request_id)
            members = self._context_part(context)
            if request_id is not None:
                members += f',"function_request_id":{request}'
            correlation_id = self._correlation_id()
            if correlation_id is not None:
                members += f',"correlation_id":{json.dumps(correlation_id)}'
            counters = self._counters % tuple(map(stats.__getitem__, STATS_KEYS))  # ints and rounded floats
            line = (
                f"{self._log_start}{self._clock.timestamp(now)}{self._service}{_BOOLS[cold_start]}{members}"
                f'{self._payload_start}{_BOOLS[cold_start]},"request_id":{request},"function_name":'
                f'{self._function_name},"invocation_ms":{invocation_ms!r},{counters}}}{_xray_member()}'
            )
        if not self._emf_enabled:
            print(f"{line}}}")
            return
        values = {key: stats[key] for key in ALWAYS_SENT}
        values.update((key, stats[key]) for key in SENT_WHEN_NON_ZERO if stats[key])
        carried = ("service",) if log else ()
        print(self._emf.document(values, timestamp_ms=int(now * 1000), head=line[1:], carried=carried))


def log_leak(leak: Leak, *, request_id: str | None) -> None:
    """Name the code that kept a connection past the end of its invocation."""
    layer_logger().warning(
        "connection still checked out at the end of the invocation; returned to the pool",
        extra={"leak": {"thread": leak.thread, "checked_out_at": list(leak.stack), "request_id": request_id}},
    )
