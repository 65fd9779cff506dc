"""Where ``harness compare`` runs its servers: ``--postgres embedded`` (the default) or ``--postgres docker``.

The embedded backend is the lab's own (:class:`harness.kit.lab.EmbeddedBackend`). The Docker backend runs the
compose file's Postgres and PgBouncer (:class:`harness.postgres_docker.ComposeStack`), one stack at a time: a
scenario that needs another server profile (another ``max_connections`` or ``idle_session_timeout``) recreates it,
fresh, as the embedded backend would start another server. Both hand the lab the same kinds of objects, so the
scenarios, tables, charts and verdicts do not know which ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal, get_args

from harness.kit.lab import EmbeddedBackend, Lab, ServerBackend, ServerProfile
from harness.postgres_docker import (
    ComposeStack,
    ContainerBouncer,
    ContainerPostgres,
    DockerEngine,
    DockerUnavailableError,
)

__all__ = ["BACKENDS", "Backend", "DockerBackend", "DockerUnavailableError", "backend_for"]

Backend = Literal["embedded", "docker"]
BACKENDS: tuple[str, ...] = get_args(Backend)
COMPOSE_FILE = "docker-compose.yml"


class DockerBackend:
    """The compose file's Postgres and PgBouncer in containers, recreated when the profile changes.

    :meth:`start` finds (or starts) the engine and the images first, so a missing engine is named before any
    scenario runs; :meth:`close` removes the stack and stops an engine it started. ``pool_size`` is PgBouncer's,
    fixed when a stack starts (with its server): the lab's own default.
    """

    def __init__(self, compose_file: Path, *, pool_size: int = Lab.pgbouncer_pool_size) -> None:
        if not compose_file.is_file():
            raise DockerUnavailableError(f"{compose_file} does not exist (the Docker backend runs its services)")
        self.compose_file = compose_file
        self.pool_size = pool_size
        self.engine = DockerEngine()
        self._profile: ServerProfile | None = None
        self._stack: ComposeStack | None = None

    @property
    def has_pgbouncer(self) -> bool:
        return True  # the compose file's image, present once start() returned

    def start(self) -> DockerBackend:
        self.engine.start()
        return self

    def _stack_for(self, profile: ServerProfile, users: Mapping[str, str]) -> ComposeStack:
        if self._stack is not None and self._profile == profile:
            return self._stack
        self._remove_stack()
        self._stack = ComposeStack(
            self.engine,
            self.compose_file,
            max_connections=profile.max_connections,
            idle_session_timeout_s=profile.idle_session_timeout_s,
            users=users,
            pool_size=self.pool_size,
        ).start()
        self._profile = profile
        return self._stack

    def server(self, profile: ServerProfile, *, users: Mapping[str, str]) -> ContainerPostgres:
        server = self._stack_for(profile, users).server
        assert server is not None
        return server

    def bouncer(self, profile: ServerProfile, *, users: Mapping[str, str], pool_size: int) -> ContainerBouncer:
        if pool_size != self.pool_size:
            raise ValueError(f"this Docker backend's PgBouncer pools {self.pool_size} connections, not {pool_size}")
        bouncer = self._stack_for(profile, users).bouncer
        assert bouncer is not None
        return bouncer

    def _remove_stack(self) -> None:
        if self._stack is not None:
            self._stack.cleanup()
        self._stack, self._profile = None, None

    def close(self) -> None:
        try:
            self._remove_stack()
        finally:
            self.engine.stop()


def backend_for(name: str, template: Path) -> ServerBackend:
    """The backend ``--postgres NAME`` names, started; DockerUnavailableError (one line) when Docker cannot serve."""
    if name == "docker":
        return DockerBackend(template.parent / COMPOSE_FILE).start()
    if name != "embedded":
        raise ValueError(f"--postgres must be one of {', '.join(BACKENDS)}, got {name!r}")
    return EmbeddedBackend()
