"""The floors of a warm invoke through boto3: the same client and the same runtime client, each against a server that
does nothing but answer.

- :func:`serve_invoke` (run as ``python -m harness.bench.bare_servers PORT_FILE``, in a process of its own so that it
  shares no interpreter lock with the client): an HTTP endpoint that answers every request at once with the
  function's answer, as the Invoke API would. boto3's ``invoke`` against it is what the client costs.
- :func:`runtime_floor_us`: ``python -m awslambdaric`` on the function's own interpreter and ``AWS_EXECUTION_ENV``
  against a Runtime API that hands out a new event as soon as it is asked for one and answers ``POST /response``
  with 202. The time from an event written to its answer read is what the runtime client costs on the caller's
  path (on Python 3.12 and later it polls ``GET /next`` from a new thread per event, as on Lambda).

Both servers are the bare minimum of HTTP/1.1 over one keep-alive connection (``TCP_NODELAY``, each response in one
write), so what the emulator adds above them is its own.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

__all__ = ["runtime_floor_us", "serve_invoke"]

ANSWER = b'{"ok": true}'
_ARN = "arn:aws:lambda:us-east-1:123456789012:function:Floor"


class _Http(asyncio.Protocol):
    """Parses requests (head and ``Content-Length`` body) and hands each to :meth:`request`."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while (end := self._buffer.find(b"\r\n\r\n")) >= 0:
            head = self._buffer[:end].decode("latin-1").split("\r\n")
            length = next(
                (int(v) for k, _, v in (h.partition(":") for h in head[1:]) if k.lower() == "content-length"), 0
            )
            if len(self._buffer) < end + 4 + length:
                return
            self._buffer = self._buffer[end + 4 + length :]
            self.request(head[0])

    def request(self, line: str) -> None:
        raise NotImplementedError

    def send(self, status: str, headers: Mapping[str, str], body: bytes) -> None:
        assert self.transport is not None
        lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in headers.items())]
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


class _InvokeEndpoint(_Http):
    def request(self, line: str) -> None:
        headers = {"Content-Type": "application/json", "x-amzn-RequestId": "floor", "X-Amz-Executed-Version": "$LATEST"}
        self.send("200 OK", headers, ANSWER)


def serve_invoke(port_file: Path) -> None:
    """Serve :class:`_InvokeEndpoint` on a free loopback port, written to ``port_file``, until killed."""

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_InvokeEndpoint, "127.0.0.1", 0)
        port_file.write_text(str(server.sockets[0].getsockname()[1]))
        await asyncio.Event().wait()

    asyncio.run(main())


class _RuntimeApi(_Http):
    """Hands out ``events`` events, one per ``GET /next``, and records each one's time from written to answered."""

    def __init__(self, events: int, done: asyncio.Future[list[float]]) -> None:
        super().__init__()
        self._left = events
        self._done = done
        self._sent = 0.0
        self._latencies: list[float] = []

    def request(self, line: str) -> None:
        if "/invocation/next" in line:
            if self._left == 0:
                if not self._done.done():
                    self._done.set_result(self._latencies)
                return  # the runtime waits here until it is killed
            self._left -= 1
            headers = {
                "Content-Type": "application/json",
                "Lambda-Runtime-Aws-Request-Id": f"floor-{self._left}",
                "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 60_000),
                "Lambda-Runtime-Invoked-Function-Arn": _ARN,
                "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
            }
            self.send("200 OK", headers, b"{}")
            self._sent = time.perf_counter()
        elif "/response" not in line:  # POST /invocation/{id}/error or /init/error: no floor to measure
            if not self._done.done():
                self._done.set_exception(RuntimeError(f"the runtime reported an error: {line}"))
            self.send("202 Accepted", {"Content-Type": "application/json"}, b'{"status": "OK"}')
        else:  # POST /invocation/{id}/response
            self._latencies.append((time.perf_counter() - self._sent) * 1e6)
            self.send("202 Accepted", {"Content-Type": "application/json"}, b'{"status": "OK"}')


def runtime_floor_us(
    python: str, execution_env: str, code_dir: Path, handler: str, events: int, timeout_s: float = 120.0
) -> list[float]:
    """Microseconds from each event written to its answer read, ``events`` times, for awslambdaric on ``python``."""

    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[list[float]] = loop.create_future()
        server = await loop.create_server(lambda: _RuntimeApi(events, done), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{port}",
            "AWS_EXECUTION_ENV": execution_env,
            "LAMBDA_TASK_ROOT": str(code_dir),
            "_HANDLER": handler,
            "AWS_LAMBDA_FUNCTION_NAME": "Floor",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/Floor",
            "AWS_LAMBDA_LOG_STREAM_NAME": "floor",
            "AWS_REGION": "us-east-1",
        }
        runtime = subprocess.Popen(
            [python, "-m", "awslambdaric", handler], cwd=code_dir, env=env, stdout=subprocess.DEVNULL
        )
        try:
            return await asyncio.wait_for(done, timeout_s)
        finally:
            runtime.kill()
            runtime.wait()
            server.close()

    return asyncio.run(main())


if __name__ == "__main__":
    serve_invoke(Path(sys.argv[1]))
