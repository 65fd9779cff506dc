"""Freeze, reclaim, timeout, throttle and cleanup: what happens to the processes, seen from the kernel."""

from __future__ import annotations

import signal
import threading

import psutil
import pytest

from harness.emulator import ResourceNotFoundError
from tests.integration.emulator.conftest import in_background, process_state, spec, wait_until


def test_an_idle_environment_is_stopped_and_thawed_for_the_next_event(make_lambda):
    lam = make_lambda(spec("Echo", "app.echo"))
    first = lam.invoke("Echo")
    pid = first.payload["pid"]

    assert wait_until(lambda: process_state(pid) == psutil.STATUS_STOPPED)
    second = lam.invoke("Echo")

    assert second.payload["pid"] == pid
    assert second.cold_start is False
    assert wait_until(lambda: process_state(pid) == psutil.STATUS_STOPPED)


def test_an_invocation_that_finds_its_environment_frozen_counts_a_thaw(make_lambda):
    frozen = make_lambda(spec("Echo", "app.echo"))
    running = make_lambda(spec("Echo", "app.echo"), freeze=False)
    for lam in (frozen, running):
        first = lam.invoke("Echo")
        # idle in GET /next with nothing to do: stopped, unless freezing is off
        assert wait_until(lambda lam=lam: lam.environments()[0].state == ("frozen" if lam is frozen else "idle"))
        assert lam.invoke("Echo").environment_id == first.environment_id

    assert [env.thaws for env in frozen.environments()] == [1]
    assert [env.thaws for env in running.environments()] == [0]


def test_timers_do_not_fire_while_frozen(make_lambda):
    frozen = make_lambda(spec("Ticks", "app.ticks"))
    running = make_lambda(spec("Ticks", "app.ticks"), freeze=False)
    for lam in (frozen, running):
        lam.invoke("Ticks", {"start": True})  # a thread ticking every 50 ms, from now on

    # Both sit idle for the same 0.6 s: the running one's thread ticks about 12 times, the frozen one's not at all.
    threading.Event().wait(0.6)
    frozen_ticks = frozen.invoke("Ticks").payload["ticks"]
    running_ticks = running.invoke("Ticks").payload["ticks"]

    assert running_ticks >= 5
    assert frozen_ticks <= 2  # at most the one pending at thaw


def test_reclaim_idle_shuts_the_process_down_and_the_next_call_is_cold(make_lambda):
    lam = make_lambda(spec("Echo", "app.echo"))
    first = lam.invoke("Echo")

    assert lam.reclaim_idle(0) == 1

    assert lam.wait_gone(first.environment_id)
    assert process_state(first.payload["pid"]) is None
    second = lam.invoke("Echo")
    assert second.cold_start is True
    assert second.payload["pid"] != first.payload["pid"]


def test_idle_ttl_reclaims_without_being_asked(make_lambda):
    lam = make_lambda(spec("Echo", "app.echo"), idle_ttl_s=0.2)
    result = lam.invoke("Echo")

    assert lam.wait_gone(result.environment_id, timeout_s=10)
    assert lam.environments() == []


def test_busy_environments_are_not_reclaimed(make_lambda):
    lam = make_lambda(spec("Sleep", "app.sleep", timeout_s=10))
    thread, box = in_background(lambda: lam.invoke("Sleep", {"seconds": 0.5}))
    assert wait_until(lambda: [env.state for env in lam.environments()] == ["busy"])

    assert lam.reclaim_idle(0) == 0
    thread.join()
    assert box[0].function_error is None


def test_timeout_kills_the_environment_and_reports_task_timed_out(make_lambda):
    lam = make_lambda(spec("Sleep", "app.sleep", timeout_s=0.5))

    result = lam.invoke("Sleep", {"seconds": 30})

    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "Sandbox.Timedout"
    assert result.payload["errorMessage"].endswith("Task timed out after 0.50 seconds")
    assert result.request_id in result.payload["errorMessage"]
    assert lam.wait_gone(result.environment_id)
    assert lam.environments() == []


def test_reserved_concurrency_throttles_with_lambdas_reason(make_lambda):
    lam = make_lambda(spec("Sleep", "app.sleep", timeout_s=10, reserved_concurrency=1))
    thread, box = in_background(lambda: lam.invoke("Sleep", {"seconds": 1}))
    assert wait_until(lambda: any(env.state in ("busy", "initialising") for env in lam.environments()))

    throttled = lam.invoke("Sleep", {"seconds": 0})
    thread.join()

    assert throttled.throttled is True
    assert throttled.status_code == 429
    assert throttled.payload["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert box[0].throttled is False
    assert len(lam.environments()) == 1


def test_reserved_concurrency_of_zero_throttles_everything(make_lambda):
    lam = make_lambda(spec("Echo", "app.echo", reserved_concurrency=0))

    assert lam.invoke("Echo").throttled is True
    assert lam.environments() == []


def test_the_emulator_wide_limit_throttles_with_concurrent_invocation_limit(make_lambda):
    lam = make_lambda(spec("Sleep", "app.sleep", timeout_s=10), max_environments=1)
    thread, _ = in_background(lambda: lam.invoke("Sleep", {"seconds": 1}))
    assert wait_until(lambda: len(lam.environments()) == 1)

    throttled = lam.invoke("Sleep", {"seconds": 0})
    thread.join()

    assert throttled.payload["Reason"] == "ConcurrentInvocationLimitExceeded"


def test_killing_an_environment_mid_invocation_is_reported_as_an_exit_error(make_lambda):
    lam = make_lambda(spec("Sleep", "app.sleep", timeout_s=10))
    thread, box = in_background(lambda: lam.invoke("Sleep", {"seconds": 5}))
    assert wait_until(lambda: [env.state for env in lam.environments()] == ["busy"])

    lam.kill(lam.environments()[0].id, signal.SIGKILL)
    thread.join()

    assert box[0].payload["errorType"] == "Runtime.ExitError"
    assert "signal: killed" in box[0].payload["errorMessage"]


def test_unknown_function_raises_resource_not_found(make_lambda):
    lam = make_lambda(spec("Echo", "app.echo"))

    with pytest.raises(ResourceNotFoundError, match="Nope"):
        lam.invoke("Nope")


def test_stop_leaves_no_process_behind(make_lambda):
    lam = make_lambda(spec("Echo", "app.echo"), spec("Sleep", "app.sleep", timeout_s=10))
    lam.prewarm("Echo", 3)
    in_background(lambda: lam.invoke("Sleep", {"seconds": 5}))
    assert wait_until(lambda: len(lam.environments()) == 4)
    pids = [env.pid for env in lam.environments()]

    lam.stop()

    assert all(process_state(pid) is None for pid in pids)
    assert not any(psutil.pid_exists(pid) for pid in pids)


def test_many_threads_never_exceed_reserved_concurrency_and_leave_no_slot_taken(make_lambda):
    lam = make_lambda(spec("Sleep", "app.sleep", timeout_s=10, reserved_concurrency=3))
    seen_environments: set[str] = set()
    outcomes: list[str] = []
    lock = threading.Lock()

    def client():
        for _ in range(15):
            result = lam.invoke("Sleep", {"seconds": 0.01})
            with lock:
                outcomes.append("throttled" if result.throttled else result.function_error or "ok")
                if result.environment_id:
                    seen_environments.add(result.environment_id)

    threads = [threading.Thread(target=client) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert set(outcomes) <= {"ok", "throttled"}
    assert "throttled" in outcomes
    assert len(seen_environments) <= 3
    # Every slot was given back: three calls at once still fit.
    runs = [in_background(lambda: lam.invoke("Sleep", {"seconds": 0.3})) for _ in range(3)]
    for thread, _ in runs:
        thread.join()
    assert not any(box[0].throttled for _, box in runs)


def test_an_environment_in_use_is_not_reclaimed_until_idle_for_the_whole_ttl(make_lambda):
    lam = make_lambda(spec("Echo", "app.echo"), idle_ttl_s=1.5)
    first = lam.invoke("Echo")

    for _ in range(20):  # used every 0.1 s, well past its first TTL deadline
        threading.Event().wait(0.1)
        assert lam.invoke("Echo").environment_id == first.environment_id

    assert lam.wait_gone(first.environment_id, timeout_s=10)


def test_a_cold_start_storm_initialises_a_few_at_a_time(make_lambda):
    from harness.emulator.pool import INIT_PARALLELISM

    lam = make_lambda(spec("Slow", "slow_init.handler", timeout_s=30))
    storm = [in_background(lambda: lam.invoke("Slow")) for _ in range(INIT_PARALLELISM * 2 + 2)]
    most = 0
    while any(thread.is_alive() for thread, _ in storm):
        most = max(most, sum(env.state == "initialising" for env in lam.environments()))
        threading.Event().wait(0.01)
    results = [box[0] for _, box in storm]

    assert all(r.payload == "warm" and r.cold_start for r in results)
    assert 0 < most <= INIT_PARALLELISM
    assert len(lam.environments()) == len(storm)
