"""What a hostile run found in the local Lambda's HTTP fronts, each sent as raw bytes to the real emulator.

Deep and non-finite JSON, parameters outside Lambda's model, another account's ARN, chunked bodies past the limit,
oversized request heads, requests that never finish, and repeated headers: each gets Lambda's or API Gateway's
documented answer, and the emulator keeps serving.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Iterator

import pytest

from harness.emulator import FunctionSpec, LocalLambda, Route, http_server
from harness.emulator.lambda_env import ACCOUNT_ID
from tests.integration.bad_input.test_emulator_bad_input import INVOKE, _port, _request, still_serving
from tests.integration.emulator.conftest import BASIC

SIX_MB = 6 * 1024 * 1024


@pytest.fixture(scope="module")
def lam() -> Iterator[LocalLambda]:
    echo = FunctionSpec("Echo", BASIC, "app.echo", timeout_s=10)
    rest = FunctionSpec("Rest", BASIC, "app.api", timeout_s=10)  # a proxy response, as payload 1.0 needs
    routes = [Route("ANY", "/echo/{proxy+}", "Echo"), Route("ANY", "/rest/{proxy+}", "Rest", payload_version="1.0")]
    with LocalLambda([echo, rest], routes=routes, serve=True, freeze=False) as local:
        yield local


def answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read one response (status, lower-cased headers, body) up to its Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed without an answer; got {data[:200]!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(status_line.split(" ")[1]), headers, body


def send(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        # the server may answer and close before taking it all: the answer is still there to read
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)
        return answer(sock)


def invoke(lam: LocalLambda, body: bytes, headers: list[tuple[str, str]] | None = None, target: str = INVOKE):
    return send(_port(lam.invoke_api_url), _request("POST", target, headers or [], body))


def error_type(response: tuple[int, dict[str, str], bytes]) -> tuple[int, str]:
    return response[0], response[1].get("x-amzn-errortype", "")


# -- Invoke API: the payload and the parameters -------------------------------------------------------------------
@pytest.mark.parametrize("depth", [1_200, 10_000, 100_000])
def test_a_payload_nested_deeper_than_the_parser_is_invalid_request_content(lam: LocalLambda, depth: int) -> None:
    response = invoke(lam, b"[" * depth + b"]" * depth)

    assert error_type(response) == (400, "InvalidRequestContentException")
    assert b"nesting too deep" in response[2]
    still_serving(lam)


@pytest.mark.parametrize("payload", [b"NaN", b"Infinity", b"-Infinity", b'{"x": NaN}', b"[1, Infinity]"])
def test_non_finite_numbers_are_invalid_json_as_lambda_says(lam: LocalLambda, payload: bytes) -> None:
    assert error_type(invoke(lam, payload)) == (400, "InvalidRequestContentException")


@pytest.mark.parametrize("log_type", ["tail", "Sometimes", "", "None,Tail"])
def test_a_log_type_outside_none_and_tail_is_a_validation_exception(lam: LocalLambda, log_type: str) -> None:
    response = invoke(lam, b"{}", [("X-Amz-Log-Type", log_type)])

    assert error_type(response) == (400, "ValidationException")
    assert "Member must satisfy enum value set: [Tail, None]" in json.loads(response[2])["message"]


def test_an_invocation_type_outside_the_model_is_a_validation_exception(lam: LocalLambda) -> None:
    assert error_type(invoke(lam, b"{}", [("X-Amz-Invocation-Type", "Sometimes")])) == (400, "ValidationException")


@pytest.mark.parametrize("name", ["arn:aws:lambda:us-east-1:210987654321:function:Echo", "210987654321:function:Echo"])
def test_an_arn_of_another_account_is_access_denied(lam: LocalLambda, name: str) -> None:
    response = invoke(lam, b"{}", target=INVOKE.replace("Echo", name))

    assert error_type(response) == (403, "AccessDeniedException")


def test_an_arn_of_the_emulators_account_still_invokes(lam: LocalLambda) -> None:
    target = INVOKE.replace("Echo", f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:Echo")

    status, _, body = invoke(lam, b'{"ok": 1}', target=target)

    assert status == 200
    assert json.loads(body)["event"] == {"ok": 1}


# -- framing: limits that hold while reading ----------------------------------------------------------------------
def test_a_chunk_declared_past_6_mb_is_413_before_its_bytes_arrive(lam: LocalLambda) -> None:
    # 1 GiB declared, 1 KB sent, the connection left open: the answer comes without the rest of the chunk
    head = f"POST {INVOKE} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", _port(lam.invoke_api_url)), timeout=30) as sock:
        sock.sendall(head + b"40000000\r\n" + b"x" * 1024)
        status, _, body = answer(sock)

    assert status == 413
    assert str(SIX_MB).encode() in body
    still_serving(lam)


@pytest.mark.parametrize("api", ["invoke", "http"])
def test_small_chunks_adding_up_past_the_limit_are_413(lam: LocalLambda, api: str) -> None:
    url = lam.invoke_api_url if api == "invoke" else lam.http_api_url
    limit = SIX_MB if api == "invoke" else 10 * 1024 * 1024
    target = INVOKE if api == "invoke" else "/echo/big"
    chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
    request = f"POST {target} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    request += chunk * (limit // 65536 + 2) + b"0\r\n\r\n"

    assert send(_port(url), request)[0] == 413
    still_serving(lam)


@pytest.mark.parametrize(
    "head",
    [
        b"GET /echo/" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",  # a 100 KB URL
        b"GET /echo/x HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",  # a 70 KB header
        b"GET /echo/x HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % n for n in range(1_000)) + b"\r\n",  # 1,000 headers
        b"GET /echo/x HTTP/1.1\r\nX-Big: " + b"a" * 10_300 + b"\r\n\r\n",  # just past 10,240 bytes
    ],
)
def test_a_request_head_past_10_kb_is_431_on_both_apis(lam: LocalLambda, head: bytes) -> None:
    for url in (lam.invoke_api_url, lam.http_api_url):
        assert send(_port(url), head)[0] == 431
    still_serving(lam)


def test_a_request_head_under_10_kb_is_served(lam: LocalLambda) -> None:
    head = b"GET /echo/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + b"a" * 9_000 + b"\r\n\r\n"

    status, _, body = send(_port(lam.http_api_url), head)

    assert status == 200
    assert json.loads(body)["event"]["headers"]["x-big"] == "a" * 9_000


@pytest.fixture
def impatient(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalLambda]:
    """A local Lambda whose fronts give a request half a second to arrive (read when its servers start)."""
    monkeypatch.setattr(http_server, "CLIENT_READ_TIMEOUT_S", 0.5)
    with LocalLambda(
        [FunctionSpec("Echo", BASIC, "app.echo")], routes=[Route("ANY", "/echo/{proxy+}", "Echo")], serve=True
    ) as local:
        yield local


@pytest.mark.parametrize(
    "partial",
    [
        b"POST /echo/x HTTP/1.1\r\nHost: x\r\nContent-Le",  # headers never end
        b'POST /echo/x HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"a": ',  # body never completes
        b"POST /echo/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",  # a chunk never completes
    ],
)
def test_a_request_that_never_finishes_is_408_and_closed(impatient: LocalLambda, partial: bytes) -> None:
    for url in (impatient.invoke_api_url, impatient.http_api_url):
        with socket.create_connection(("127.0.0.1", _port(url)), timeout=30) as sock:
            sock.sendall(partial)
            status, headers, _ = answer(sock)
            assert sock.recv(1) == b""  # and the connection is closed
        assert status == 408
        assert headers["connection"] == "close"


def test_an_idle_keep_alive_connection_is_not_timed_out(impatient: LocalLambda) -> None:
    # only a request that has begun is timed: a client between requests (or the runtime in GET /next) is not
    port = _port(impatient.http_api_url)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET /echo/one HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer(sock)[0] == 200
        sock.settimeout(1.5)
        with pytest.raises(TimeoutError):
            sock.recv(1)  # nothing comes: no 408 to a connection with no request on it
        sock.settimeout(30)
        sock.sendall(b"GET /echo/two HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer(sock)[0] == 200


# -- repeated headers, by payload version -------------------------------------------------------------------------
def _event(lam: LocalLambda, path: str, headers: list[tuple[str, str]]) -> dict[str, object]:
    status, _, body = send(_port(lam.http_api_url), _request("GET", path, headers, b""))
    assert status == 200
    answered = json.loads(body)
    event: dict[str, object] = answered if path.startswith("/rest/") else answered["event"]
    return event


def test_repeated_headers_are_joined_with_commas_in_payload_2_0(lam: LocalLambda) -> None:
    event = _event(lam, "/echo/x", [("Idempotency-Key", "key-a"), ("Idempotency-Key", "key-b")])

    assert event["headers"]["idempotency-key"] == "key-a,key-b"  # type: ignore[index]


def test_repeated_headers_keep_every_value_in_multi_value_headers_for_payload_1_0(lam: LocalLambda) -> None:
    event = _event(lam, "/rest/x", [("Idempotency-Key", "key-a"), ("Idempotency-Key", "key-b")])

    assert event["multiValueHeaders"]["idempotency-key"] == ["key-a", "key-b"]  # type: ignore[index]
    assert event["headers"]["idempotency-key"] == "key-b"  # type: ignore[index]
