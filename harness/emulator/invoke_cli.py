"""``harness invoke FUNCTION [-e EVENT_FILE | -e -]``: one invocation, as ``sam local invoke`` runs it, without Docker.

What SAM users rely on is kept: the function's response on stdout (so it pipes into ``jq``), the START / END /
REPORT lines and the function's logs on stderr, options read from ``samconfig.toml`` (``[ENV.local_invoke]`` over
``[ENV.global]``). Exit codes: 0 when the function ran, even if it returned or raised an error (SAM does the same:
the error object is the response on stdout); 2 for bad input (unknown function, an event that is not JSON, a
template, env-vars file or config env that cannot be used), checked before any environment starts.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.emulator.cli import add_samconfig_arguments, add_start_arguments, read_env_vars, start_options
from harness.emulator.errors import EmulatorError, InvalidRequestContentError
from harness.emulator.layer_dirs import add_layer_dir_argument, parse_layer_dirs
from harness.emulator.local_lambda import LocalLambda
from harness.emulator.pool import MAX_SYNC_PAYLOAD
from harness.emulator.samconfig import SamConfigError, load_samconfig
from harness.emulator.strict_json import NOT_JSON_PREFIX, check_json
from harness.emulator.template import load_template, parse_parameter_overrides

__all__ = ["DESCRIPTION", "add_arguments", "run"]

DESCRIPTION = (
    "Run one invocation like `sam local invoke`: response on stdout, START/END/REPORT and logs on stderr. "
    "Exit 0 when the function ran (even if it returned an error, as SAM), 2 on bad input."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("function", metavar="FUNCTION", help="logical id of the function in the template")
    parser.add_argument("--event", "-e", help="JSON event file, or - for stdin (default: {})")
    parser.add_argument("--template", "-t", type=Path, default=Path("template.yaml"), help="SAM template")
    parser.add_argument("--env-vars", "-n", type=Path, help='JSON file: {"Parameters": {...}, "<LogicalId>": {...}}')
    parser.add_argument(
        "--parameter-overrides", nargs="+", default=[], metavar="KEY=VALUE", help="template parameter values"
    )
    add_samconfig_arguments(parser)
    add_layer_dir_argument(parser)
    add_start_arguments(parser)


def _read_event(source: str | None) -> bytes:
    """The event as bytes, checked to be JSON here so that a bad file fails before anything starts."""
    if source is None:
        return b"{}"
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise ValueError(f"--event {source}: cannot read it ({exc.strerror})") from exc
    if len(data) > MAX_SYNC_PAYLOAD:
        raise ValueError(
            f"--event {source}: {len(data):,} bytes, over Lambda's {MAX_SYNC_PAYLOAD:,}-byte limit for an invoke"
        )
    try:
        check_json(data)
    except InvalidRequestContentError as exc:
        raise ValueError(f"--event {source}: not JSON ({str(exc).removeprefix(NOT_JSON_PREFIX)})") from exc
    return data


def run(args: argparse.Namespace) -> int:
    try:
        config = load_samconfig("local invoke", config_file=args.config_file, config_env=args.config_env)
        overrides = parse_parameter_overrides([*config.parameter_overrides, *args.parameter_overrides])
        env_vars_file = config.env_vars_file
        env_vars: dict[str, Any] = read_env_vars(args.env_vars or (Path(env_vars_file) if env_vars_file else None))
        layer_dirs = parse_layer_dirs(args.layer_dir)
        loaded = load_template(args.template, parameter_overrides=overrides, env_vars=env_vars, layer_dirs=layer_dirs)
        names = [spec.name for spec in loaded.functions]
        if args.function not in names:
            raise ValueError(f"function {args.function!r} is not in {args.template} (it has: {', '.join(names)})")
        event = _read_event(args.event)
        start = start_options(args)
    except (EmulatorError, SamConfigError, ValueError) as exc:
        print(f"harness invoke: {exc}", file=sys.stderr)
        return 2
    lam = LocalLambda(loaded.functions, region=loaded.region, serve=False, **start)
    try:
        lam.start()
        for note in lam.notes:
            print(f"note: {note}", file=sys.stderr)
        result = lam.invoke(args.function, payload=event, log_tail=True)
    except EmulatorError as exc:  # refused as the Invoke API would refuse it: said in one line, as before the start
        print(f"harness invoke: {exc}", file=sys.stderr)
        return 2
    finally:
        lam.stop()
    if result.log_tail:
        sys.stderr.write(result.log_tail if result.log_tail.endswith("\n") else result.log_tail + "\n")
    sys.stdout.buffer.write(result.raw_payload + b"\n")
    sys.stdout.flush()
    return 0
