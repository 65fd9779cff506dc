"""Property: the local Lambda's Invoke API and HTTP API answer garbage with a 4xx (Lambda's or API Gateway's),
never a 5xx, and keep serving: after every example a good request still works.

Requests are written byte by byte on a raw socket, so nothing (urllib, boto3) tidies them up first.
"""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from harness.emulator import FunctionSpec, LocalLambda, Route
from tests.integration.bad_input import strategies as bad
from tests.integration.emulator.conftest import BASIC

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
INVOKE = "/2015-03-31/functions/Echo/invocations"
TOKEN = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"), min_size=1, max_size=12
)
header_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=60)


@pytest.fixture(scope="module")
def lam() -> Iterator[LocalLambda]:
    echo = FunctionSpec("Echo", BASIC, "app.echo", timeout_s=10)
    with LocalLambda([echo], routes=[Route("ANY", "/echo/{proxy+}", "Echo")], serve=True, freeze=False) as local:
        yield local


def _port(url: str | None) -> int:
    assert url is not None
    return int(url.rsplit(":", 1)[1].split("/")[0])


def exchange(port: int, request: bytes, *, half_close: bool = False) -> int | None:
    """Send raw bytes; the status of the answer, or None when the server closed without one."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        if half_close:  # garbage with no complete request in it: EOF tells the server nothing more is coming
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while b"\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    if not received:
        return None
    status_line = received.split(b"\r\n", 1)[0].decode("latin-1")
    assert status_line.startswith("HTTP/1.1 "), received[:200]
    return int(status_line.split(" ")[2 - 1])


def still_serving(lam: LocalLambda) -> None:
    """A good Invoke API call and a good HTTP API call both work."""
    request = urllib.request.Request(f"{lam.invoke_api_url}{INVOKE}", data=b'{"ok": 1}', method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["event"] == {"ok": 1}
    with urllib.request.urlopen(f"{lam.http_api_url}/echo/ok", timeout=10) as response:
        assert json.loads(response.read())["event"]["rawPath"] == "/echo/ok"


def _request(method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    head = [f"{method} {target} HTTP/1.1", "Host: localhost", "Connection: close", *(f"{k}: {v}" for k, v in headers)]
    if not any(name.lower() in ("content-length", "transfer-encoding") for name, _ in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


invoke_headers = st.lists(
    st.tuples(
        st.sampled_from(["X-Amz-Invocation-Type", "X-Amz-Log-Type", "X-Amz-Client-Context", "Content-Type"]) | TOKEN,
        header_values,
    ),
    max_size=4,
)
bodies = (
    st.binary(max_size=300)
    | st.text(max_size=200).map(str.encode)
    | bad.json_values.map(lambda value: json.dumps(value).encode())
    | st.just(b"{not json")
    | bad.deep_json.map(str.encode)
    | bad.non_finite_json.map(str.encode)
)


@FUZZ
@given(
    headers=invoke_headers, body=bodies, qualifier=st.sampled_from(["", "?Qualifier=$LATEST", "?Qualifier=%24LATEST"])
)
@example(headers=[("X-Amz-Client-Context", "\x80")], body=b"", qualifier="")  # not ASCII: base64's ValueError
def test_an_invoke_with_any_headers_and_payload_is_200_or_a_4xx(
    lam: LocalLambda, headers: list[tuple[str, str]], body: bytes, qualifier: str
) -> None:
    status = exchange(_port(lam.invoke_api_url), _request("POST", INVOKE + qualifier, headers, body))

    assert status is not None
    assert status in (200, 202, 204) or 400 <= status < 500, status
    still_serving(lam)


@FUZZ
@given(
    method=st.sampled_from(["POST", "GET", "PUT", "DELETE", "PATCH"]) | TOKEN,
    target=st.sampled_from([INVOKE, INVOKE + "?Qualifier=x", "/2015-03-31/functions//invocations", "/"])
    | st.builds(lambda name: f"/2015-03-31/functions/{name}/invocations", TOKEN.filter(lambda n: n != "Echo"))
    | TOKEN.map(lambda path: "/" + path),
    headers=invoke_headers,
    body=bodies,
)
def test_the_invoke_api_answers_malformed_calls_with_a_4xx_and_keeps_serving(
    lam: LocalLambda, method: str, target: str, headers: list[tuple[str, str]], body: bytes
) -> None:
    status = exchange(_port(lam.invoke_api_url), _request(method, target, headers, body))

    assert status is not None
    assert status < 500, status
    still_serving(lam)


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]) | TOKEN,
    path=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=40),
    query=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), max_size=40),
    headers=st.lists(st.tuples(TOKEN, header_values), max_size=4),
    body=bodies,
)
def test_the_http_api_passes_any_request_to_its_route_or_answers_404(
    lam: LocalLambda, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
) -> None:
    headers = [(name, value) for name, value in headers if name.lower() not in ("content-length", "transfer-encoding")]
    status = exchange(_port(lam.http_api_url), _request(method, f"/echo/{path}?{query}", headers, body))

    # the greedy route takes every path under /echo/ (200: the event reached the function); nothing else is a 5xx
    assert status is not None
    assert status < 500, status
    still_serving(lam)


@FUZZ
@given(garbage=st.binary(min_size=1, max_size=400), api=st.sampled_from(["invoke", "http"]))
def test_bytes_that_are_not_http_are_refused_or_ignored_and_the_server_survives(
    lam: LocalLambda, garbage: bytes, api: str
) -> None:
    port = _port(lam.invoke_api_url if api == "invoke" else lam.http_api_url)
    status = exchange(port, garbage, half_close=True)

    assert status is None or 400 <= status < 500, status
    still_serving(lam)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\nhello world", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: five\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"POST / HTTP/1.1\r\nno colon here\r\n\r\n", 400),
        (b"GET /\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 70_000, 431),
    ],
)
def test_broken_framing_is_a_4xx_naming_the_problem(lam: LocalLambda, head: bytes, expected: int) -> None:
    for url in (lam.invoke_api_url, lam.http_api_url):
        assert exchange(_port(url), head, half_close=True) == expected
    still_serving(lam)


def test_a_payload_over_6_mb_is_413_and_unknown_invocation_types_are_400(lam: LocalLambda) -> None:
    big = b'{"blob": "' + b"x" * (6 * 1024 * 1024 + 1) + b'"}'
    assert exchange(_port(lam.invoke_api_url), _request("POST", INVOKE, [], big)) == 413
    bogus = [("X-Amz-Invocation-Type", "Sometimes")]
    assert exchange(_port(lam.invoke_api_url), _request("POST", INVOKE, bogus, b"{}")) == 400
    assert exchange(_port(lam.invoke_api_url), _request("POST", INVOKE.replace("Echo", "Nope"), [], b"{}")) == 404
    still_serving(lam)
