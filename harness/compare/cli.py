"""``harness compare`` (``make compare``): connection strategies side by side under concurrent Lambda load."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from harness.cli_types import bounded, count_list, unwritable_dir
from harness.compare.postgres_backend import BACKENDS, DockerUnavailableError
from harness.compare.scenarios import SCENARIOS, CompareOptions
from harness.compare.stand import MAX_ENVIRONMENTS
from harness.compare.strategies import strategy_names
from harness.compare.workload_spec import SpecError, WorkloadSpec, parse_event, parse_setup, parse_setup_sql

if TYPE_CHECKING:
    from harness.kit.records import Report

DESCRIPTION = "run the connection strategies side by side under concurrent Lambda load and write a report"

DEFAULT_SCENARIOS = ("burst", "over_budget", "freeze_thaw", "scale_down", "ramp", "queue_backlog")
QUICK = {
    "concurrency": (1, 4, 8),
    "invocations": 6,
    "over_budget_factor": 2.0,
    "ramp": (1, 2, 4),
    "messages": 300,
    "poison_messages": 6,
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario",
        action="append",
        choices=sorted(SCENARIOS),
        dest="scenarios",
        help=f"scenario to run (repeatable; default: {', '.join(DEFAULT_SCENARIOS)}; with --function all but "
        "queue_backlog, which drains the template's IngestFunction queue)",
    )
    parser.add_argument(
        "--strategy",
        action="append",
        choices=strategy_names(),
        dest="strategies",
        help="strategy to run (repeatable; default: all)",
    )
    # Each client runs in an environment of its own: no more than the local Lambda holds.
    clients = count_list(MAX_ENVIRONMENTS, "--concurrency")
    parser.add_argument("--concurrency", type=clients, help="burst sweep of concurrent clients (default 1,8,32,64)")
    steps = count_list(MAX_ENVIRONMENTS, "--ramp")
    parser.add_argument("--ramp", type=steps, help="ramp steps of concurrent clients (default 1,2,4,8,16)")
    parser.add_argument(
        "--invocations",
        type=bounded(int, 1, 10_000, "--invocations"),
        help="invocations per client per step (default 10)",
    )
    parser.add_argument(
        "--max-connections",
        type=bounded(int, 5, 1000, "--max-connections"),
        help="max_connections of the over-budget server (default 10)",
    )
    parser.add_argument(
        "--over-budget-factor",
        type=bounded(float, 1.0, 10.0, "--over-budget-factor"),
        help="concurrent environments as a multiple of the server's free slots (default 3)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=bounded(float, 0.2, 60.0, "--idle-timeout"),
        help="idle_session_timeout in seconds for freeze_thaw (default 1)",
    )
    parser.add_argument(
        "--idle-ttl",
        type=bounded(float, 0.2, 60.0, "--idle-ttl"),
        help="seconds before an idle environment is reclaimed in scale_down (default 2)",
    )
    parser.add_argument(
        "--messages",
        type=bounded(int, 10, 100_000, "--messages"),
        help="queue_backlog: messages enqueued at once, 1%% of them poison (default 2000)",
    )
    parser.add_argument("--template", type=Path, default=Path("template.yaml"), help="SAM template (template.yaml)")
    parser.add_argument(
        "--postgres",
        choices=BACKENDS,
        default="embedded",
        help="where Postgres and PgBouncer run: embedded (default, no Docker) or docker (the containers of "
        "docker-compose.yml next to the template; a Docker engine is found, or started as root)",
    )
    workload = parser.add_argument_group(
        "your function",
        "what every scenario and strategy runs (default: the items function, 4 reads of a seeded row per create; "
        "placeholders in events: {{unique}}, {{int:LO:HI}}, {{row:TABLE.COLUMN}})",
    )
    workload.add_argument(
        "--function",
        metavar="NAME",
        help="the template's function to compare (it must use the lambda_db layer); with --target, its name there",
    )
    workload.add_argument(
        "--event",
        action="append",
        dest="events",
        metavar="FILE[:WEIGHT]",
        help="an event the function is sent, WEIGHT its share (default 1); repeatable, at least one with --function",
    )
    workload.add_argument(
        "--setup",
        action="append",
        metavar="FUNCTION[:EVENT]",
        help="invoke FUNCTION (with the JSON in EVENT, else {}) once per fresh database before traffic; repeatable",
    )
    workload.add_argument(
        "--setup-sql",
        action="append",
        metavar="FILE",
        help="SQL run as the function's role once per fresh database, after --setup; repeatable",
    )
    parser.add_argument("--output", type=Path, default=Path("reports"), help="reports go to OUTPUT/<timestamp>/")
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI and a first look")
    remote = parser.add_argument_group(
        "another Lambda", "drive an Invoke API you did not start here (burst and ramp only; no freeze or reclaim)"
    )
    remote.add_argument(
        "--target",
        metavar="URL|aws",
        help="Invoke API endpoint (sam local start-lambda, harness emulate), or 'aws' for the deployed stack",
    )
    remote.add_argument("--database-url", help="the target's database, for the monitor (required with --target)")
    remote.add_argument("--region", default="us-east-1", help="AWS region of the target")
    remote.add_argument("--label", default="target", help="the row name in the report (e.g. the stack's PoolMode)")


def workload_from_args(args: argparse.Namespace) -> WorkloadSpec | None:
    """The spec the options describe (None: the default items workload); SpecError names a bad option."""
    if args.function is None:
        given = [
            flag
            for flag, value in (("--event", args.events), ("--setup", args.setup), ("--setup-sql", args.setup_sql))
            if value
        ]
        if given:
            raise SpecError(given[0], "needs --function NAME (the function the events are sent to)")
        return None
    return WorkloadSpec(
        function=args.function,
        events=tuple(parse_event(text) for text in args.events or ()),
        setup=tuple(parse_setup(text) for text in args.setup or ()),
        setup_sql=tuple(parse_setup_sql(text) for text in args.setup_sql or ()),
    )


def _default_scenarios(workload: WorkloadSpec | None) -> tuple[str, ...]:
    """Every scenario for the default workload; for one's own function, all but ``queue_backlog``, which drains the
    template's ``IngestFunction`` queue whatever ``--function`` names (ask for it with ``--scenario``)."""
    if workload is None:
        return DEFAULT_SCENARIOS
    return tuple(name for name in DEFAULT_SCENARIOS if name != "queue_backlog")


def options_from_args(args: argparse.Namespace, workload: WorkloadSpec | None = None) -> CompareOptions:
    sizes = dict(QUICK) if args.quick else {}
    for name in ("concurrency", "invocations", "over_budget_factor", "ramp", "max_connections"):
        value = getattr(args, name)
        if value is not None:
            sizes[name] = value
    if args.idle_timeout is not None:
        sizes["idle_timeout_s"] = args.idle_timeout
    if args.idle_ttl is not None:
        sizes["idle_ttl_s"] = args.idle_ttl
    if args.messages is not None:
        sizes["messages"], sizes["poison_messages"] = args.messages, max(1, args.messages // 100)
    return CompareOptions(
        scenarios=tuple(dict.fromkeys(args.scenarios or _default_scenarios(workload))),
        strategies=tuple(dict.fromkeys(args.strategies or strategy_names())),
        template=args.template,
        output_dir=args.output,
        workload=workload,
        postgres=args.postgres,
        **sizes,  # type: ignore[arg-type]
    )


def _run_remote(args: argparse.Namespace, options: CompareOptions) -> int:
    import psycopg2
    from botocore.exceptions import BotoCoreError, ClientError
    from sqlalchemy.exc import ArgumentError

    from harness.compare.remote import REMOTE_SCENARIOS, run_remote
    from harness.kit.machine import describe_machine
    from harness.kit.records import Report
    from harness.postgres import ExternalPostgres

    if not args.database_url:
        print(
            "harness compare: --target needs --database-url (the monitor counts the target's connections)",
            file=sys.stderr,
        )
        return 2
    scenarios = tuple(s for s in (args.scenarios or REMOTE_SCENARIOS))
    unsupported = [s for s in scenarios if s not in REMOTE_SCENARIOS]
    if unsupported:
        print(
            f"harness compare: with --target only {', '.join(REMOTE_SCENARIOS)} can run "
            f"({', '.join(unsupported)} need environments the lab controls)",
            file=sys.stderr,
        )
        return 2
    try:
        ExternalPostgres(args.database_url)  # parsed here, so a typo is named before anything runs
    except (ArgumentError, ValueError) as exc:  # neither message repeats the URL, so never its password
        print(f"harness compare: --database-url: {exc}", file=sys.stderr)
        return 2
    report = Report(machine=describe_machine(), parameters={**options.as_dict(), "target": args.target})
    try:
        run_remote(
            endpoint_url=None if args.target == "aws" else args.target,
            spec=options.spec,
            database_url=args.database_url,
            region=args.region,
            label=args.label,
            scenarios=scenarios,
            concurrency=options.concurrency,
            ramp=options.ramp,
            invocations=options.invocations,
            report=report,
        )
    except (BotoCoreError, ClientError) as exc:  # unreachable endpoint, no credentials, unknown function
        print(f"harness compare: --target {args.target} --function {options.spec.function}: {exc}", file=sys.stderr)
        return 2
    except psycopg2.OperationalError as exc:  # libpq names host and port, never the password
        print(f"harness compare: --database-url: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return 2
    return _write(report, options)


def _write(report: Report, options: CompareOptions) -> int:
    from harness.compare.phases import render_phases
    from harness.compare.report import summary_rows, verdict_lines, write_all
    from harness.compare.verdicts import compute_verdicts

    report.verdicts = report.verdicts or compute_verdicts(report)
    out_dir = options.output_dir / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    paths = write_all(report, out_dir)
    print()
    colour = sys.stdout.isatty()
    for line in summary_rows(report, colour=colour):
        print(line)
    print()
    for line in verdict_lines(report, colour=colour):
        print(line)
    for rule in report.parameters.get("success_rule") or []:
        print(f"success judged by {rule}")
    if report.phase_seconds:
        print()
        for line in render_phases(report.phase_seconds):
            print(line)
    print(f"\nwrote {', '.join(str(p) for p in paths)}")
    return 0


def run(args: argparse.Namespace) -> int:
    if (problem := unwritable_dir(args.output)) is not None:  # found now, not after minutes of measuring
        print(f"harness compare: --output {args.output} {problem}", file=sys.stderr)
        return 2
    try:
        options = options_from_args(args, workload_from_args(args))
        if args.target and args.postgres != "embedded":
            print("harness compare: --postgres has no effect with --target (the target has its own)", file=sys.stderr)
            return 2
        if args.target:
            options.spec  # noqa: B018 - parsed now: a missing default event file is named before the target is called
            return _run_remote(args, options)
        if not args.template.is_file():
            print(
                f"harness compare: --template {args.template} does not exist (run from the repository root)",
                file=sys.stderr,
            )
            return 2
        from harness.compare.runner import run_compare
        from harness.compare.target_function import check_functions

        check_functions(args.template, options.spec)
        return _write(run_compare(options), options)
    except DockerUnavailableError as exc:  # --postgres docker without an engine, its images or the compose file
        print(f"harness compare: --postgres docker: {exc}", file=sys.stderr)
        return 2
    except SpecError as exc:  # a bad --function/--event/--setup, found before the run or by its setup
        print(f"harness compare: {exc}", file=sys.stderr)
        return 2
