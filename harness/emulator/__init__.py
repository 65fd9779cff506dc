"""A local AWS Lambda that behaves like Lambda, without Docker.

Each execution environment is its own process running the real runtime interface client (``awslambdaric``)
against a Runtime API served here; init runs once per environment, one event at a time goes to each, idle
environments are frozen (SIGSTOP) and reclaimed after a TTL, ``Timeout`` kills, and calls beyond the concurrency
limit are throttled with Lambda's ``TooManyRequestsException``. Functions come from a SAM template or are
registered directly. ``harness emulate`` serves the same through Lambda's Invoke API and API Gateway routes. With
``event_source_options`` the template's SQS mappings are polled from a real SQS API (moto's server, or an endpoint
given) and its schedules fired (:mod:`harness.emulator.event_sources`).

Example
-------
>>> from harness.emulator import FunctionSpec, LocalLambda
>>> with LocalLambda([FunctionSpec("Echo", Path("fn"), "app.handler")]) as lam:  # doctest: +SKIP
...     lam.invoke("Echo", {"hello": "world"}).payload
"""

from __future__ import annotations

from harness.emulator.cfn_yaml import load_cfn_yaml
from harness.emulator.errors import (
    EmulatorError,
    EventSourceError,
    InvalidRequestContentError,
    RequestTooLargeError,
    ResourceNotFoundError,
    TemplateError,
    TooManyRequestsError,
)
from harness.emulator.event_sources import EventSourceOptions
from harness.emulator.local_lambda import LocalLambda
from harness.emulator.runtimes import Interpreter, RuntimeInterpreters
from harness.emulator.spec import EnvironmentInfo, FunctionSpec, InvokeResult, Route
from harness.emulator.sqs_source import BatchOutcome
from harness.emulator.template import LoadedTemplate, load_template

__all__ = [
    "BatchOutcome",
    "EmulatorError",
    "EnvironmentInfo",
    "EventSourceError",
    "EventSourceOptions",
    "FunctionSpec",
    "Interpreter",
    "InvalidRequestContentError",
    "InvokeResult",
    "LoadedTemplate",
    "LocalLambda",
    "RequestTooLargeError",
    "ResourceNotFoundError",
    "Route",
    "RuntimeInterpreters",
    "TemplateError",
    "TooManyRequestsError",
    "load_cfn_yaml",
    "load_template",
]
