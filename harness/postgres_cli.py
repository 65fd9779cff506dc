"""``harness postgres``: start the lab's Postgres (and PgBouncer) and keep it up until Ctrl-C, for manual poking.

SIGTERM and SIGHUP stop it as Ctrl-C does (see :mod:`harness.cli`), so ``harness postgres &`` (whose SIGINT the
shell ignores) is stopped with ``kill %1`` and leaves no server, bouncer or temp directory behind.
"""

from __future__ import annotations

import argparse
import secrets
import signal

from harness.cli_types import bounded
from harness.pgbouncer import PgBouncer, find_pgbouncer
from harness.postgres import EmbeddedPostgres

DESCRIPTION = "start an embedded Postgres (and PgBouncer when installed) and print how to connect"

APP_ROLE = "app"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-connections",
        type=bounded(int, 5, 10_000, "--max-connections"),
        default=100,
        help="server max_connections (at least 5: 3 are reserved for superusers)",
    )
    parser.add_argument("--no-pgbouncer", action="store_true", help="do not start PgBouncer")


def run(args: argparse.Namespace) -> int:
    password = secrets.token_urlsafe(12)  # a throwaway server: a fresh password each time, shown once below
    with EmbeddedPostgres(max_connections=args.max_connections) as pg:
        pg.create_role(APP_ROLE, password)
        pg.create_database("app", owner=APP_ROLE)
        print(f"postgres:  {pg.url('app', user=APP_ROLE, password=password)}")
        print(f"superuser: {pg.url()}   (log: {pg.log_path})")
        bouncer = None
        if not args.no_pgbouncer and find_pgbouncer() is not None:
            bouncer = PgBouncer(pg, users={APP_ROLE: password}).start()
            print(f"pgbouncer: {bouncer.url('app', user=APP_ROLE, password=password)}")
        print("Ctrl-C (or SIGTERM) to stop", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
        finally:
            if bouncer is not None:
                bouncer.cleanup()
    return 0
