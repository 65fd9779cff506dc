"""Property: the HTTP parser's limits hold while it reads, however the bytes arrive.

A body declared or chunked past the limit is refused before it is buffered, a request head past the cap is refused
whether or not its end has arrived, and repeated headers are joined (commas) and kept line by line.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.emulator.http_server import CLIENT_HEADER_BYTES, HttpConnection, HttpRequest
from tests.unit.emulator.recording_transport import RecordingTransport

LIMIT = 4096


def feed(
    pieces: list[bytes], *, max_head: int = CLIENT_HEADER_BYTES
) -> tuple[list[HttpRequest], RecordingTransport, int]:
    """Feed ``pieces`` one by one; the requests handed on, the transport, and the most bytes ever kept."""
    seen: list[HttpRequest] = []

    def handler(request: HttpRequest, conn: HttpConnection) -> None:
        seen.append(request)
        conn.respond(200, b"ok")

    transport = RecordingTransport()
    conn = HttpConnection(handler, max_body=LIMIT, on_close=None, max_head=max_head)
    conn.transport = transport  # type: ignore[assignment]
    most = 0
    for piece in pieces:
        if transport.closed:
            break
        conn.data_received(piece)
        most = max(most, len(conn._buffer) + sum(len(p.chunks) for p in [conn._pending] if p is not None))
    return seen, transport, most


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % max(len(data), 1) for cut in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True) if data[a:b]]


def status(transport: RecordingTransport) -> int:
    return int(bytes(transport.written).split(b" ", 2)[1])


# slow and unbounded bodies: chunk sizes far past the limit, or many small chunks adding up past it
huge_chunk_sizes = st.integers(LIMIT + 1, 2**64)
many_chunks = st.lists(st.integers(1, 1024), min_size=1, max_size=40).filter(lambda sizes: sum(sizes) > LIMIT)


@given(size=huge_chunk_sizes, sent=st.integers(0, 3 * LIMIT), cuts=st.lists(st.integers(0, 10**6), max_size=8))
def test_a_chunk_declared_past_the_limit_is_413_before_its_bytes_are_kept(
    size: int, sent: int, cuts: list[int]
) -> None:
    data = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % size + b"x" * sent

    seen, transport, most = feed(split(data, cuts))

    assert seen == []
    assert status(transport) == 413
    assert transport.closed
    assert most <= LIMIT + 100  # never more than the limit (and a head) buffered


@given(sizes=many_chunks, cuts=st.lists(st.integers(0, 10**6), max_size=8))
def test_small_chunks_adding_up_past_the_limit_are_413(sizes: list[int], cuts: list[int]) -> None:
    chunks = b"".join(b"%x\r\n%s\r\n" % (n, b"y" * n) for n in sizes)
    data = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"

    seen, transport, most = feed(split(data, cuts))

    assert seen == []
    assert status(transport) == 413
    assert most <= 2 * LIMIT


@given(
    digits=st.integers(20, 6_000).map(lambda n: "9" * n) | st.sampled_from(["-5", "+5", "5 5", "0x10", "1e3", "\u0665"])
)
def test_a_content_length_that_is_not_a_small_number_is_400(digits: str) -> None:
    # thousands of digits: int() would raise past 4,300; signs and non-ASCII digits: int() would accept them
    seen, transport, _ = feed([f"POST / HTTP/1.1\r\nContent-Length: {digits}\r\n\r\n".encode()])

    assert seen == []
    assert status(transport) == 400


@given(
    extra=st.integers(1, 50_000),
    where=st.sampled_from(["target", "header", "many"]),
    ended=st.booleans(),
    cuts=st.lists(st.integers(0, 10**6), max_size=6),
)
def test_a_request_head_past_the_cap_is_431_whether_or_not_it_has_ended(
    extra: int, where: str, ended: bool, cuts: list[int]
) -> None:
    size = CLIENT_HEADER_BYTES + extra
    if where == "target":
        head = b"GET /" + b"a" * size + b" HTTP/1.1\r\n"
    elif where == "header":
        head = b"GET / HTTP/1.1\r\nX-Big: " + b"a" * size + b"\r\n"
    else:
        head = b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % n for n in range(size // 6))
    data = head + (b"\r\n" if ended else b"")

    seen, transport, most = feed(split(data, cuts))

    assert seen == []
    assert status(transport) == 431
    assert most <= 2 * CLIENT_HEADER_BYTES + 65536  # refused once the cap is passed, not after the whole head


@given(values=st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20), min_size=1))
def test_repeated_headers_are_joined_with_commas_and_kept_line_by_line(values: list[str]) -> None:
    head = "GET / HTTP/1.1\r\n" + "".join(f"Idempotency-Key: {value}\r\n" for value in values) + "\r\n"

    seen, _, _ = feed([head.encode()], max_head=1 << 20)

    assert seen[0].headers["idempotency-key"] == ",".join(values)
    assert seen[0].header_list == [("idempotency-key", value) for value in values]


def test_repeated_cookie_headers_are_joined_as_one_cookie_header() -> None:
    seen, _, _ = feed([b"GET / HTTP/1.1\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n"])

    assert seen[0].headers["cookie"] == "a=1; b=2"
