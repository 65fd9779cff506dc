"""Lambda's execution model, observed on real runtime processes: init once, reuse, one event at a time."""

from __future__ import annotations

import threading

import pytest

from tests.integration.emulator.conftest import FIXTURES, in_background, spec, wait_until


def test_init_runs_once_and_module_globals_survive_across_invocations(make_lambda):
    lam = make_lambda(spec("Echo", "app.echo"))

    first = lam.invoke("Echo", {"n": 1})
    second = lam.invoke("Echo", {"n": 2})
    third = lam.invoke("Echo", {"n": 3})

    assert first.cold_start is True
    assert first.init_duration_ms is not None
    assert (second.cold_start, third.cold_start) == (False, False)
    assert first.environment_id == second.environment_id == third.environment_id
    assert [r.payload["calls"] for r in (first, second, third)] == [1, 2, 3]
    assert third.payload["init_pid"] == first.payload["pid"]
    assert third.payload["event"] == {"n": 3}
    assert len(lam.environments()) == 1


def test_each_environment_runs_one_invocation_at_a_time(make_lambda):
    lam = make_lambda(spec("Sleep", "app.sleep", timeout_s=10))
    barrier = threading.Barrier(3)

    def call():
        barrier.wait()
        return lam.invoke("Sleep", {"seconds": 0.5})

    runs = [in_background(call) for _ in range(3)]
    for thread, _ in runs:
        thread.join()

    results = [box[0] for _, box in runs]
    assert all(r.function_error is None for r in results)
    assert len({r.environment_id for r in results}) == 3
    assert all(r.cold_start for r in results)
    assert len(lam.environments("Sleep")) == 3


def test_a_warm_idle_environment_is_reused_before_a_new_one_starts(make_lambda):
    lam = make_lambda(spec("Echo", "app.echo"))
    lam.prewarm("Echo", 2)

    results = [lam.invoke("Echo") for _ in range(5)]

    assert not any(r.cold_start for r in results)
    assert len(lam.environments()) == 2


def test_prewarm_starts_environments_with_init_done(make_lambda):
    lam = make_lambda(spec("Echo", "app.echo"))

    ids = lam.prewarm("Echo", 3)

    environments = lam.environments("Echo")
    assert sorted(ids) == sorted(env.id for env in environments)
    assert all(env.invocations == 0 for env in environments)
    assert wait_until(lambda: all(env.state == "frozen" for env in lam.environments()))


def test_handler_exception_is_an_unhandled_function_error(make_lambda):
    lam = make_lambda(spec("Fail", "app.fail"))

    result = lam.invoke("Fail", {"why": "bad input"})

    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "ValueError"
    assert result.payload["errorMessage"] == "boom: bad input"
    assert result.payload["stackTrace"]
    assert lam.invoke("Fail").environment_id == result.environment_id  # the environment survives


def test_init_error_is_reported_as_lambda_reports_it(make_lambda):
    lam = make_lambda(spec("Broken", "app.handler", code_uri=FIXTURES / "broken"))

    result = lam.invoke("Broken")

    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'app'" in result.payload["errorMessage"]
    assert wait_until(lambda: lam.environments() == [])


def test_a_runtime_that_exits_mid_invocation_is_a_runtime_exit_error(make_lambda):
    lam = make_lambda(spec("Crash", "app.crash"))

    result = lam.invoke("Crash")

    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "Runtime.ExitError"
    assert "Runtime exited with error: exit status 3" in result.payload["errorMessage"]
    assert lam.environments() == []


def test_standard_lambda_variables_are_set_and_log_streams_are_per_environment(make_lambda):
    fn = spec("Env", "app.environ", env={"CUSTOM": "from-spec"}, memory_mb=512, function_name="env-fn")
    lam = make_lambda(fn, region="eu-west-1")
    lam.prewarm("Env", 2)

    env_a = lam.invoke("Env").payload
    barrier = threading.Barrier(2)

    def call():
        barrier.wait()
        return lam.invoke("Env", {"sleep": 0.3})

    both = [in_background(call) for _ in range(2)]
    for thread, _ in both:
        thread.join()
    streams = {box[0].payload["AWS_LAMBDA_LOG_STREAM_NAME"] for _, box in both}

    assert env_a["AWS_LAMBDA_FUNCTION_NAME"] == "env-fn"
    assert env_a["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env_a["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env_a["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/env-fn"
    assert env_a["AWS_REGION"] == env_a["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env_a["AWS_EXECUTION_ENV"].startswith("AWS_Lambda_python3")
    assert env_a["AWS_SAM_LOCAL"] == "true"
    assert env_a["LAMBDA_TASK_ROOT"] == str(fn.code_uri.resolve())
    assert env_a["_HANDLER"] == "app.environ"
    assert env_a["AWS_ACCESS_KEY_ID"]
    assert env_a["CUSTOM"] == "from-spec"
    assert len(streams) == 2


def test_layer_directory_is_importable_like_opt_python(make_lambda):
    lam = make_lambda(spec("Layer", "uses_layer.handler", layers=(FIXTURES / "layer",)))

    assert lam.invoke("Layer").payload == "from the layer"


def test_log_tail_holds_the_invocation_output_and_the_report_line(make_lambda):
    lam = make_lambda(spec("Echo", "app.echo"))
    lam.invoke("Echo")

    result = lam.invoke("Echo", log_tail=True)

    assert result.log_tail is not None
    assert "echo call 2" in result.log_tail
    assert "echo call 1" not in result.log_tail
    assert f"START RequestId: {result.request_id}" in result.log_tail
    assert f"REPORT RequestId: {result.request_id}" in result.log_tail
    assert lam.invoke("Echo").log_tail is None


def test_event_invocations_run_in_the_background(make_lambda):
    lam = make_lambda(spec("Echo", "app.echo"))

    lam.invoke_event("Echo", {"async": True})

    assert wait_until(lambda: sum(env.invocations for env in lam.environments()) == 1)


def test_response_over_6_mb_is_function_response_size_too_large(make_lambda):
    lam = make_lambda(spec("Big", "app.big"))

    result = lam.invoke("Big")

    assert result.function_error == "Unhandled"
    assert result.payload["errorType"] == "Function.ResponseSizeTooLarge"
    assert lam.invoke("Big").cold_start is False  # the environment survives, as in Lambda


def test_client_context_reaches_the_handler(make_lambda):
    lam = make_lambda(spec("Echo", "app.echo"))

    result = lam.invoke("Echo", client_context={"custom": {"tenant": "a"}, "env": {}, "client": {}})

    assert result.payload["client_custom"] == {"tenant": "a"}


def test_a_function_whose_code_directory_is_missing_is_refused_at_registration(make_lambda, tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        make_lambda(spec("Gone", "app.handler", code_uri=tmp_path / "nowhere"))


def test_a_failed_event_invocation_is_retried_twice_like_lambda(make_lambda):
    lam = make_lambda(spec("Fail", "app.fail"), event_retry_delays_s=(0.05, 0.05))

    lam.invoke_event("Fail", {"why": "always"})

    assert wait_until(lambda: sum(env.invocations for env in lam.environments()) == 3)
    threading.Event().wait(0.3)
    assert sum(env.invocations for env in lam.environments()) == 3  # and not a fourth time
