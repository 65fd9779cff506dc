"""How environments start: forked from a pre-imported server per interpreter, or a fresh interpreter each.

What a fork would copy (the process group, random state, the working directory, the log stream) must be the
environment's own; the emulator must still own the processes (a killed fork server takes its environments with it,
and later ones start fresh); each function runs on the interpreter its ``Runtime`` names.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request

import psutil
import pytest

from harness.emulator import LocalLambda
from harness.emulator.runtimes import find_python
from tests.integration.emulator.conftest import BASIC, in_background, process_state, spec, wait_until


def _two_at_once(lam: LocalLambda, function: str) -> list[dict]:
    """Two concurrent invocations, so two environments start and each answers once."""
    runs = [in_background(lambda: lam.invoke(function, {"sleep": 0.3})) for _ in range(2)]
    for thread, _ in runs:
        thread.join()
    results = [box[0] for _, box in runs]
    assert all(result.function_error is None for result in results), [r.payload for r in results]
    return [result.payload for result in results]


def test_forked_environments_are_session_leaders_with_their_own_init_random_state_and_paths():
    with LocalLambda([spec("Who", "app.identity", timeout_s=10)], start_mode="fork") as lam:
        first, second = _two_at_once(lam, "Who")
        infos = lam.environments()

    assert first["pid"] != second["pid"]
    for who in (first, second):
        assert who["sid"] == who["pgid"] == who["pid"]  # the emulator signals this process group
        assert who["cwd"] == str(BASIC.resolve())
        assert who["path"][1] == str(BASIC.resolve())  # LAMBDA_TASK_ROOT first, as PYTHONPATH puts it
        assert who["threads"] == 1
    assert first["init_random"] != second["init_random"]  # each init drew from its own, re-seeded state
    assert first["random"] != second["random"]
    assert first["stream"] != second["stream"]
    assert {info.start_mode for info in infos} == {"fork"}


def test_fork_and_fresh_say_which_ran_and_a_fork_cannot_give_a_new_hash_seed():
    seen = {}
    for mode in ("fork", "fresh"):
        with LocalLambda([spec("Who", "app.identity", timeout_s=10)], start_mode=mode) as lam:
            assert lam.start_mode == mode
            result = lam.invoke("Who")
            assert result.start_mode == mode
            assert result.cold_start is True
            assert result.init_duration_ms is not None
            assert result.init_duration_ms > 0
            seen[mode] = _two_at_once(lam, "Who")

    # Documented: forked environments share the server's str hash seed; fresh interpreters draw their own.
    assert seen["fork"][0]["hash"] == seen["fork"][1]["hash"]
    assert seen["fresh"][0]["hash"] != seen["fresh"][1]["hash"]


def test_the_environments_route_says_which_start_mode_ran():
    with LocalLambda([spec("Echo", "app.echo")], serve=True, start_mode="fork") as lam:
        lam.invoke("Echo")
        with urllib.request.urlopen(f"{lam.invoke_api_url}/_emulator/environments", timeout=10) as response:
            body = json.loads(response.read())

    assert [env["start_mode"] for env in body["environments"]] == ["fork"]


def test_a_killed_fork_server_takes_its_environments_with_it_and_later_ones_start_fresh():
    with LocalLambda([spec("Echo", "app.echo")], start_mode="fork") as lam:
        first = lam.invoke("Echo")
        (server,) = lam.pool.starters.servers()

        os.kill(server.pid, signal.SIGKILL)

        assert lam.wait_gone(first.environment_id, timeout_s=10)
        assert process_state(first.payload["pid"]) in (None, psutil.STATUS_ZOMBIE)
        second = lam.invoke("Echo")
        assert second.function_error is None
        assert second.cold_start is True
        assert second.start_mode == "fresh"
        assert any("fork server" in note for note in lam.notes)


def test_freezing_and_thawing_environments_does_not_wake_the_fork_server():
    # A stopped or continued child sends its parent SIGCHLD; the server sees exits through pidfds instead, so the
    # two signals of every frozen invocation cost it nothing (with a SIGCHLD handler it woke twice per call).
    calls = 50
    with LocalLambda([spec("Echo", "app.echo")], start_mode="fork") as lam:
        lam.invoke("Echo")
        (server,) = lam.pool.starters.servers()
        before = psutil.Process(server.pid).num_ctx_switches().voluntary

        for _ in range(calls):
            assert wait_until(lambda: lam.environments()[0].state == "frozen")  # so that every call thaws it
            assert lam.invoke("Echo").function_error is None

        woken = psutil.Process(server.pid).num_ctx_switches().voluntary - before
        (env,) = lam.environments()
    assert env.thaws == calls
    assert woken < calls / 5, f"the fork server woke {woken} times in {calls} frozen invocations"


def test_an_environment_that_exits_is_reaped_by_the_fork_server_and_reported():
    with LocalLambda([spec("Echo", "app.echo")], start_mode="fork") as lam:
        first = lam.invoke("Echo")
        (server,) = lam.pool.starters.servers()
        os.killpg(first.payload["pid"], signal.SIGKILL)

        assert lam.wait_gone(first.environment_id, timeout_s=10)
        assert wait_until(lambda: process_state(first.payload["pid"]) is None)  # reaped, not left a zombie
        assert psutil.Process(server.pid).is_running()
        assert lam.invoke("Echo").function_error is None


def test_stop_leaves_neither_the_fork_server_nor_its_environments_behind():
    lam = LocalLambda([spec("Echo", "app.echo"), spec("Sleep", "app.sleep", timeout_s=10)], start_mode="fork").start()
    try:
        lam.prewarm("Echo", 3)
        in_background(lambda: lam.invoke("Sleep", {"seconds": 5}))
        assert wait_until(lambda: len(lam.environments()) == 4)
        pids = [env.pid for env in lam.environments()] + [server.pid for server in lam.pool.starters.servers()]
    finally:
        lam.stop()

    assert not any(psutil.pid_exists(pid) and process_state(pid) != psutil.STATUS_ZOMBIE for pid in pids)


def test_a_function_setting_a_variable_read_at_interpreter_start_runs_fresh_with_a_note():
    with LocalLambda([spec("Who", "app.identity", env={"PYTHONHASHSEED": "0"})], start_mode="fork") as lam:
        result = lam.invoke("Who")
        notes = lam.notes

    seeded = subprocess.run(
        [sys.executable, "-c", "print(hash('same text'))"],
        env={**os.environ, "PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.start_mode == "fresh"
    assert result.payload["hash"] == int(seeded.stdout)  # the variable took effect, as it only can at start-up
    assert any("PYTHONHASHSEED" in note for note in notes)


def test_the_fork_server_reports_modules_it_cannot_import_and_learns_what_an_init_imported():
    with LocalLambda([spec("Learns", "learns.handler")], start_mode="fork", preload=["no_such_module_here"]) as lam:
        first = lam.invoke("Learns")
        assert wait_until(lambda: "modules the first inits imported" in " ".join(lam.describe_start()))
        (line,) = lam.describe_start()
        lam.reclaim_idle(0)
        assert lam.wait_gone(first.environment_id)
        second = lam.invoke("Learns")

    assert "not importable: no_such_module_here" in line
    assert first.payload == {"already_imported": False, "half": "1/2"}
    assert second.payload == {"already_imported": True, "half": "1/2"}  # its init found it imported by the server
    assert second.cold_start is True


@pytest.mark.parametrize("mode", ["fork", "fresh"])
def test_a_function_runs_on_the_python_its_runtime_names(mode):
    if find_python("3.13") is None:
        pytest.skip("no Python 3.13 on PATH or in pyenv")
    with LocalLambda([spec("Who", "app.identity", runtime="python3.13")], start_mode=mode) as lam:
        result = lam.invoke("Who")
        assert lam.notes == []

    assert result.function_error is None, result.payload
    assert result.payload["version"] == "3.13"
    assert result.payload["execution_env"] == "AWS_Lambda_python3.13"


def test_a_runtime_that_is_not_installed_is_noted_and_the_function_runs_on_the_emulators_python():
    with LocalLambda([spec("Who", "app.identity", runtime="python3.99")]) as lam:
        result = lam.invoke("Who")
        notes = lam.notes

    assert result.function_error is None
    assert result.payload["execution_env"] == f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}"
    assert any("python3.99 not found" in note for note in notes)


def test_many_forked_environments_started_at_once_all_answer(make_lambda):
    lam = make_lambda(spec("Sleep", "app.sleep", timeout_s=30))
    outcomes: list[str] = []
    lock = threading.Lock()

    def client() -> None:
        result = lam.invoke("Sleep", {"seconds": 0.5})
        with lock:
            outcomes.append(result.function_error or "ok")

    threads = [threading.Thread(target=client) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == ["ok"] * 24
    assert len(lam.environments()) == 24


def test_a_library_that_reads_a_lambda_variable_at_import_sees_it_when_the_fork_server_imported_it():
    with LocalLambda([spec("Reads", "reads_env_at_import.handler")], start_mode="fork") as lam:
        first = lam.invoke("Reads")
        assert wait_until(lambda: "modules the first inits imported" in " ".join(lam.describe_start()))
        lam.reclaim_idle(0)
        assert lam.wait_gone(first.environment_id)
        second = lam.invoke("Reads")  # aws_lambda_powertools was imported by the server this time

    for result in (first, second):
        assert result.payload["seen_at_import"] == result.payload["now"]
