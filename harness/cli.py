"""The ``harness`` command: one entry point for the local lab.

Each subcommand lives in its own module, which exposes ``DESCRIPTION``, ``add_arguments(parser)`` and
``run(args) -> int``; this module only dispatches, so adding a command never touches the others.

SIGTERM (``timeout``, ``kill``, a CI cancel, a service manager) and SIGHUP (a closed terminal) stop a command
exactly as Ctrl-C does: they raise :class:`Stopped`, a ``KeyboardInterrupt``, in the main thread, so every
``with`` block and ``finally`` that stops a Postgres, a PgBouncer or an environment runs. Without this both signals
end the interpreter on the spot and leave those servers running, orphaned. A background command, whose SIGINT the
shell ignores, is stopped the same way by SIGTERM.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType, ModuleType
from typing import Any

__all__ = ["COMMANDS", "STOP_SIGNALS", "Stopped", "main"]

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)

# subcommand -> module implementing it
COMMANDS: dict[str, str] = {
    "compare": "harness.compare.cli",
    "emulate": "harness.emulator.cli",
    "invoke": "harness.emulator.invoke_cli",
    "pitfalls": "harness.pitfalls.cli",
    "faults": "harness.faults.cli",
    "bench": "harness.bench.cli",
    "postgres": "harness.postgres_cli",
}


class Stopped(KeyboardInterrupt):
    """The command was asked to stop by a signal; cleanup runs as on Ctrl-C, and the exit code is 128 + signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop(signum: int, frame: FrameType | None) -> None:
    # Only the first stops: a second SIGTERM or SIGHUP must not cut short the cleanup the first one started.
    for other in STOP_SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    raise Stopped(signum)


def install_stop_handlers() -> dict[int, Any]:
    """Make SIGTERM and SIGHUP stop this process as Ctrl-C does; return the handlers they had, to restore.

    Python runs signal handlers in the main thread only: called from another thread (a test running a command in
    a thread), it changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        return {}
    return {signum: signal.signal(signum, _stop) for signum in STOP_SIGNALS}


def _load(module_name: str) -> ModuleType | None:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            return None  # that command is not built yet
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness",
        description="serverless-sqlalchemy's local lab: Lambda without Docker, a real Postgres, and measurements.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        module = _load(module_name)
        if module is None:
            continue
        sub = subparsers.add_parser(name, help=module.DESCRIPTION, description=module.DESCRIPTION)
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run one subcommand; bad options exit 2 with argparse's message."""
    args = build_parser().parse_args(argv)
    previous = install_stop_handlers()
    try:
        return int(args._run(args))
    except Stopped as stopped:
        print(f"stopped by {signal.Signals(stopped.signum).name}", file=sys.stderr)
        return 128 + stopped.signum
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:  # main() called in-process (the tests) leaves the caller's handlers as they were
        for signum, handler in previous.items():
            signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())
