"""``harness emulate``: the template's functions behind Lambda's Invoke API and their API Gateway routes.

Like ``sam local start-lambda`` plus ``start-api`` in one process, without Docker, with warm, frozen, concurrent
execution environments. Bad options exit 2 with a message naming the option.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from harness.cli_types import positive
from harness.emulator.errors import EventSourceError, TemplateError
from harness.emulator.event_source_cli import add_event_source_arguments, event_source_options
from harness.emulator.layer_dirs import add_layer_dir_argument, parse_layer_dirs
from harness.emulator.local_lambda import LocalLambda
from harness.emulator.samconfig import DEFAULT_CONFIG_ENV, DEFAULT_CONFIG_FILE, SamConfigError, load_samconfig
from harness.emulator.starters import START_MODE_VARIABLE, START_MODES, start_mode_from_env
from harness.emulator.template import load_template, parse_parameter_overrides
from harness.emulator.view import LiveView, render_environments

DESCRIPTION = "run the SAM template's functions locally, like Lambda (warm, frozen, concurrent; no Docker)"
# Past these a value is a typo, not a setting: a day idle (Lambda reclaims within hours), and ten times an account's
# default concurrency of 1,000 (each environment is a process of this machine)
MAX_IDLE_TTL_S = 86_400.0
MAX_ENVIRONMENTS = 10_000


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0-65535; 0 picks a free one)")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--template", "-t", type=Path, default=Path("template.yaml"), help="SAM template")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=_port, default=3001, help="Lambda Invoke API port (boto3 endpoint_url)")
    parser.add_argument("--api-port", type=_port, default=3000, help="API Gateway (HttpApi/Api routes) port")
    parser.add_argument("--env-vars", "-n", type=Path, help='JSON file: {"Parameters": {...}, "<LogicalId>": {...}}')
    parser.add_argument(
        "--parameter-overrides", nargs="+", default=[], metavar="KEY=VALUE", help="template parameter values"
    )
    parser.add_argument(
        "--idle-ttl", type=positive(float, MAX_IDLE_TTL_S), default=600.0, help="reclaim environments idle this long"
    )
    parser.add_argument(
        "--max-environments",
        type=positive(int, MAX_ENVIRONMENTS),
        default=1000,
        help="emulator-wide concurrency limit",
    )
    parser.add_argument("--no-freeze", action="store_true", help="leave idle environments running (no SIGSTOP)")
    parser.add_argument("--no-view", action="store_true", help="no live table, even on a terminal")
    add_start_arguments(parser)
    add_samconfig_arguments(parser)
    add_layer_dir_argument(parser)
    add_event_source_arguments(parser)


def add_start_arguments(parser: argparse.ArgumentParser) -> None:
    """``--start-mode``, ``--preload``, ``--emulator-python``: how environments start and on which interpreter."""
    parser.add_argument(
        "--start-mode",
        choices=START_MODES,
        help="fork: each environment forks from a pre-imported server per runtime (default, or "
        f"${START_MODE_VARIABLE}); fresh: a new interpreter per environment, for measuring init itself",
    )
    parser.add_argument(
        "--preload",
        metavar="MODULE,...",
        help="modules the fork server imports (default: what the functions' layers import at module level)",
    )
    parser.add_argument(
        "--emulator-python",
        action="store_true",
        help="run every function on the emulator's own Python, whatever its Runtime says",
    )


def start_options(args: argparse.Namespace) -> dict[str, Any]:
    """The LocalLambda options the start arguments give (ValueError for a bad ${START_MODE_VARIABLE})."""
    preload = [name.strip() for name in args.preload.split(",") if name.strip()] if args.preload else None
    return {
        "start_mode": start_mode_from_env(args.start_mode),
        "preload": preload,
        "runtime_interpreters": not args.emulator_python,
    }


def add_samconfig_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config-file`` / ``--config-env``: read env_vars and parameter_overrides from samconfig.toml like SAM."""
    parser.add_argument(
        "--config-file", type=Path, help=f"SAM config file (default: {DEFAULT_CONFIG_FILE} if it exists)"
    )
    parser.add_argument(
        "--config-env", default=DEFAULT_CONFIG_ENV, help=f"its environment to read (default: {DEFAULT_CONFIG_ENV})"
    )


def read_env_vars(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise TemplateError(f"--env-vars {path}: cannot read it ({exc.strerror})") from exc
    except RecursionError as exc:  # deeper than the interpreter's recursion limit: not a ValueError
        raise TemplateError(f"--env-vars {path}: nested too deep to read (over about 1,000 levels)") from exc
    except ValueError as exc:
        raise TemplateError(f"--env-vars {path}: not JSON ({exc})") from exc
    if not isinstance(data, dict) or not all(isinstance(value, dict) for value in data.values()):
        raise TemplateError(f'--env-vars {path}: expected {{"Parameters": {{...}}, "<LogicalId>": {{VAR: value}}}}')
    for section, variables in data.items():
        for name, value in variables.items():
            if isinstance(value, dict | list):  # SAM blanks these silently; an environment variable is a string
                kind = "an object" if isinstance(value, dict) else "a list"
                raise TemplateError(f"--env-vars {path}: {section}.{name} is {kind}; give a string, number or boolean")
    return data


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    try:
        config = load_samconfig("local start-api", config_file=args.config_file, config_env=args.config_env)
        # Explicit flags win over the config file, as in SAM: later overrides replace earlier ones.
        overrides = parse_parameter_overrides([*config.parameter_overrides, *args.parameter_overrides])
        env_vars_file = config.env_vars_file
        env_vars = read_env_vars(args.env_vars or (Path(env_vars_file) if env_vars_file else None))
        layer_dirs = parse_layer_dirs(args.layer_dir)
        loaded = load_template(args.template, parameter_overrides=overrides, env_vars=env_vars, layer_dirs=layer_dirs)
        start = start_options(args)
    except (TemplateError, SamConfigError, ValueError) as exc:
        print(f"harness emulate: {exc}", file=sys.stderr)
        return 2
    lam = LocalLambda(
        loaded.functions,
        routes=loaded.routes,
        host=args.host,
        region=loaded.region,
        idle_ttl_s=args.idle_ttl,
        max_environments=args.max_environments,
        freeze=not args.no_freeze,
        serve=True,
        port=args.port,
        api_port=args.api_port,
        event_sources=loaded.event_sources,
        event_source_options=event_source_options(args),
        **start,
    )
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        lam.start()
    except OSError as exc:
        lam.stop()
        print(f"harness emulate: cannot listen ({exc.strerror}): pick other --port/--api-port", file=sys.stderr)
        return 2
    except EventSourceError as exc:  # start() stopped everything it had started
        print(f"harness emulate: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # stopped while starting (moto takes a second): start() stopped what it had started
        return 0
    header = [f"Invoke API   {lam.invoke_api_url}  (boto3: endpoint_url=...; environments: /_emulator/environments)"]
    if lam.http_api_url:
        header.append(f"HTTP API     {lam.http_api_url}")
        header += [f"  {route.method:6} {route.path}  -> {route.function}" for route in loaded.routes]
    header.append("functions    " + ", ".join(spec.name for spec in loaded.functions))
    header.append(f"logs         {lam.pool.log_dir()}/<environment>.log (removed on exit)")
    header += [f"runtime      {line}" for line in lam.describe_start()]
    sources = lam.describe_event_sources()
    header += ["event sources", *sources] if sources else []
    header += [f"skipped      {why}" for why in loaded.skipped]
    header += [f"note         {note}" for note in [*loaded.notes, *lam.notes]]
    try:
        if sys.stdout.isatty() and not args.no_view:
            LiveView(lam.environments, header).run()
        else:
            print("\n".join(header), flush=True)
            threading.Event().wait()  # until Ctrl-C or SIGTERM
    except KeyboardInterrupt:
        pass
    finally:
        print("\n".join(render_environments(lam.environments())[:1]), "- shutting down", flush=True)
        lam.stop()
    return 0
