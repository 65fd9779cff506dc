"""``harness pitfalls``: reproduce every connection pitfall against a real Postgres, then show its fix holding.

Exit status 0 when every selected pitfall reproduced *and* its fix held, 1 otherwise; bad options exit 2.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator

from harness.pitfalls.registry import PITFALLS, by_number
from harness.pitfalls.report import render_result, totals
from harness.pitfalls.runner import PitfallResult, run_pitfalls
from lambda_db.metrics import layer_logger

DESCRIPTION = "reproduce each connection pitfall (the exact error text) against a real Postgres, then show the fix"

# The layer prints one JSON line per invocation (log and EMF in one); here the report is the output.
QUIET_LAYER = {"POWERTOOLS_METRICS_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "ERROR"}


@contextlib.contextmanager
def _quiet_layer() -> Iterator[None]:
    """The layer quiet for the run only, then as it was: :data:`QUIET_LAYER` (unless set) and its logger's level.

    The variables reach the processes the labs start; in this process the layer's logger was configured when first
    made, so its level is set here directly (made first, so it does not keep ERROR for the rest of the process).
    """
    logger = logging.getLogger(layer_logger().name)
    previous_level = logger.level
    added = [name for name in QUIET_LAYER if name not in os.environ]
    os.environ.update({name: QUIET_LAYER[name] for name in added})
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous_level)
        for name in added:
            os.environ.pop(name, None)


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
    print(f"==> pitfalls: {len(selected)} to run, each against a fresh database on a real Postgres\n", flush=True)
    with _quiet_layer():
        results = run_pitfalls(selected, progress=_print_result)
    line = totals(results)
    print(line)
    if not all(result.passed for result in results):
        print("pitfalls: some did not reproduce or their fix did not hold (see above)", file=sys.stderr)
        return 1
    return 0
