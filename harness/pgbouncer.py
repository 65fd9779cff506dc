"""PgBouncer in transaction mode in front of the lab Postgres: the local stand-in for RDS Proxy.

PgBouncer is not on PyPI; it comes from the operating system (Debian: ``apt-get install pgbouncer``). Like initdb it
refuses to run as root, so as root it runs as ``nobody`` from a temp dir that user owns. It is stopped with SIGINT:
SIGTERM makes it exit with status 1.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

from harness.postgres import EmbeddedPostgres, find_free_port, unprivileged_user, wait_for_port

__all__ = ["INSTALL_HINT", "PgBouncer", "find_pgbouncer"]

INSTALL_HINT = (
    "pgbouncer is not installed: on Debian/Ubuntu run `sudo apt-get install -y pgbouncer` "
    "(as root, `make venv` does it for you), or set PGBOUNCER=/path/to/pgbouncer"
)


def find_pgbouncer() -> str | None:
    """The pgbouncer binary: $PGBOUNCER, then PATH, then Debian's /usr/sbin (not on an ordinary user's PATH)."""
    explicit = os.environ.get("PGBOUNCER")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/local/sbin")


class PgBouncer:
    """One PgBouncer process pooling ``users`` onto ``postgres`` in transaction mode.

    Parameters
    ----------
    postgres:
        The server to pool onto (its host and port).
    users:
        Login role -> password; PgBouncer authenticates clients with SCRAM and logs in to Postgres with the same.
    default_pool_size:
        Server connections per (database, user) pair: the number the database actually sees.
    max_client_conn:
        Client connections PgBouncer accepts before it refuses more.
    tls:
        ``(certificate, private key)`` PEM files: clients must then speak TLS to PgBouncer, as they must to RDS
        Proxy (the hop to Postgres stays plain, on loopback).
    """

    def __init__(
        self,
        postgres: EmbeddedPostgres,
        *,
        users: Mapping[str, str],
        default_pool_size: int = 5,
        max_client_conn: int = 1000,
        pool_mode: str = "transaction",
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        if default_pool_size < 1:
            raise ValueError(f"default_pool_size must be at least 1, got {default_pool_size}")
        self.binary = find_pgbouncer()
        if self.binary is None:
            raise FileNotFoundError(INSTALL_HINT)
        self.postgres = postgres
        self.users = dict(users)
        self.default_pool_size = default_pool_size
        self.max_client_conn = max_client_conn
        self.pool_mode = pool_mode
        self.tls = tls
        self.host = "127.0.0.1"
        self.port = 0
        self._root: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, database: str, *, user: str, password: str) -> str:
        """A SQLAlchemy URL that goes through the bouncer."""
        auth = f"{quote(user, safe='')}:{quote(password, safe='')}"
        return f"postgresql+psycopg2://{auth}@{self.host}:{self.port}/{database}"

    def start(self) -> PgBouncer:
        """Write the config and start the bouncer; failed or interrupted halfway, it leaves nothing behind."""
        try:
            self._root = Path(tempfile.mkdtemp(prefix="serverless-sqlalchemy-pgbouncer-"))
            self.port = find_free_port(self.host)
            self._write_config()
            self._spawn()
        except BaseException:
            self.cleanup()
            raise
        return self

    def _spawn(self) -> None:
        assert self._root is not None
        assert self.binary is not None
        user = unprivileged_user()
        kwargs = {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        self._process = subprocess.Popen(
            [self.binary, str(self._root / "pgbouncer.ini")],
            cwd=self._root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **kwargs,  # type: ignore[call-overload]
        )
        try:
            wait_for_port(self.host, self.port)
        except OSError as exc:
            self.stop()
            raise RuntimeError(f"pgbouncer did not start: {self.log_tail()}") from exc

    def restart(self) -> None:
        """Stop and start again on the same port: every client and server connection is cut."""
        self.stop()
        self._spawn()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)  # SIGINT is its clean shutdown; SIGTERM exits 1
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def cleanup(self) -> None:
        self.stop()
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    def __enter__(self) -> PgBouncer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.cleanup()

    def log_tail(self, lines: int = 20) -> str:
        if self._root is None:
            return ""
        try:
            return "\n".join((self._root / "pgbouncer.log").read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _write_config(self) -> None:
        assert self._root is not None
        userlist = "".join(f'"{name}" "{password}"\n' for name, password in self.users.items())
        (self._root / "userlist.txt").write_text(userlist)
        tls_settings = self._copy_tls_files()
        (self._root / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host={self.postgres.host} port={self.postgres.port}\n"
            "[pgbouncer]\n"
            f"listen_addr = {self.host}\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = scram-sha-256\n"
            f"auth_file = {self._root / 'userlist.txt'}\n"
            f"pool_mode = {self.pool_mode}\n"
            f"default_pool_size = {self.default_pool_size}\n"
            "min_pool_size = 0\n"
            "reserve_pool_size = 0\n"
            f"max_client_conn = {self.max_client_conn}\n"
            "server_lifetime = 3600\n"
            "server_idle_timeout = 60\n"
            # psycopg2 sends these at startup; PgBouncer must not refuse the connection over them.
            "ignore_startup_parameters = extra_float_digits,options\n"
            "application_name_add_host = 0\n"
            f"logfile = {self._root / 'pgbouncer.log'}\n"
            f"pidfile = {self._root / 'pgbouncer.pid'}\n"
            "admin_users = pgbouncer\n"
            f"{tls_settings}"
        )
        user = unprivileged_user()
        if user is not None:
            for path in self._root.iterdir():
                os.chown(path, user.pw_uid, user.pw_gid)
            os.chown(self._root, user.pw_uid, user.pw_gid)
            (self._root / "userlist.txt").chmod(0o600)

    def _copy_tls_files(self) -> str:
        """Copy the certificate and key where the user PgBouncer runs as can read them; return their settings."""
        if self.tls is None:
            return ""
        assert self._root is not None
        certificate, key = self._root / "server.crt", self._root / "server.key"
        shutil.copyfile(self.tls[0], certificate)
        shutil.copyfile(self.tls[1], key)
        key.chmod(0o600)
        return f"client_tls_sslmode = require\nclient_tls_cert_file = {certificate}\nclient_tls_key_file = {key}\n"
