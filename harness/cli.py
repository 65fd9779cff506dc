"""The ``harness`` command: one entry point for the local lab.

Each subcommand lives in its own module, which exposes ``DESCRIPTION``, ``add_arguments(parser)`` and
``run(args) -> int``; this module only dispatches, so adding a command never touches the others.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

__all__ = ["COMMANDS", "main"]

# subcommand -> module implementing it
COMMANDS: dict[str, str] = {
    "compare": "harness.compare.cli",
    "emulate": "harness.emulator.cli",
    "pitfalls": "harness.pitfalls.cli",
    "faults": "harness.faults.cli",
    "bench": "harness.bench.cli",
    "postgres": "harness.postgres_cli",
}


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
    try:
        return int(args._run(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
