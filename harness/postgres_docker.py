"""The lab's Postgres and PgBouncer in containers, from the project's ``docker-compose.yml``.

``harness compare --postgres docker`` runs every scenario against these instead of the embedded server. The compose
file's ``postgres`` and ``pgbouncer`` services are taken as they are (images, entrypoint variables, healthcheck) and
given the lab's settings, the same the embedded server gets (``max_connections``, ``idle_session_timeout``, the
durability settings off, the log line prefix), so the two backends write comparable reports. Each stack is its own
compose project with its own network and ephemeral loopback ports, so a user's ``docker compose up`` is left alone.

The Docker engine and the images come from ``scripts/docker/engine.sh`` and ``scripts/docker/images.sh`` (an engine
started as root where none answers, offline stand-ins where no registry does); an engine started here is stopped by
:meth:`DockerEngine.stop`. Postgres logs to a file in a host directory mounted into the container, so connections
opened are counted from the log as on the embedded server, and the backends' pids are mapped to this machine's
processes (through their pid namespace) so that their memory is measured too.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from harness.postgres_admin import SUPERUSER, ExternalPostgres
from harness.postgres_log import LOG_LINE_PREFIX
from harness.postgres_server import LAB_SETTINGS

__all__ = ["ComposeStack", "ContainerBouncer", "ContainerPostgres", "DockerEngine", "DockerUnavailableError"]

REPO = Path(__file__).resolve().parents[1]
ENGINE_SCRIPT = REPO / "scripts" / "docker" / "engine.sh"
IMAGES_SCRIPT = REPO / "scripts" / "docker" / "images.sh"
LOG_DIR_IN_CONTAINER = "/var/log/lab"
LOG_FILE = "postgres.log"
BOUNCER_PORT = 6432
START_TIMEOUT_S = 180


class DockerUnavailableError(RuntimeError):
    """No Docker engine, image or compose file to run the servers in; the message is one line saying which."""


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip() and not line.startswith("==>")]
    return lines[-1] if lines else "no message"


class DockerEngine:
    """A Docker engine for the lab (the one that answers, or one ``engine.sh`` starts) with the compose images."""

    def __init__(self) -> None:
        self.env: dict[str, str] = dict(os.environ)
        self.started_here = False

    def start(self) -> DockerEngine:
        """Find or start the engine and make sure the compose file's images exist; DockerUnavailableError if not."""
        if shutil.which("docker") is None:
            raise DockerUnavailableError("the docker client is not installed (Debian: apt-get install docker.io)")
        if not ENGINE_SCRIPT.is_file():
            raise DockerUnavailableError(f"{ENGINE_SCRIPT.name} is not here: run from a checkout of the project")
        done = self._script(ENGINE_SCRIPT, "start")
        if done.returncode != 0:
            raise DockerUnavailableError(_last_line(done.stderr))
        for line in done.stdout.splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            if name == "DOCKER_HOST":
                self.env["DOCKER_HOST"] = value
            elif name == "DOCKER_ENGINE_STARTED":
                self.started_here = True
        try:
            images = self._script(IMAGES_SCRIPT, "--compose")
            if images.returncode != 0:
                raise DockerUnavailableError(f"the compose images could not be had: {_last_line(images.stderr)}")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the engine if :meth:`start` started it (an engine that was already running is left running)."""
        if self.started_here:
            self._script(ENGINE_SCRIPT, "stop")
            self.started_here = False

    def _script(self, script: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(script), *args], cwd=REPO, env=self.env, capture_output=True, text=True, check=False
        )

    def docker(self, *args: str, timeout: float = START_TIMEOUT_S) -> str:
        """Run one ``docker`` command; its stdout, or RuntimeError with the last line it wrote to stderr."""
        done = subprocess.run(
            ["docker", *args], env=self.env, capture_output=True, text=True, check=False, timeout=timeout
        )
        if done.returncode != 0:
            raise RuntimeError(f"docker {args[0]} {args[1] if len(args) > 1 else ''}: {_last_line(done.stderr)}")
        return done.stdout


class ContainerPostgres(ExternalPostgres):
    """The Postgres of a :class:`ComposeStack`, reached on its published loopback port as the superuser."""

    def __init__(self, database_url: str, *, log_path: Path, engine: DockerEngine, container: str) -> None:
        super().__init__(database_url)
        self.log_path = log_path
        self._engine = engine
        self._container = container
        self._host_pids: dict[int, int] = {}

    def connection_log(self) -> Path | None:
        return self.log_path if self.log_path.exists() else None

    def host_pids(self, pids: Sequence[int]) -> list[int]:
        if any(pid not in self._host_pids for pid in pids):
            self._host_pids = self._scan_namespace()
        return [self._host_pids[pid] for pid in pids if pid in self._host_pids]

    def _scan_namespace(self) -> dict[int, int]:
        """Container pid -> host pid for every process in the container's pid namespace (empty if not readable)."""
        try:
            init = int(self._engine.docker("inspect", "-f", "{{.State.Pid}}", self._container).strip())
            namespace = os.readlink(f"/proc/{init}/ns/pid")
        except (RuntimeError, ValueError, OSError):
            return {}
        found: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                if os.readlink(entry / "ns" / "pid") != namespace:
                    continue
                for line in (entry / "status").read_text().splitlines():
                    if line.startswith("NSpid:"):
                        found[int(line.split()[-1])] = int(entry.name)
        return found


class ContainerBouncer:
    """The PgBouncer of a :class:`ComposeStack` (transaction mode), on its published loopback port."""

    def __init__(self, port: int) -> None:
        self.host = "127.0.0.1"
        self.port = port

    def url(self, database: str, *, user: str, password: str) -> str:
        auth = f"{quote(user, safe='')}:{quote(password, safe='')}"
        return f"postgresql+psycopg2://{auth}@{self.host}:{self.port}/{database}"


class ComposeStack:
    """The compose file's ``postgres`` and ``pgbouncer`` services as one new compose project, with the lab's settings.

    Parameters
    ----------
    compose_file:
        The project's ``docker-compose.yml``.
    max_connections, idle_session_timeout_s:
        The server's settings (the scenario's profile).
    users:
        Login role -> password: created on the server, and PgBouncer's user (one; the lab has one role).
    pool_size:
        PgBouncer's ``DEFAULT_POOL_SIZE``.
    """

    def __init__(
        self,
        engine: DockerEngine,
        compose_file: Path,
        *,
        max_connections: int,
        idle_session_timeout_s: float | None,
        users: Mapping[str, str],
        pool_size: int,
    ) -> None:
        if len(users) != 1:
            raise ValueError(f"the compose PgBouncer authenticates one role, got {len(users)}")
        self.engine = engine
        self.compose_file = compose_file
        self.max_connections = max_connections
        self.idle_session_timeout_s = idle_session_timeout_s
        self.users = dict(users)
        self.pool_size = pool_size
        self.project = f"serverless-sqlalchemy-lab-{uuid.uuid4().hex[:8]}"
        self._superuser_password = secrets.token_urlsafe(16)
        self._root: Path | None = None
        self.server: ContainerPostgres | None = None
        self.bouncer: ContainerBouncer | None = None

    def start(self) -> ComposeStack:
        """``docker compose up -d --wait`` of the derived project; failed or interrupted, it removes what it made."""
        try:
            self._root = Path(tempfile.mkdtemp(prefix="serverless-sqlalchemy-compose-"))
            logs = self._root / "log"
            logs.mkdir()
            logs.chmod(0o777)  # the container's postgres user writes here
            (self._root / "compose.json").write_text(json.dumps(self._project_file(logs)))
            self._compose("up", "-d", "--wait", "--quiet-pull")
            self._connect(logs / LOG_FILE)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            self.cleanup()
            raise DockerUnavailableError(f"the compose services did not start: {exc}") from exc
        except BaseException:
            self.cleanup()
            raise
        return self

    def cleanup(self) -> None:
        """``docker compose down --volumes`` and the host directory; idempotent."""
        if self._root is None:
            return
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._compose("down", "--volumes", "--remove-orphans", "--timeout", "5")
        shutil.rmtree(self._root, ignore_errors=True)
        self._root = None
        self.server = self.bouncer = None

    def _compose(self, *args: str) -> str:
        assert self._root is not None
        return self.engine.docker("compose", "-p", self.project, "-f", str(self._root / "compose.json"), *args)

    def _published(self, service: str, port: int) -> int:
        address = self._compose("port", service, str(port)).strip().splitlines()[0]
        return int(address.rsplit(":", 1)[1])

    def _connect(self, log_path: Path) -> None:
        (container,) = self._compose("ps", "-q", "postgres").split()
        url = f"postgresql://{SUPERUSER}:{quote(self._superuser_password, safe='')}@127.0.0.1"
        url += f":{self._published('postgres', 5432)}/postgres"
        self.server = ContainerPostgres(url, log_path=log_path, engine=self.engine, container=container)
        for name, password in self.users.items():
            self.server.create_role(name, password)
        self.bouncer = ContainerBouncer(self._published("pgbouncer", BOUNCER_PORT))

    # -- the derived compose project -------------------------------------------------------------------------------
    def _settings(self) -> list[str]:
        settings = {
            **LAB_SETTINGS,
            "max_connections": str(self.max_connections),
            "log_line_prefix": LOG_LINE_PREFIX.strip("'"),  # quotes belong to postgresql.conf, not to -c
            "log_connections": "on",
            "logging_collector": "on",
            "log_directory": LOG_DIR_IN_CONTAINER,
            "log_filename": LOG_FILE,
            "log_file_mode": "0644",
            "log_rotation_size": "0",
            "log_rotation_age": "0",
        }
        if self.idle_session_timeout_s is not None:
            settings["idle_session_timeout"] = f"{int(self.idle_session_timeout_s * 1000)}ms"
        return [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]

    def _project_file(self, logs: Path) -> dict[str, Any]:
        try:
            document = yaml.safe_load(self.compose_file.read_text())
            postgres, bouncer = (dict(document["services"][name]) for name in ("postgres", "pgbouncer"))
        except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
            raise DockerUnavailableError(f"{self.compose_file}: no postgres and pgbouncer services ({exc})") from exc
        ((user, password),) = self.users.items()
        postgres.update(
            command=["postgres", *self._settings()],
            environment={
                "POSTGRES_USER": SUPERUSER,
                "POSTGRES_DB": "postgres",
                "POSTGRES_PASSWORD": self._superuser_password,
            },
            ports=["127.0.0.1::5432"],
            volumes=[f"{logs}:{LOG_DIR_IN_CONTAINER}"],
            networks=["lab"],
        )
        postgres["healthcheck"] = {**postgres.get("healthcheck", {}), "test": ["CMD", "pg_isready", "-U", SUPERUSER]}
        environment = {k: v for k, v in dict(bouncer.get("environment") or {}).items() if k != "DB_NAME"}
        environment.update(  # every database (the lab makes one per run), the embedded PgBouncer's pool settings
            DB_HOST="postgres",
            DB_USER=user,
            DB_PASSWORD=password,
            LISTEN_PORT=str(BOUNCER_PORT),
            POOL_MODE="transaction",
            DEFAULT_POOL_SIZE=str(self.pool_size),
            MIN_POOL_SIZE="0",
            RESERVE_POOL_SIZE="0",
            MAX_CLIENT_CONN="1000",
            SERVER_IDLE_TIMEOUT="60",
            SERVER_LIFETIME="3600",
        )
        bouncer.update(environment=environment, ports=[f"127.0.0.1::{BOUNCER_PORT}"], networks=["lab"])
        return {
            "name": self.project,
            "services": {"postgres": postgres, "pgbouncer": bouncer},
            "networks": {"lab": {"name": self.project}},
        }
