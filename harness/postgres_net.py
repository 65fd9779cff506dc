"""Loopback networking for the lab's servers: a free port chosen by the kernel, and waiting for one to listen."""

from __future__ import annotations

import socket
import time

__all__ = ["find_free_port", "wait_for_port"]


def find_free_port(host: str = "127.0.0.1") -> int:
    """Return a port that was free a moment ago: bind to port 0 and let the kernel choose."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout_s: float = 10.0) -> None:
    """Block until something accepts TCP connections on host:port (used for PgBouncer)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)
