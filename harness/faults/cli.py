"""``harness faults``: inject each fault under steady writes; report requests, failures and the ledger's verdict."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from harness.cli_types import bounded, unwritable_dir
from harness.faults.injectors import FAULTS
from harness.faults.runner import RECOVERY_S, FaultRun, run_fault
from harness.kit.machine import describe_machine
from harness.pgbouncer import find_pgbouncer

DESCRIPTION = "inject faults (killed backends, restarts, crashes, rotation, freeze) under load and check every write"

QUICK = {"clients": 3, "duration": 3.0}
DEFAULT = {"clients": 8, "duration": 8.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fault",
        action="append",
        choices=sorted(FAULTS),
        dest="faults",
        help="fault to inject (repeatable; default: all)",
    )
    parser.add_argument("--clients", type=bounded(int, 1, 200, "--clients"), help="concurrent writers (default 8)")
    parser.add_argument(
        "--duration",
        type=bounded(float, 1.0, 600.0, "--duration"),
        help="seconds of writes per fault, the fault at one third (default 8)",
    )
    parser.add_argument("--template", type=Path, default=Path("template.yaml"), help="SAM template")
    parser.add_argument("--output", type=Path, default=Path("reports"), help="results go to OUTPUT/faults-<time>.json")
    parser.add_argument("--quick", action="store_true", help="3 writers for 3 s per fault (what `make test` runs)")


def summary_lines(runs: list[FaultRun]) -> list[str]:
    """One row per fault: sent / ok / failed (outside the window) and the ledger's verdict."""
    header = (
        f"{'fault':<22} {'sent':>6} {'ok':>6} {'failed':>7} {'outside window':>15} {'lost':>5} {'doubled':>8}  verdict"
    )
    lines = [header, "-" * len(header)]
    for run in runs:
        verdict = "PASS" if run.passed else "FAIL"
        lines.append(
            f"{run.fault:<22} {run.sent:>6} {run.ok:>6} {run.failed:>7} {run.failed_outside_window:>15} "
            f"{len(run.ledger.missing):>5} {len(run.ledger.doubled):>8}  {verdict}"
        )
    for run in runs:
        lines.append(f"  {run.fault}: {run.done}; {run.ledger.line()}")
        for error, count in run.errors.items():
            lines.append(f"      {count:>5} x {error}")
        if run.secrets_in_logs:
            lines.append(f"      SECRET LEAK: a password appeared {run.secrets_in_logs} times in function logs")
    return lines


def run(args: argparse.Namespace) -> int:
    if (problem := unwritable_dir(args.output)) is not None:  # found now, not after minutes of measuring
        print(f"harness faults: --output {args.output} {problem}", file=sys.stderr)
        return 2
    if not args.template.is_file():
        print(
            f"harness faults: --template {args.template} does not exist (run from the repository root)", file=sys.stderr
        )
        return 2
    sizes = dict(QUICK if args.quick else DEFAULT)
    if args.clients is not None:
        sizes["clients"] = args.clients
    if args.duration is not None:
        sizes["duration"] = args.duration
    names = list(dict.fromkeys(args.faults or FAULTS))
    runs: list[FaultRun] = []
    for name in names:
        fault = FAULTS[name]
        if fault.needs_pgbouncer and find_pgbouncer() is None:
            print(f"  {name}: skipped, pgbouncer is not installed (sudo apt-get install -y pgbouncer)")
            continue
        print(f"==> fault {name}: {fault.summary}", flush=True)
        result = run_fault(
            fault, template=args.template, clients=int(sizes["clients"]), duration_s=float(sizes["duration"])
        )
        print(
            f"    {result.sent} sent, {result.failed} failed ({result.failed_outside_window} outside the window); "
            f"{result.ledger.line()}",
            flush=True,
        )
        runs.append(result)
    print()
    for line in summary_lines(runs):
        print(line)
    args.output.mkdir(parents=True, exist_ok=True)
    out = args.output / f"faults-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.write_text(
        json.dumps(
            {
                "machine": describe_machine(),
                "recovery_s": RECOVERY_S,
                "sizes": sizes,
                "runs": [r.to_dict() for r in runs],
            },
            indent=2,
        )
    )
    print(f"\nwrote {out}")
    return 0 if all(r.passed for r in runs) else 1
