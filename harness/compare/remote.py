"""Compare against a Lambda you did not start here: any Invoke API endpoint, through the real boto3 client.

That is ``sam local start-lambda`` (Docker), the deployed stack on AWS (no endpoint: boto3's own), or this project's
``harness emulate``. The lab cannot freeze, reclaim or pre-warm someone else's environments, nor create databases on
their server, so only the traffic scenarios run (``burst`` and ``ramp``), once, against the configuration the stack has;
the monitor watches the database named by ``--database-url``.

Cold starts and the handler's database time are read from the invocation's log tail (``LogType=Tail``). SAM CLI's
``start-lambda`` refuses that header with ``501 NotImplemented`` ("None is only supported"), before the function runs:
the target then asks without it from there on, and the report says those two figures are not measured.
"""

from __future__ import annotations

import base64
import functools
import json
import threading
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from harness.compare.db_setup import prepare_database
from harness.compare.judge import Judge
from harness.compare.stand import measure_step
from harness.compare.workload_spec import WorkloadSpec
from harness.kit.records import Report
from harness.kit.workload import Workload
from harness.postgres import ExternalPostgres

__all__ = ["REMOTE_SCENARIOS", "RemoteTarget", "run_remote"]

REMOTE_SCENARIOS = ("burst", "ramp")
NO_TAIL_NOTE = (
    "the target does not return log tails (LogType=Tail answered NotImplemented, as sam local start-lambda does): "
    "cold starts and the handler's DB time are not measured"
)


@dataclass(frozen=True, slots=True)
class RemoteResult:
    """What the Invoke API answered, in the shape the driver reads (the local Lambda's InvokeResult)."""

    status_code: int
    payload: Any
    function_error: str | None = None
    log_tail: str | None = None
    cold_start: bool = False
    environment_id: str | None = None
    throttled: bool = False


class RemoteTarget:
    """A Lambda Invoke API: ``endpoint_url`` for a local one, None for AWS itself (credentials from the environment)."""

    def __init__(self, endpoint_url: str | None, *, region: str, max_connections: int = 256) -> None:
        self.client = boto3.client(
            "lambda",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(max_pool_connections=max_connections, retries={"max_attempts": 0}, read_timeout=120),
        )
        self._tails = True  # until the target refuses LogType=Tail
        self._lock = threading.Lock()

    @property
    def returns_log_tails(self) -> bool:
        """False once the target refused ``LogType=Tail`` (every invocation since went without it)."""
        with self._lock:
            return self._tails

    def _refused_tail(self, exc: ClientError) -> bool:
        """A 501 NotImplemented naming the log type: the invocation never ran, so asking again is safe."""
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        refused = status == 501 and "log-type" in str(error.get("Message", "")).lower()
        if refused:
            with self._lock:
                self._tails = False
        return refused

    def _send(self, function: str, payload: bytes, *, log_tail: bool) -> Any:
        tail = log_tail and self.returns_log_tails
        try:
            return self.client.invoke(FunctionName=function, Payload=payload, LogType="Tail" if tail else "None")
        except ClientError as exc:
            if tail and self._refused_tail(exc):
                return self.client.invoke(FunctionName=function, Payload=payload, LogType="None")
            raise

    def invoke(self, function: str, event: dict[str, Any], *, log_tail: bool = False) -> RemoteResult:
        try:
            response = self._send(function, json.dumps(event).encode(), log_tail=log_tail)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500))
            return RemoteResult(
                status_code=status,
                payload={"errorType": code, "errorMessage": str(exc)},
                function_error="Unhandled" if status != 429 else None,
                throttled=code == "TooManyRequestsException",
            )
        raw = response["Payload"].read()
        log = base64.b64decode(response["LogResult"]).decode(errors="replace") if "LogResult" in response else None
        return RemoteResult(
            status_code=int(response["StatusCode"]),
            payload=json.loads(raw) if raw else None,
            function_error=response.get("FunctionError"),
            log_tail=log,
            cold_start=bool(log and "Init Duration" in log),
        )


def run_remote(
    *,
    endpoint_url: str | None,
    spec: WorkloadSpec,
    database_url: str,
    region: str,
    label: str,
    scenarios: tuple[str, ...],
    concurrency: tuple[int, ...],
    ramp: tuple[int, ...],
    invocations: int,
    report: Report,
) -> Report:
    """Burst and ramp against the target; one row per step, named ``label`` (the stack's own strategy).

    The spec's setup runs once, through the target (``--setup``) and against ``database_url`` (``--setup-sql``).
    """
    server = ExternalPostgres(database_url)
    database = server.database or "postgres"
    target = RemoteTarget(endpoint_url, region=region)
    filler = prepare_database(target.invoke, spec, database_url)
    workload = Workload([(e.event, e.weight) for e in spec.events], fill=filler.fill)
    judge = Judge()
    steps = {"burst": (concurrency, invocations), "ramp": (ramp, max(2, invocations // 2))}
    for scenario in scenarios:
        levels, per_client = steps[scenario]
        for clients in levels:
            run = measure_step(
                functools.partial(target.invoke, log_tail=True),
                workload,
                server,
                database=database,
                strategy=label,
                scenario=scenario,
                step=f"c={clients}",
                clients=clients,
                invocations=per_client,
                parameters={"target": endpoint_url or "AWS"},
                environments=lambda records: len({r.environment for r in records if r.environment}),
                function=spec.function,
                judge=judge,
            )
            report.runs.append(run)
    report.parameters["success_rule"] = judge.describe()
    if not target.returns_log_tails:
        report.parameters.setdefault("notes", []).append(NO_TAIL_NOTE)
    return report
