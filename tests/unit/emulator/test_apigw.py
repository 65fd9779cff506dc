"""API Gateway proxy mapping as pure functions: route matching and response mapping."""

from __future__ import annotations

import json

from harness.emulator import Route
from harness.emulator.apigw import build_event, map_response, match_route

ROUTES = [
    Route("GET", "/items", "List"),
    Route("GET", "/items/{id}", "Get"),
    Route("GET", "/items/special", "Special"),
    Route("ANY", "/{proxy+}", "Fallback"),
]


def test_literal_segments_beat_variables_which_beat_greedy_paths():
    assert match_route(ROUTES, "GET", "/items/special").route.function == "Special"
    assert match_route(ROUTES, "GET", "/items/9").route.function == "Get"
    assert match_route(ROUTES, "GET", "/items").route.function == "List"
    assert match_route(ROUTES, "POST", "/items/9").route.function == "Fallback"
    assert match_route(ROUTES[:3], "POST", "/items") is None


def test_path_parameters_are_url_decoded():
    matched = match_route(ROUTES, "GET", "/items/a%20b")

    assert matched.path_parameters == {"id": "a b"}


def test_text_body_stays_text_and_binary_body_is_base64():
    matched = match_route(ROUTES, "GET", "/items/1")
    text = build_event(matched, "GET", "/items/1", "", {"content-type": "application/json"}, b'{"a":1}', "1.2.3.4")
    binary = build_event(matched, "GET", "/items/1", "", {"content-type": "image/png"}, b"\x89PNG", "1.2.3.4")

    assert (text["body"], text["isBase64Encoded"]) == ('{"a":1}', False)
    assert (binary["body"], binary["isBase64Encoded"]) == ("iVBORw==", True)
    assert text["requestContext"]["http"]["sourceIp"] == "1.2.3.4"


def test_payload_2_0_response_inference_and_1_0_strictness():
    inferred = map_response({"hello": "world"}, "2.0")

    assert inferred.status == 200
    assert json.loads(inferred.body) == {"hello": "world"}
    assert map_response({"hello": "world"}, "1.0").status == 502
    assert map_response({"statusCode": "abc"}, "2.0").status == 502
    mapped = map_response({"statusCode": 404, "headers": {"X-A": "1"}, "body": "gone"}, "1.0")
    assert (mapped.status, mapped.body, ("X-A", "1") in mapped.headers) == (404, b"gone", True)
