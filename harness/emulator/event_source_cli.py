"""``harness emulate``'s event source options, parsed into :class:`EventSourceOptions` (bad values exit 2)."""

from __future__ import annotations

import argparse
from urllib.parse import urlparse

from harness.cli_types import positive
from harness.emulator.event_sources import EventSourceOptions

__all__ = ["add_event_source_arguments", "event_source_options"]

MAX_SPEEDUP = 1_000_000.0  # the schedules' clock at most this many times faster


def _endpoint(text: str) -> str:
    parsed = urlparse(text)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL such as http://127.0.0.1:4566")
    return text


def _visibility(text: str) -> int:
    if not text.isdigit() or int(text) > 43200:
        raise argparse.ArgumentTypeError(f"must be whole seconds, 0-43200 (SQS's limit), got {text!r}")
    return int(text)


def add_arguments_group(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    return parser.add_argument_group("event sources", "SQS mappings and schedules of the template")


def add_event_source_arguments(parser: argparse.ArgumentParser) -> None:
    group = add_arguments_group(parser)
    group.add_argument(
        "--sqs-endpoint",
        type=_endpoint,
        metavar="URL",
        help="SQS API to create the queues in and poll (default: moto's server, started on loopback)",
    )
    group.add_argument(
        "--visibility-timeout",
        type=_visibility,
        metavar="S",
        help="replace every queue's VisibilityTimeout (a failed message returns after this long)",
    )
    group.add_argument("--fire-schedules-now", action="store_true", help="fire every schedule once at start")
    group.add_argument(
        "--schedule-speedup",
        type=positive(float, MAX_SPEEDUP),
        default=1.0,
        metavar="X",
        help="the schedules' clock runs X times faster (3600: rate(1 hour) fires every second)",
    )
    group.add_argument("--no-event-sources", action="store_true", help="poll no queue and fire no schedule")


def event_source_options(args: argparse.Namespace) -> EventSourceOptions | None:
    if args.no_event_sources:
        return None
    return EventSourceOptions(
        sqs_endpoint=args.sqs_endpoint,
        visibility_timeout_s=args.visibility_timeout,
        schedule_speedup=args.schedule_speedup,
        fire_schedules_now=args.fire_schedules_now,
    )
