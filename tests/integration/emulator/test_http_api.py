"""The template's API routes over HTTP, as API Gateway proxy events, called with a plain HTTP client."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from harness.emulator import Route
from tests.integration.emulator.conftest import in_background, spec, wait_until


@pytest.fixture
def api(make_lambda):
    routes = [
        Route("GET", "/items", "Api"),
        Route("GET", "/items/{id}", "Api"),
        Route("ANY", "/files/{proxy+}", "Api"),
        Route("POST", "/rest/{id}", "Api", payload_version="1.0"),
        Route("ANY", "/custom/{kind}", "Custom"),
        Route("ANY", "/rest-custom/{kind}", "Custom", payload_version="1.0"),
        Route("GET", "/slow", "Slow"),
        Route("GET", "/rest-slow", "Slow", payload_version="1.0"),
    ]
    lam = make_lambda(
        spec("Api", "app.api"),
        spec("Custom", "app.api_custom"),
        spec("Slow", "app.sleep", timeout_s=10, reserved_concurrency=1),
        routes=routes,
        serve=True,
    )
    return lam


def request(lam, method, path, body=None, headers=None):
    """One HTTP request to the emulator's API port: (status, headers, body bytes)."""
    parts = urlsplit(lam.http_api_url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    result = response.status, response.getheaders(), response.read()
    conn.close()
    return result


def test_http_api_event_is_payload_2_0_with_path_and_query_parameters(api):
    status, headers, body = request(api, "GET", "/items/42?colour=red&colour=blue&size=")

    event = json.loads(body)
    assert status == 200
    assert ("x-handler", "api") in [(name.lower(), value) for name, value in headers]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{id}"
    assert event["rawPath"] == "/items/42"
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"colour": "red,blue", "size": ""}
    assert event["requestContext"]["http"]["method"] == "GET"


def test_greedy_path_and_binary_body_arrive_base64(api):
    png = {"Content-Type": "image/png"}
    status, _, body = request(api, "PUT", "/files/a/b/c.bin", body=b"\x00\x01\xfe", headers=png)

    event = json.loads(body)
    assert status == 200
    assert event["pathParameters"] == {"proxy": "a/b/c.bin"}
    assert event["isBase64Encoded"] is True
    assert event["body"] == "AAH+"


def test_rest_api_event_is_payload_1_0(api):
    json_type = {"Content-Type": "application/json"}
    status, _, body = request(api, "POST", "/rest/7?x=1", body=b'{"a": 1}', headers=json_type)

    event = json.loads(body)
    assert status == 200
    assert event["httpMethod"] == "POST"
    assert event["resource"] == "/rest/{id}"
    assert event["pathParameters"] == {"id": "7"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1"]}
    assert event["body"] == '{"a": 1}'
    assert event["isBase64Encoded"] is False


def test_response_mapping_binary_bare_value_and_cookies(api):
    binary = request(api, "GET", "/custom/binary")
    bare = request(api, "GET", "/custom/bare")
    cookies = request(api, "GET", "/custom/cookies")

    assert (binary[0], binary[2]) == (201, b"\x00\xffpng")
    assert (bare[0], json.loads(bare[2])) == (200, {"just": "a dict"})
    assert [value for name, value in cookies[1] if name.lower() == "set-cookie"] == ["a=1", "b=2"]


def test_function_error_and_unusable_response_are_502(api):
    assert request(api, "GET", "/custom/raise")[0] == 502
    assert request(api, "GET", "/rest-custom/bare")[0] == 502  # payload 1.0 needs a statusCode


def test_unknown_route_is_404(api):
    assert request(api, "GET", "/nothing/here")[0] == 404
    assert request(api, "DELETE", "/items")[0] == 404


def test_a_throttled_invocation_is_500_as_api_gateway_answers_a_lambda_throttle(api):
    thread, _ = in_background(lambda: request(api, "GET", "/slow?seconds=1"))
    assert wait_until(lambda: len(api.environments("Slow")) == 1)

    status, _, body = request(api, "GET", "/slow")
    thread.join()

    # Lambda's 429 is an integration failure to API Gateway: a 500 (its own 429 is for the API's stage limits)
    assert status == 500
    assert json.loads(body) == {"message": "Internal Server Error"}


def test_a_throttled_invocation_through_a_rest_api_is_500_in_rest_words(api):
    thread, _ = in_background(lambda: request(api, "GET", "/slow?seconds=1"))
    assert wait_until(lambda: len(api.environments("Slow")) == 1)

    status, _, body = request(api, "GET", "/rest-slow")
    thread.join()

    assert status == 500
    assert json.loads(body) == {"message": "Internal server error"}
