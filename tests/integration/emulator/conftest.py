"""Fixtures for the emulator's integration tests: real awslambdaric processes running tiny handlers.

``make_lambda`` runs each test that uses it in both start modes: environments forked from a pre-imported server
(``fork``, the default) and a fresh interpreter each (``fresh``); the same behaviour must hold in both.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from harness.emulator import FunctionSpec, LocalLambda

FIXTURES = Path(__file__).parent / "fixtures"
BASIC = FIXTURES / "basic"


def spec(name: str, handler: str, **options: Any) -> FunctionSpec:
    """A function from the ``basic`` fixture directory."""
    return FunctionSpec(name, options.pop("code_uri", BASIC), handler, **options)


START_MODES = ("fork", "fresh")


@pytest.fixture(params=START_MODES)
def start_mode(request: pytest.FixtureRequest) -> str:
    """Each start mode in turn."""
    return str(request.param)


@pytest.fixture
def make_lambda(start_mode: str) -> Iterator[Callable[..., LocalLambda]]:
    """Start a LocalLambda with the given specs and options; every one started is stopped after the test."""
    started: list[LocalLambda] = []

    def make(*specs: FunctionSpec, **options: Any) -> LocalLambda:
        options.setdefault("start_mode", start_mode)
        lam = LocalLambda(specs, **options).start()
        started.append(lam)
        return lam

    yield make
    for lam in started:
        lam.stop()


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Poll ``condition`` until true or ``timeout_s`` passed (for state that changes asynchronously)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def in_background(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """Run ``fn`` in a thread; its result lands in the returned list."""
    box: list[Any] = []
    thread = threading.Thread(target=lambda: box.append(fn()))
    thread.start()
    return thread, box


def process_state(pid: int) -> str | None:
    """``pid``'s state as psutil names it (``stopped`` once frozen, ``zombie`` unreaped), or None once gone."""
    try:
        return str(psutil.Process(pid).status())
    except psutil.NoSuchProcess:
        return None
