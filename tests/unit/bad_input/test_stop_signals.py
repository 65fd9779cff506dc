"""SIGTERM and SIGHUP become a Ctrl-C for the command's run, and only for it."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

import pytest

from harness import cli


def test_a_stop_signal_raises_stopped_and_a_second_one_is_ignored_during_cleanup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    def run(args: Any) -> int:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            signal.pause()  # the handler raises here
        finally:
            seen["second"] = signal.getsignal(signal.SIGHUP)  # what a SIGHUP during cleanup would meet
        return 0

    monkeypatch.setitem(cli.COMMANDS, "pitfalls", "harness.pitfalls.cli")
    monkeypatch.setattr("harness.pitfalls.cli.run", run)
    before = {signum: signal.getsignal(signum) for signum in cli.STOP_SIGNALS}

    assert cli.main(["pitfalls"]) == 128 + signal.SIGTERM
    assert seen["second"] == signal.SIG_IGN
    assert {signum: signal.getsignal(signum) for signum in cli.STOP_SIGNALS} == before  # restored


def test_from_another_thread_the_handlers_are_left_alone() -> None:
    installed: list[dict[int, Any]] = []
    thread = threading.Thread(target=lambda: installed.append(cli.install_stop_handlers()))
    thread.start()
    thread.join()

    assert installed == [{}]
