"""When an idle environment goes: at the end of its TTL, to make room for a new one, or when the harness asks.

Lambda keeps an environment warm for a while after its last event, then reclaims it; at the concurrency limit a new
environment takes the place of the longest-idle one. :class:`~harness.emulator.pool.Pool` decides which environment
runs an event; this module decides which idle one is retired and when, so the TTL timers have one owner and the
scheduler reads without them. Everything here runs on the event loop thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from harness.emulator.environment import Environment

__all__ = ["IdleReclaimer", "evict_longest_idle", "retire_idle"]


class IdleReclaimer:
    """Retires an environment idle for ``idle_ttl_s`` (None: never), by a timer per environment (no sweeping loop)."""

    def __init__(self, idle_ttl_s: float | None) -> None:
        if idle_ttl_s is not None and idle_ttl_s <= 0:
            raise ValueError(f"idle_ttl_s must be positive (or None to keep environments), got {idle_ttl_s}")
        self.idle_ttl_s = idle_ttl_s
        self._timers: dict[Environment, asyncio.TimerHandle] = {}

    def watch(self, env: Environment) -> None:
        """``env`` has just become idle: arm its timer, unless one is armed already (that one re-arms itself)."""
        if self.idle_ttl_s is not None and env not in self._timers:
            self._timers[env] = asyncio.get_running_loop().call_later(self.idle_ttl_s, self._check, env)

    def forget(self, env: Environment) -> None:
        """``env`` is gone: cancel its timer."""
        timer = self._timers.pop(env, None)
        if timer is not None:
            timer.cancel()

    def _check(self, env: Environment) -> None:
        """One timer per environment, re-armed for what is left of its TTL (not one per invocation)."""
        del self._timers[env]
        if env.state != "idle" or self.idle_ttl_s is None:
            return  # busy now: becoming idle again arms a new timer
        left = self.idle_ttl_s - (time.monotonic() - env.last_used)
        if left <= 0:
            env.terminate("idle")
        else:
            self._timers[env] = asyncio.get_running_loop().call_later(left, self._check, env)


def evict_longest_idle(idle: Iterable[Environment]) -> None:
    """Make room for a new environment by reclaiming the longest-idle one (of any function), as Lambda does."""
    candidates = [env for env in idle if env.state == "idle"]
    if candidates:
        min(candidates, key=lambda env: env.last_used).terminate("evicted")


def retire_idle(environments: Iterable[Environment], older_than_s: float) -> int:
    """Shut down the environments idle at least ``older_than_s``; returns how many."""
    now = time.monotonic()
    old = [env for env in environments if env.state == "idle" and now - env.last_used >= older_than_s]
    for env in old:
        env.terminate("idle")
    return len(old)
