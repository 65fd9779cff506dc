"""Run pitfalls: each side of each pitfall against its own fresh database, or a small server of its own.

The bad side may leave a server full, a backend killed or a pool exhausted; giving the fixed side a new database
(and a new server when the pitfall needs special settings) means it never inherits that damage.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from harness.pitfalls.base import Lab, Outcome, Pitfall, exception_text
from harness.postgres import EmbeddedPostgres

__all__ = ["APP_ROLE", "PitfallResult", "run_pitfall", "run_pitfalls", "shared_lab"]

APP_ROLE = "app"
SHARED_MAX_CONNECTIONS = 100


@dataclass(frozen=True)
class PitfallResult:
    """Both sides of one pitfall, and whether the lab itself failed (then neither side counts)."""

    pitfall: Pitfall
    before: Outcome
    after: Outcome
    crashed: str | None = None

    @property
    def reproduced(self) -> bool:
        return self.crashed is None and self.pitfall.reproduced(self.before)

    @property
    def fix_held(self) -> bool:
        return self.crashed is None and self.pitfall.fix_held(self.after)

    @property
    def passed(self) -> bool:
        return self.reproduced and self.fix_held


@contextmanager
def _fresh_database(server: Lab) -> Iterator[Lab]:
    """A new empty database on ``server`` owned by its application role, dropped (connections and all) afterwards."""
    name = f"pitfall_{uuid.uuid4().hex[:12]}"
    server.server.create_database(name, owner=server.user)
    try:
        yield Lab(server=server.server, database=name, user=server.user, password=server.password)
    finally:
        server.server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def _server_for(pitfall: Pitfall, shared: Lab | None) -> Iterator[Lab]:
    """``shared`` when the pitfall needs no settings of its own, else a small server started for it alone."""
    if pitfall.server is None and shared is not None:
        yield shared
        return
    password = secrets.token_hex(12)
    with EmbeddedPostgres(**dict(pitfall.server or {})) as server:
        server.create_role(APP_ROLE, password)
        yield Lab(server=server, database="postgres", user=APP_ROLE, password=password)


def run_pitfall(pitfall: Pitfall, shared: Lab | None) -> PitfallResult:
    """Reproduce ``pitfall``, then run its fix under the same load; a failure of the lab itself is reported.

    Both sides share the pitfall's server (starting one costs seconds on a busy machine) but each gets a fresh
    database, and everything the bad side opened is closed before the fixed side starts.
    """
    before, after = Outcome(), Outcome()
    try:
        with _server_for(pitfall, shared) as server:
            with _fresh_database(server) as lab:
                before = pitfall.reproduce(lab)
            with _fresh_database(server) as lab:
                after = pitfall.fixed(lab)
    except Exception as exc:  # noqa: BLE001 - one broken pitfall must not hide the others' results
        return PitfallResult(pitfall, before, after, crashed=exception_text(exc))
    return PitfallResult(pitfall, before, after)


@contextmanager
def shared_lab() -> Iterator[Lab]:
    """A server for the pitfalls that need no special settings, with the application role (random password)."""
    password = secrets.token_hex(12)
    with EmbeddedPostgres(max_connections=SHARED_MAX_CONNECTIONS) as server:
        server.create_role(APP_ROLE, password)
        yield Lab(server=server, database="postgres", user=APP_ROLE, password=password)


def run_pitfalls(
    pitfalls: Iterable[Pitfall], *, progress: Callable[[PitfallResult], None] | None = None
) -> list[PitfallResult]:
    """Run each pitfall in turn; ``progress`` sees each result as soon as it is known."""
    results = []
    with shared_lab() as shared:
        for pitfall in pitfalls:
            result = run_pitfall(pitfall, shared)
            if progress is not None:
                progress(result)
            results.append(result)
    return results
