"""``harness pitfalls``: reproduce every connection pitfall against a real Postgres, then show its fix holding.

Exit status 0 when every selected pitfall reproduced *and* its fix held, 1 otherwise; bad options exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys

from harness.pitfalls.registry import PITFALLS, by_number
from harness.pitfalls.report import render_result, totals
from harness.pitfalls.runner import PitfallResult, run_pitfalls

DESCRIPTION = "reproduce each connection pitfall (the exact error text) against a real Postgres, then show the fix"

# The layer prints one JSON line per invocation (log and EMF in one); here the report is the output.
QUIET_LAYER = {"POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "ERROR"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    numbers = [pitfall.number for pitfall in PITFALLS]
    parser.add_argument(
        "--only",
        type=int,
        action="append",
        choices=numbers,
        metavar="N",
        help=f"run only pitfall N (repeatable; one of {', '.join(map(str, numbers))})",
    )
    parser.add_argument("--list", action="store_true", help="list the pitfalls and exit")


def _print_result(result: PitfallResult) -> None:
    print("\n".join(render_result(result)) + "\n", flush=True)


def run(args: argparse.Namespace) -> int:
    if args.list:
        for pitfall in PITFALLS:
            print(f"{pitfall.number}  {pitfall.title}")
        return 0
    selected = [by_number(number) for number in dict.fromkeys(args.only or [p.number for p in PITFALLS])]
    for name, value in QUIET_LAYER.items():
        os.environ.setdefault(name, value)
    print(f"==> pitfalls: {len(selected)} to run, each against a fresh database on a real Postgres\n", flush=True)
    results = run_pitfalls(selected, progress=_print_result)
    line = totals(results)
    print(line)
    if not all(result.passed for result in results):
        print("pitfalls: some did not reproduce or their fix did not hold (see above)", file=sys.stderr)
        return 1
    return 0
