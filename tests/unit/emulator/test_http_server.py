"""The small HTTP/1.1 parser: however the bytes arrive, the same requests come out, answered in order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.emulator.http_server import HttpConnection, HttpRequest
from tests.unit.emulator.recording_transport import RecordingTransport

REQUESTS = (
    b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"
    b'POST /2018-06-01/runtime/invocation/abc/response HTTP/1.1\r\nContent-Length: 12\r\n\r\n{"ok": true}'
    b"POST /chunked HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    b"GET /last?x=1 HTTP/1.1\r\nConnection: close\r\n\r\n"
)


def _serve(chunks: list[bytes], max_body: int = 1024) -> tuple[list[HttpRequest], RecordingTransport]:
    seen: list[HttpRequest] = []

    def handler(request: HttpRequest, conn: HttpConnection) -> None:
        seen.append(request)
        conn.respond(200, request.body, {"X-Path": request.path})

    transport = RecordingTransport()
    conn = HttpConnection(handler, max_body=max_body, on_close=None)
    conn.transport = transport  # type: ignore[assignment]
    for chunk in chunks:
        conn.data_received(chunk)
    return seen, transport


@given(st.lists(st.integers(min_value=1, max_value=len(REQUESTS) - 1), max_size=12))
def test_requests_parse_the_same_however_the_bytes_are_split(cuts):
    points = sorted(set(cuts))
    chunks = [REQUESTS[a:b] for a, b in zip([0, *points], [*points, len(REQUESTS)], strict=True)]

    seen, transport = _serve(chunks)

    assert [(r.method, r.path, r.body) for r in seen] == [
        ("GET", "/2018-06-01/runtime/invocation/next", b""),
        ("POST", "/2018-06-01/runtime/invocation/abc/response", b'{"ok": true}'),
        ("POST", "/chunked", b"hello world"),
        ("GET", "/last", b""),
    ]
    assert seen[-1].query == "x=1"
    assert transport.written.count(b"HTTP/1.1 200 OK") == 4
    assert transport.closed  # the last request asked for Connection: close


def test_oversized_body_is_read_and_dropped_then_handed_over_flagged():
    body = b"x" * 5000
    seen, transport = _serve([b"POST /big HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", body[:2000], body[2000:]])

    assert [(r.path, r.body, r.too_large) for r in seen] == [("/big", b"", True)]
    assert b"Connection: close" in transport.written


def test_malformed_request_line_gets_400_and_the_connection_closes():
    seen, transport = _serve([b"NONSENSE\r\n\r\n"])

    assert seen == []
    assert transport.written.startswith(b"HTTP/1.1 400 Bad Request")
    assert transport.closed
