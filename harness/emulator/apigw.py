"""API Gateway's proxy integration, as pure functions: match a route, build the event, map the response back.

Payload format 2.0 for ``HttpApi`` events and 1.0 for ``Api`` (REST) events, as ``sam local start-api`` builds them.
A body that is not text (by content type, or not valid UTF-8) is sent base64-encoded with ``isBase64Encoded``.
A repeated header is joined with commas in 2.0 (``headers``); in 1.0 ``multiValueHeaders`` carries every value and
``headers`` the last one, as the API Gateway developer guide describes the two payload formats.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from harness.emulator.lambda_env import ACCOUNT_ID
from harness.emulator.spec import Route

__all__ = ["ApiResponse", "MatchedRoute", "build_event", "function_error_response", "map_response", "match_route"]

_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/x-www-form-urlencoded", "javascript")
API_ID = "local"


@dataclass(frozen=True)
class MatchedRoute:
    route: Route
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _match_path(template: str, path: str) -> dict[str, str] | None:
    want = [part for part in template.strip("/").split("/") if part]
    have = [part for part in path.strip("/").split("/") if part]
    params: dict[str, str] = {}
    for index, part in enumerate(want):
        if part.startswith("{") and part.endswith("+}"):
            if index >= len(have):
                return None
            params[part[1:-2]] = "/".join(unquote(segment) for segment in have[index:])
            return params
        if index >= len(have):
            return None
        if part.startswith("{") and part.endswith("}"):
            params[part[1:-1]] = unquote(have[index])
        elif part != have[index]:
            return None
    return params if len(want) == len(have) else None


def _specificity(route: Route) -> tuple[int, int, int]:
    parts = route.path.strip("/").split("/")
    greedy = sum(part.endswith("+}") for part in parts)
    variables = sum(part.startswith("{") for part in parts)
    return (greedy, variables, route.method == "ANY")


def match_route(routes: Sequence[Route], method: str, path: str) -> MatchedRoute | None:
    """The most specific route for ``method path``: literal segments beat ``{var}``, which beats ``{proxy+}``."""
    candidates = []
    for route in routes:
        if route.method not in ("ANY", method):
            continue
        params = _match_path(route.path, path)
        if params is not None:
            candidates.append((_specificity(route), MatchedRoute(route, params)))
    return min(candidates, key=lambda item: item[0])[1] if candidates else None


def _is_text(content_type: str, body: bytes) -> bool:
    if content_type and not any(marker in content_type.lower() for marker in _TEXT_TYPES):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def build_event(
    matched: MatchedRoute,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    source_ip: str,
    header_list: Sequence[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """The proxy event API Gateway would send for this request.

    ``headers`` has a repeated header's values joined with commas; ``header_list`` (every header line as sent, when
    known) gives payload 1.0 its ``multiValueHeaders``.
    """
    route = matched.route
    is_text = _is_text(headers.get("content-type", ""), body)
    text_body = (body.decode() if is_text else base64.b64encode(body).decode()) if body else None
    pairs = parse_qsl(query, keep_blank_values=True)
    now = time.time()
    request_id = str(uuid.uuid4())
    if route.payload_version == "2.0":
        query_params: dict[str, str] = {}
        for key, value in pairs:
            query_params[key] = f"{query_params[key]},{value}" if key in query_params else value
        cookies = [c.strip() for c in headers.get("cookie", "").split(";") if c.strip()]
        route_key = f"{route.method} {route.path}" if route.method != "ANY" else f"ANY {route.path}"
        return {
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": path,
            "rawQueryString": query,
            **({"cookies": cookies} if cookies else {}),
            "headers": {name: value for name, value in headers.items() if name != "cookie"},
            **({"queryStringParameters": query_params} if query_params else {}),
            **({"pathParameters": matched.path_parameters} if matched.path_parameters else {}),
            "requestContext": {
                "accountId": ACCOUNT_ID,
                "apiId": API_ID,
                "domainName": headers.get("host", "localhost"),
                "domainPrefix": headers.get("host", "localhost").split(".")[0],
                "http": {
                    "method": method,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": source_ip,
                    "userAgent": headers.get("user-agent", ""),
                },
                "requestId": request_id,
                "routeKey": route_key,
                "stage": "$default",
                "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "timeEpoch": int(now * 1000),
            },
            **({"body": text_body} if text_body is not None else {}),
            "isBase64Encoded": bool(body) and not is_text,
        }
    multi_query: dict[str, list[str]] = {}
    for key, value in pairs:
        multi_query.setdefault(key, []).append(value)
    multi_headers: dict[str, list[str]] = {}
    for name, value in header_list if header_list is not None else headers.items():
        multi_headers.setdefault(name, []).append(value)
    return {
        "resource": route.path,
        "path": path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi_headers.items()},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {key: values[-1] for key, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": matched.path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "resourcePath": route.path,
            "httpMethod": method,
            "path": f"/Prod{path}",
            "stage": "Prod",
            "requestId": request_id,
            "protocol": "HTTP/1.1",
            "identity": {"sourceIp": source_ip, "userAgent": headers.get("user-agent", "")},
            "requestTimeEpoch": int(now * 1000),
            "domainName": headers.get("host", "localhost"),
        },
        "body": text_body,
        "isBase64Encoded": bool(body) and not is_text,
    }


def _message(status: int, message: str) -> ApiResponse:
    return ApiResponse(status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode())


def function_error_response() -> ApiResponse:
    """What API Gateway answers when the integration fails (function error, timeout, bad response): 502."""
    return _message(502, "Internal Server Error")


def not_found() -> ApiResponse:
    return _message(404, "Not Found")


def throttled(version: str) -> ApiResponse:
    """What API Gateway answers when Lambda throttles the integration: a 500, not a 429.

    Lambda's 429 (``TooManyRequestsException``) is an integration failure to API Gateway, which answers its generic
    500 (the AWS knowledge-center article on API Gateway "Internal server error" lists throttling among its causes);
    a 429 from API Gateway means the API's own throttle (stage or route limits), which the emulator does not have.
    REST APIs word it "Internal server error", HTTP APIs "Internal Server Error".
    """
    return _message(500, "Internal server error" if version == "1.0" else "Internal Server Error")


def map_response(payload: Any, version: str) -> ApiResponse:
    """The HTTP response for a function's return value (502 when API Gateway could not use it)."""
    if not isinstance(payload, dict) or "statusCode" not in payload:
        if version == "1.0":
            return function_error_response()
        # Payload 2.0 infers a response from any JSON value.
        body = payload if isinstance(payload, str) else json.dumps(payload)
        return ApiResponse(200, [("Content-Type", "application/json")], body.encode())
    try:
        status = int(payload["statusCode"])
    except (TypeError, ValueError):
        return function_error_response()
    headers = [(str(name), str(value)) for name, value in (payload.get("headers") or {}).items()]
    for name, values in (payload.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
    headers.extend(("Set-Cookie", str(cookie)) for cookie in payload.get("cookies") or [])
    raw = payload.get("body")
    text = raw if isinstance(raw, str) else "" if raw is None else json.dumps(raw)
    try:
        content = base64.b64decode(text) if payload.get("isBase64Encoded") else text.encode()
    except ValueError:
        return function_error_response()
    if version == "2.0" and not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return ApiResponse(status, headers, content)
