"""The SQS API the emulator's queues live in: moto's server in a process of its own, or an endpoint you name.

moto runs in a separate process (``python -m harness.emulator.sqs_server``) rather than a thread: its SQS scans
every message on each receive, and in the emulator's process that CPU would be taken from the pollers and the
Runtime APIs under the same lock. The child binds port 0 on loopback, prints the port, and serves until SIGTERM;
its process group is killed on stop. Queues are created from the template's ``AWS::SQS::Queue`` resources with their
``VisibilityTimeout`` and ``RedrivePolicy`` (the dead-letter queue first, so its ARN exists).
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

from harness.emulator.errors import EventSourceError
from harness.emulator.event_source_specs import QueueSpec

__all__ = ["MotoSqsServer", "QueueAddress", "create_queues", "sqs_client"]

START_TIMEOUT_S = 30.0
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass(frozen=True)
class QueueAddress:
    url: str
    arn: str


def sqs_client(endpoint_url: str, region: str, *, connect_timeout_s: float = 2.0, read_timeout_s: float = 30.0) -> Any:
    """A boto3 SQS client for ``endpoint_url`` (dummy credentials when the environment has none)."""
    import boto3
    from botocore.config import Config

    credentials = {} if os.environ.get("AWS_ACCESS_KEY_ID") else DUMMY_CREDENTIALS
    config = Config(
        connect_timeout=connect_timeout_s,
        read_timeout=read_timeout_s,
        retries={"max_attempts": 2, "mode": "standard"},
        max_pool_connections=64,
    )
    return boto3.client("sqs", endpoint_url=endpoint_url, region_name=region, config=config, **credentials)


class MotoSqsServer:
    """moto's server on loopback, in a child process; ``url`` once started. ``stop()`` is safe to call twice."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.url: str | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    def start(self) -> MotoSqsServer:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "harness.emulator.sqs_server", self.host],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert self._process.stdout is not None
        try:
            ready, _, _ = select.select([self._process.stdout], [], [], START_TIMEOUT_S)
            line = self._process.stdout.readline().decode().strip() if ready else ""
        except BaseException:  # interrupted (Ctrl-C, SIGTERM) while it starts: it must not outlive us
            self.stop()
            raise
        if not line.isdigit():
            self.stop()
            raise EventSourceError(f"moto's SQS server did not start within {START_TIMEOUT_S:.0f} s")
        self.url = f"http://{self.host}:{line}"
        return self

    def stop(self) -> None:
        """SIGTERM, then SIGKILL to the process group; the pid stays known until it has exited (atexit needs it)."""
        process = self._process
        if process is None:
            return
        try:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            pass
        finally:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=3)
            if process.stdout is not None:
                process.stdout.close()
            self._process = None


def create_queues(
    client: Any, queues: list[QueueSpec], *, visibility_timeout_s: int | None = None
) -> dict[str, QueueAddress]:
    """Create every queue (dead-letter targets first); ``visibility_timeout_s`` overrides the template's for all."""
    addresses: dict[str, QueueAddress] = {}
    for queue in sorted(queues, key=lambda q: q.dead_letter_queue is not None):
        visibility = queue.visibility_timeout_s if visibility_timeout_s is None else visibility_timeout_s
        attributes = {"VisibilityTimeout": str(visibility)}
        if queue.retention_s:
            attributes["MessageRetentionPeriod"] = str(queue.retention_s)
        if queue.fifo:
            attributes["FifoQueue"] = "true"
        url = client.create_queue(QueueName=queue.name, Attributes=attributes)["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        addresses[queue.logical_id] = QueueAddress(url, arn)
    for queue in queues:
        if queue.dead_letter_queue is None:
            continue
        target = addresses.get(queue.dead_letter_queue)
        if target is None:
            raise EventSourceError(f"{queue.logical_id}: RedrivePolicy names {queue.dead_letter_queue}, not a queue")
        policy = {"deadLetterTargetArn": target.arn, "maxReceiveCount": queue.max_receive_count}
        client.set_queue_attributes(
            QueueUrl=addresses[queue.logical_id].url, Attributes={"RedrivePolicy": json.dumps(policy)}
        )
    return addresses


_MUTATING = (
    "create_queue",
    "delete_queue",
    "set_queue_attributes",
    "get_queue_attributes",
    "send_message",
    "send_message_batch",
    "delete_message",
    "delete_message_batch",
    "change_message_visibility",
    "change_message_visibility_batch",
    "purge_queue",
)
_LONG_POLL_STEP_S = 0.02


def _fix_moto() -> None:
    """Make moto's SQS safe under concurrent requests and linear in the queue's depth, with the same answers.

    Lost messages: its threaded server runs requests at once, and DeleteMessage rebuilds the queue's message list
    from a copy, so a message sent meanwhile vanished (3 of 2,000 in a ``queue_backlog`` run). Every operation on the
    backend now holds one lock; a long poll waits outside it, receiving without waiting every few milliseconds.

    Speed, measured with moto 5.2 in-process and 2,000 messages queued: a ReceiveMessage took 3.9 s, a
    SendMessageBatch 0.4 s. Every received message recomputes all queue attributes (three scans of the queue) to read
    its retention period, and each scan reads the clock per message through datetime arithmetic (about 10 us a
    call). With the retention period read from the queue and the clock from ``time.time()`` (the same epoch seconds):
    6 ms and 12 ms.
    """
    import functools
    import threading

    import moto.sqs.models as sqs_models

    models: Any = sqs_models  # names it imports from moto.core.utils, replaced where the module looks them up
    backend: Any = models.SQSBackend
    lock = threading.RLock()
    original_unix_time = models.unix_time

    def unix_time(dt: Any = None) -> float:
        return time.time() if dt is None else float(original_unix_time(dt))

    def unix_time_millis(dt: Any = None) -> float:
        return unix_time(dt) * 1000.0

    def retained(self: Any, queue_name: str, message: Any) -> bool:
        queue = self.get_queue(queue_name)
        return bool(int(queue.message_retention_period) + message.sent_timestamp / 1000 > time.time())

    def locked(method: Any) -> Any:
        @functools.wraps(method)
        def run(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return method(*args, **kwargs)

        return run

    receive = backend.receive_message

    def receive_message(
        self: Any, queue_name: str, count: int, wait_seconds_timeout: int, visibility_timeout: int, *rest: Any
    ) -> Any:
        deadline = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            with lock:
                messages = receive(self, queue_name, count, 0, visibility_timeout, *rest)
            if messages or time.monotonic() >= deadline:
                return messages
            time.sleep(_LONG_POLL_STEP_S)

    models.unix_time = unix_time
    models.unix_time_millis = unix_time_millis
    backend.is_message_valid_based_on_retention_period = retained
    for name in _MUTATING:
        setattr(backend, name, locked(getattr(backend, name)))
    backend.receive_message = receive_message


def _serve(host: str) -> None:
    """The child: moto's WSGI app on ``host``:0, quiet, port printed on stdout, until SIGTERM."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    _fix_moto()

    class QuietHandler(MotoRequestHandler):
        disable_nagle_algorithm = True

        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    server = make_server(host, 0, DomainDispatcherApplication(create_backend_app), True, request_handler=QuietHandler)
    # At once: a graceful shutdown would join request threads still in a long poll, and nothing here needs saving.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    _serve(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1")
