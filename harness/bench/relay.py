"""A TCP relay that holds every chunk for a fixed time each way: a network round trip on loopback, for the bench.

Loopback answers in tens of microseconds; a Lambda function reaches RDS across a VPC, where each round trip costs
more, and the round trips a strategy sends matter more than its Python. This machine cannot add latency to
loopback in the kernel, so the bench puts this relay between client and server. It runs in a process of its own
(started by :class:`DelayRelay`) so that its threads never compete with the timed client for the GIL, and sets
``TCP_NODELAY`` both ways so that Nagle's algorithm adds no delay of its own. ``time.sleep`` overshoots by tens of
microseconds, so the round trip it adds is measured by the bench, not assumed from ``--delay-us``.

Run alone: ``python -m harness.bench.relay --to 127.0.0.1:5432 --delay-us 250`` prints the port it listens on.
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import subprocess
import sys
import threading
import time
from types import TracebackType

__all__ = ["DelayRelay"]

CHUNK = 65536


def _pump(source: socket.socket, sink: socket.socket, delay_s: float) -> None:
    """Forward bytes one way, each chunk ``delay_s`` after it arrived; close both sides when either ends."""
    with contextlib.suppress(OSError):
        while data := source.recv(CHUNK):
            time.sleep(delay_s)
            sink.sendall(data)
    for side in (source, sink):
        with contextlib.suppress(OSError):
            side.shutdown(socket.SHUT_RDWR)


def _serve(listener: socket.socket, target: tuple[str, int], delay_s: float) -> None:
    while True:
        client, _ = listener.accept()
        server = socket.create_connection(target)
        for side in (client, server):
            side.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_pump, args=(client, server, delay_s), daemon=True).start()
        threading.Thread(target=_pump, args=(server, client, delay_s), daemon=True).start()


def _address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not HOST:PORT (for example 127.0.0.1:5432)")
    return host, int(port)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="relay TCP to HOST:PORT, holding each chunk --delay-us each way")
    parser.add_argument("--to", type=_address, required=True, metavar="HOST:PORT")
    parser.add_argument("--delay-us", type=int, required=True, help="one-way delay in microseconds (>= 0)")
    args = parser.parse_args(argv)
    if args.delay_us < 0:
        parser.error(f"--delay-us must be >= 0, got {args.delay_us}")
    listener = socket.create_server(("127.0.0.1", 0))
    print(listener.getsockname()[1], flush=True)
    _serve(listener, args.to, args.delay_us / 1e6)


class DelayRelay:
    """The relay in a child process: ``with DelayRelay(pg.host, pg.port, delay_us=250) as relay: relay.port``."""

    host = "127.0.0.1"

    def __init__(self, target_host: str, target_port: int, *, delay_us: int) -> None:
        self._command = [sys.executable, "-m", "harness.bench.relay", "--to", f"{target_host}:{target_port}"]
        self._command += ["--delay-us", str(delay_us)]
        self._process: subprocess.Popen[str] | None = None
        self.port = 0

    def __enter__(self) -> DelayRelay:
        self._process = subprocess.Popen(self._command, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line.strip().isdigit():
            self._process.kill()
            raise RuntimeError(f"the delay relay did not start (it printed {line!r})")
        self.port = int(line)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()


if __name__ == "__main__":  # pragma: no cover - started by DelayRelay
    main()
