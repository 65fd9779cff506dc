"""A small HTTP/1.1 server on asyncio, shared by the Runtime API, the Invoke API and the API Gateway front end.

Why not ``http.server``: the emulator runs hundreds of Runtime API connections that sit blocked in ``GET /next``
for as long as an environment is idle, and a thread each would make the emulator the bottleneck. This protocol
parses just what those clients send (a request line, headers, a ``Content-Length`` or chunked body, keep-alive)
and lets the handler answer later: the Runtime API answers ``GET /next`` only when an invocation arrives.
TCP_NODELAY is set on every connection: without it each small response waits for a delayed ACK (≈ 40-90 ms).

Limits hold while reading, never after: the request line and headers are capped (``max_head``), a body is refused
as soon as its declared length or its chunks pass ``max_body`` (nothing past it is buffered), and a request that has
begun must be complete within ``read_timeout_s``. The fronts clients reach (Invoke API, HTTP API) use the client
limits below; the Runtime API, whose only clients are our own environments, keeps the roomier defaults.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus

__all__ = ["HttpConnection", "HttpRequest", "RequestHandler", "serve"]

MAX_HEADER_BYTES = 64 * 1024
# API Gateway HTTP APIs: "Total combined size of request line and header values: 10240 bytes" (HTTP API quotas).
CLIENT_HEADER_BYTES = 10_240
# A request that has begun and is not complete after this long is answered 408 and its connection closed. API
# Gateway publishes no client read timeout; 30 s is its integration timeout, and 408 + close is HTTP's answer
# (RFC 9110, 15.5.9). Read when a server starts, so a test can shorten it.
CLIENT_READ_TIMEOUT_S = 30.0
MAX_CHUNK_LINE = 1024  # a chunk-size line (hex size and extensions); a longer one is not a chunk size
_REASONS = {status.value: status.phrase for status in HTTPStatus}


@dataclass
class HttpRequest:
    """One parsed request; header names are lower-cased.

    ``headers`` joins a repeated header's values with commas (``cookie`` with ``; ``), as HTTP allows and API
    Gateway HTTP APIs do; ``header_list`` keeps every line as sent, for REST's ``multiValueHeaders``.
    """

    method: str
    target: str
    headers: dict[str, str]
    header_list: list[tuple[str, str]] = field(default_factory=list)
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

    def __init__(
        self,
        handler: RequestHandler,
        *,
        max_body: int,
        on_close: Callable[[HttpConnection], None] | None,
        max_head: int = MAX_HEADER_BYTES,
        read_timeout_s: float | None = None,
    ):
        self._handler = handler
        self._max_body = max_body
        self._max_head = max_head
        self._read_timeout_s = read_timeout_s
        self._timer: asyncio.TimerHandle | None = None
        self._paused = False
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
        self._disarm()
        if self._on_close is not None:
            self._on_close(self)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self._process()
        if self._in_flight and not self.closed and len(self._buffer) > self._max_head + self._max_body:
            # a client pipelining without end while its request is being answered: stop reading until then
            assert self.transport is not None
            self.transport.pause_reading()
            self._paused = True
        self._arm()

    def _arm(self) -> None:
        """Time a request that has begun arriving; stop timing once it is complete (or nothing is pending)."""
        waiting = not self._in_flight and not self.closed and (bool(self._buffer) or self._pending is not None)
        if not waiting:
            self._disarm()
        elif self._timer is None and self._read_timeout_s is not None:
            self._timer = asyncio.get_running_loop().call_later(self._read_timeout_s, self._timed_out)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timed_out(self) -> None:
        self._timer = None
        if not self._in_flight and not self.closed:
            self._fail(408, f"request not complete after {self._read_timeout_s:g} s")

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
            self._disarm()
            self.transport.close()
            self.closed = True
            return
        if self._paused:
            self._paused = False
            self.transport.resume_reading()
        if self._buffer:
            self._process()
        self._arm()

    def _fail(self, status: int, message: str) -> None:
        self._in_flight = True
        self._pending = None
        self._buffer.clear()
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
            self._disarm()
            self._keep_alive = pending.request.keep_alive
            self._handler(pending.request, self)

    def _parse_head(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n", 0, self._max_head + 4)
        if end < 0 or end > self._max_head:  # checked whether or not the end has arrived
            if end >= 0 or len(self._buffer) > self._max_head:
                self._fail(431, f"request line and headers are over {self._max_head} bytes")
            return False
        head = bytes(self._buffer[:end]).decode("latin-1")
        del self._buffer[: end + 4]
        request_line, *header_lines = head.split("\r\n")
        parts = request_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            self._fail(400, "malformed request line")
            return False
        headers: dict[str, str] = {}
        header_list: list[tuple[str, str]] = []
        for line in header_lines:
            name, sep, value = line.partition(":")
            if not sep:
                self._fail(400, "malformed header line")
                return False
            name, value = name.strip().lower(), value.strip()
            header_list.append((name, value))
            if name in headers:
                headers[name] = f"{headers[name]}{'; ' if name == 'cookie' else ','}{value}"
            else:
                headers[name] = value
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" and (parts[2] != "HTTP/1.0" or connection == "keep-alive")
        request = HttpRequest(parts[0].upper(), parts[1], headers, header_list, keep_alive=keep_alive)
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self._pending = _Pending(request, 0, chunked=True)
            return True
        raw_length = headers.get("content-length", "0")
        # digits only, and few: int() accepts "-5" and " 5", and raises past 4,300 digits
        if not (raw_length.isascii() and raw_length.isdigit() and len(raw_length) <= 19):
            self._fail(400, "Content-Length is not a number of bytes")
            return False
        length = int(raw_length)
        if length > self._max_body:
            request.too_large = True
            request.keep_alive = False
        self._pending = _Pending(request, length)
        return True

    def _parse_chunks(self, pending: _Pending) -> bool:
        while True:
            line_end = self._buffer.find(b"\r\n", 0, MAX_CHUNK_LINE)
            if line_end < 0:
                if len(self._buffer) >= MAX_CHUNK_LINE:
                    self._fail(400, "malformed chunk size")
                return False
            digits = bytes(self._buffer[:line_end]).split(b";")[0].strip()
            try:
                size = int(digits, 16)
            except ValueError:
                self._fail(400, "malformed chunk size")
                return False
            if size < 0 or digits.startswith((b"-", b"+")):
                self._fail(400, "malformed chunk size")
                return False
            # The limit is checked against the declared size, before a byte of the chunk is kept.
            if len(pending.chunks) + size > self._max_body:
                self._fail(413, f"request body is over {self._max_body} bytes")
                return False
            if size == 0:
                trailer_end = self._buffer.find(b"\r\n\r\n", line_end, line_end + self._max_head)
                if trailer_end < 0:
                    if len(self._buffer) > line_end + self._max_head:
                        self._fail(431, f"chunked trailers are over {self._max_head} bytes")
                    return False
                del self._buffer[: trailer_end + 4]
                return True
            if len(self._buffer) < line_end + 2 + size + 2:
                return False
            pending.chunks += self._buffer[line_end + 2 : line_end + 2 + size]
            del self._buffer[: line_end + 2 + size + 2]


async def serve(
    handler: RequestHandler,
    host: str,
    port: int,
    *,
    max_body: int,
    on_close: Callable[[HttpConnection], None] | None = None,
    client_limits: bool = False,
) -> asyncio.Server:
    """Listen on ``host:port`` (0 picks a free port) and hand every request to ``handler``.

    ``client_limits``: cap the request line and headers at :data:`CLIENT_HEADER_BYTES` and give a request
    :data:`CLIENT_READ_TIMEOUT_S` to arrive, as a front facing clients must.
    """
    loop = asyncio.get_running_loop()
    max_head = CLIENT_HEADER_BYTES if client_limits else MAX_HEADER_BYTES
    read_timeout_s = CLIENT_READ_TIMEOUT_S if client_limits else None

    def connection() -> HttpConnection:
        return HttpConnection(
            handler, max_body=max_body, on_close=on_close, max_head=max_head, read_timeout_s=read_timeout_s
        )

    return await loop.create_server(connection, host, port, backlog=1024)
