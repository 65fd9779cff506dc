"""A small HTTP/1.1 server on asyncio, shared by the Runtime API, the Invoke API and the API Gateway front end.

Why not ``http.server``: the emulator runs hundreds of Runtime API connections that sit blocked in ``GET /next``
for as long as an environment is idle, and a thread each would make the emulator the bottleneck. This protocol
parses just what those clients send (a request line, headers, a ``Content-Length`` or chunked body, keep-alive)
and lets the handler answer later: the Runtime API answers ``GET /next`` only when an invocation arrives.
TCP_NODELAY is set on every connection: without it each small response waits for a delayed ACK (≈ 40-90 ms).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus

__all__ = ["HttpConnection", "HttpRequest", "RequestHandler", "serve"]

MAX_HEADER_BYTES = 64 * 1024
_REASONS = {status.value: status.phrase for status in HTTPStatus}


@dataclass
class HttpRequest:
    """One parsed request; header names are lower-cased."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes = b""
    keep_alive: bool = True
    too_large: bool = False  # the body was over the server's limit and was read and thrown away

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""


@dataclass
class _Pending:
    request: HttpRequest
    length: int
    chunked: bool = False
    chunks: bytearray = field(default_factory=bytearray)


RequestHandler = Callable[[HttpRequest, "HttpConnection"], None]


class HttpConnection(asyncio.Protocol):
    """One client connection: parses requests one at a time and hands each to ``handler``.

    The handler must eventually call :meth:`respond` exactly once per request; the next request on the
    connection is parsed only after that, so responses never interleave.
    """

    def __init__(self, handler: RequestHandler, *, max_body: int, on_close: Callable[[HttpConnection], None] | None):
        self._handler = handler
        self._max_body = max_body
        self._on_close = on_close
        self._buffer = bytearray()
        self._pending: _Pending | None = None
        self._in_flight = False
        self._keep_alive = True
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        # A client killed mid-request (an environment we SIGKILLed) lands here; nothing to report.
        self.closed = True
        if self._on_close is not None:
            self._on_close(self)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._process()

    def respond(
        self,
        status: int,
        body: bytes = b"",
        headers: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        *,
        close: bool = False,
    ) -> None:
        """Send the response to the request in flight, then go on to the next buffered one."""
        if self.closed or self.transport is None:
            return
        reason = _REASONS.get(status, "")
        lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}"]
        pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
        for name, value in pairs:
            lines.append(f"{name}: {value}")
        close = close or not self._keep_alive
        if close:
            lines.append("Connection: close")
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        self._in_flight = False
        if close:
            self.transport.close()
            self.closed = True
            return
        if self._buffer:
            self._process()

    def _fail(self, status: int, message: str) -> None:
        self._in_flight = True
        self.respond(status, message.encode(), {"Content-Type": "text/plain"}, close=True)

    def _process(self) -> None:
        while not self._in_flight and not self.closed:
            if self._pending is None and not self._parse_head():
                return
            pending = self._pending
            assert pending is not None
            if pending.chunked:
                if not self._parse_chunks(pending):
                    return
                body = bytes(pending.chunks)
            elif pending.request.too_large:
                # Read what the client sends and drop it, so it is still listening when the 413 comes.
                dropped = min(len(self._buffer), pending.length)
                del self._buffer[:dropped]
                pending.length -= dropped
                if pending.length > 0:
                    return
                body = b""
            else:
                if len(self._buffer) < pending.length:
                    return
                body = bytes(self._buffer[: pending.length])
                del self._buffer[: pending.length]
            pending.request.body = body
            self._pending = None
            self._in_flight = True
            self._keep_alive = pending.request.keep_alive
            self._handler(pending.request, self)

    def _parse_head(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEADER_BYTES:
                self._fail(431, "request headers too large")
            return False
        head = bytes(self._buffer[:end]).decode("latin-1")
        del self._buffer[: end + 4]
        request_line, *header_lines = head.split("\r\n")
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            self._fail(400, "malformed request line")
            return False
        headers: dict[str, str] = {}
        for line in header_lines:
            name, sep, value = line.partition(":")
            if not sep:
                self._fail(400, "malformed header line")
                return False
            headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" and (parts[2] != "HTTP/1.0" or connection == "keep-alive")
        request = HttpRequest(parts[0].upper(), parts[1], headers, keep_alive=keep_alive)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._pending = _Pending(request, 0, chunked=True)
            return True
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            self._fail(400, "Content-Length is not a number")
            return False
        if length < 0:  # int() accepts "-5"; slicing the buffer by it would hand on a wrong body
            self._fail(400, "Content-Length is negative")
            return False
        if length > self._max_body:
            request.too_large = True
            request.keep_alive = False
        self._pending = _Pending(request, length)
        return True

    def _parse_chunks(self, pending: _Pending) -> bool:
        while True:
            line_end = self._buffer.find(b"\r\n")
            if line_end < 0:
                return False
            try:
                size = int(bytes(self._buffer[:line_end]).split(b";")[0], 16)
            except ValueError:
                self._fail(400, "malformed chunk size")
                return False
            if size == 0:
                trailer_end = self._buffer.find(b"\r\n\r\n", line_end)
                if trailer_end < 0:
                    return False
                del self._buffer[: trailer_end + 4]
                return True
            if len(self._buffer) < line_end + 2 + size + 2:
                return False
            pending.chunks += self._buffer[line_end + 2 : line_end + 2 + size]
            del self._buffer[: line_end + 2 + size + 2]
            if len(pending.chunks) > self._max_body:
                self._fail(413, "request body too large")
                return False


async def serve(
    handler: RequestHandler,
    host: str,
    port: int,
    *,
    max_body: int,
    on_close: Callable[[HttpConnection], None] | None = None,
) -> asyncio.Server:
    """Listen on ``host:port`` (0 picks a free port) and hand every request to ``handler``."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: HttpConnection(handler, max_body=max_body, on_close=on_close), host, port, backlog=1024
    )
