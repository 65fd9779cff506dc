"""The pitfall lab's vocabulary: a :class:`Lab` to run against, an :class:`Outcome` measured, a :class:`Pitfall`.

A pitfall is a record: the error text a user searches for (``symptoms``), its cause, its fix, and two callables
that run the same load twice against a real Postgres — ``reproduce`` with the bad configuration and ``fixed`` with
the template's. Each returns an :class:`Outcome`: the exact exception texts seen, the numbers measured
(``pg_stat_activity``, pool status) and, for the fixed side, named checks that must all hold.

Keeping the measurement apart from the judgement (:meth:`Pitfall.reproduced`, :meth:`Pitfall.fix_held`) and from
the rendering (``report.py``) lets the tests, the CLI and the docs share one definition of "it happened".
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import make_url

from harness.postgres import PostgresServer

__all__ = ["Lab", "Measure", "Outcome", "Pitfall", "exception_text", "searchable_message"]

Measure = int | float | str

# SQLAlchemy appends the statement and a link to its docs; the words a user searches for come before them.
_TRAILERS = re.compile(r"\n?\s*(\[SQL: |\[parameters: |\(Background on this error at: ).*", re.DOTALL)


def searchable_message(message: str) -> str:
    """A driver or SQLAlchemy message on one line, without the SQL statement and the documentation link."""
    lines = [line.strip() for line in _TRAILERS.sub("", message).splitlines() if line.strip()]
    return " / ".join(lines)


def exception_text(exc: BaseException) -> str:
    """The exception as a user sees it at the bottom of a traceback: ``module.Class: message``.

    The SQL statement and SQLAlchemy's link trailer are cut; the driver's lines (``FATAL: ...`` then ``server closed
    the connection unexpectedly``) are kept, because those are the words people paste into a search box.
    """
    kind = type(exc)
    module = kind.__module__
    name = kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
    message = searchable_message(str(exc))
    return f"{name}: {message}" if message else name


@dataclass(frozen=True)
class Lab:
    """One fresh database on a real server, and the application role that owns it (never a superuser).

    Every engine a pitfall builds names itself with ``application_name``, so the lab counts that engine's backends in
    ``pg_stat_activity`` and nobody else's.
    """

    server: PostgresServer
    database: str
    user: str
    password: str

    def url(self, application_name: str | None = None) -> str:
        """A SQLAlchemy URL for the application role, tagged with ``application_name`` when given."""
        url = self.server.url(self.database, user=self.user, password=self.password)
        if application_name is None:
            return url
        tagged = make_url(url).update_query_dict({"application_name": application_name})
        return tagged.render_as_string(hide_password=False)

    def connections(self, application_prefix: str | None = None) -> int:
        """Client backends in this database now (optionally only those whose application_name starts so)."""
        return self.server.connection_count(database=self.database, application_prefix=application_prefix)

    def settled_connections(self, application_prefix: str | None = None, *, settle_s: float = 2.0) -> int:
        """Like :meth:`connections`, once closing backends have gone (a client's close reaches the server later)."""
        deadline = time.monotonic() + settle_s
        count = self.connections(application_prefix)
        while time.monotonic() < deadline:
            time.sleep(0.05)
            again = self.connections(application_prefix)
            if again == count:
                break
            count = again
        return count

    def terminate_backends(self, application_prefix: str | None = None) -> int:
        """``pg_terminate_backend`` this database's client backends; what an operator or a failover does."""
        return self.server.terminate_backends(database=self.database, application_prefix=application_prefix)


@dataclass
class Outcome:
    """What one side of a pitfall did: exception texts seen (in order, each once), numbers, and checks.

    ``errors`` on the bad side are the symptom; on the fixed side any error means the fix did not hold.
    ``checks`` are the fixed side's named expectations ("pool back to idle": True); all must be true.
    """

    errors: list[str] = field(default_factory=list)
    error_counts: dict[str, int] = field(default_factory=dict)
    measures: dict[str, Measure] = field(default_factory=dict)
    checks: dict[str, bool] = field(default_factory=dict)

    def record(self, exc: BaseException) -> str:
        """Remember one exception's text (counted when it repeats); returns the text."""
        return self.record_text(exception_text(exc))

    def record_text(self, text: str) -> str:
        """Remember an exception text seen elsewhere (another process, a Lambda error payload)."""
        if text not in self.error_counts:
            self.errors.append(text)
        self.error_counts[text] = self.error_counts.get(text, 0) + 1
        return text

    @property
    def error(self) -> str | None:
        """The first exception text seen, or None."""
        return self.errors[0] if self.errors else None

    def measure(self, **values: Measure) -> None:
        self.measures.update(values)

    def check(self, name: str, ok: bool) -> bool:
        self.checks[name] = bool(ok)
        return bool(ok)


@dataclass(frozen=True)
class Pitfall:
    """One failure from the seed articles, reproduced on purpose and then fixed.

    Parameters
    ----------
    number, slug, title:
        How the CLI (``--only N``), the tests and the docs name it.
    symptoms:
        Regular expressions for the words a user would search for; every one must appear in the bad side's errors.
    cause, fix:
        One or two sentences each, printed in the report.
    reproduce, fixed:
        Run the load with the bad configuration / with the fix, each against its own fresh :class:`Lab`.
    server:
        Options for a small server of its own (``EmbeddedPostgres`` keyword arguments: a low ``max_connections``,
        an ``idle_session_timeout_s``, ...) when the shared one will not do; None shares the lab's server.
    """

    number: int
    slug: str
    title: str
    symptoms: tuple[str, ...]
    cause: str
    fix: str
    reproduce: Callable[[Lab], Outcome]
    fixed: Callable[[Lab], Outcome]
    server: Mapping[str, Any] | None = None

    def reproduced(self, outcome: Outcome) -> bool:
        """Every symptom pattern appears in some exception text of the bad side."""
        return all(any(re.search(pattern, text) for text in outcome.errors) for pattern in self.symptoms)

    def fix_held(self, outcome: Outcome) -> bool:
        """No exception on the fixed side, and at least one check, all true."""
        return not outcome.errors and bool(outcome.checks) and all(outcome.checks.values())
