"""Lambda's Invoke API, called with a real boto3 lambda client pointed at the emulator."""

from __future__ import annotations

import base64
import json
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from harness.emulator import LocalLambda
from tests.integration.emulator.conftest import FIXTURES, in_background, spec, wait_until


@pytest.fixture
def served(make_lambda):
    return make_lambda(
        spec("Echo", "app.echo", function_name="stack-echo"),
        spec("Fail", "app.fail"),
        spec("Sleep", "app.sleep", timeout_s=10, reserved_concurrency=1),
        serve=True,
    )


@pytest.fixture
def client(served):
    return boto3.client(
        "lambda",
        endpoint_url=served.invoke_api_url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1}),
    )


def test_request_response_returns_the_payload(client):
    response = client.invoke(FunctionName="Echo", Payload=json.dumps({"hello": "world"}))

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read())["event"] == {"hello": "world"}
    assert response["ExecutedVersion"] == "$LATEST"


def test_physical_name_and_arn_reach_the_same_function(client):
    by_name = json.loads(client.invoke(FunctionName="stack-echo")["Payload"].read())
    arn = "arn:aws:lambda:us-east-1:123456789012:function:stack-echo"
    by_arn = json.loads(client.invoke(FunctionName=arn)["Payload"].read())

    assert by_name["pid"] == by_arn["pid"]


def test_log_type_tail_returns_the_log_base64(client):
    response = client.invoke(FunctionName="Echo", LogType="Tail")

    log = base64.b64decode(response["LogResult"]).decode()
    assert "echo call 1" in log
    assert "REPORT RequestId" in log


def test_function_error_sets_the_header_and_lambdas_error_payload(client):
    response = client.invoke(FunctionName="Fail", Payload=b'{"why": "because"}')

    assert response["FunctionError"] == "Unhandled"
    payload = json.loads(response["Payload"].read())
    assert payload["errorType"] == "ValueError"
    assert payload["errorMessage"] == "boom: because"


def test_unknown_function_is_resource_not_found(client):
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="Nope"):
        client.invoke(FunctionName="Nope")


def test_payload_that_is_not_json_is_invalid_request_content(client, served):
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName="Echo", Payload=b"{not json")
    assert served.environments() == []


def test_payload_over_6_mb_is_request_entity_too_large(client, served):
    with pytest.raises(ClientError) as caught:
        client.invoke(FunctionName="Echo", Payload=json.dumps({"blob": "x" * (6 * 1024 * 1024)}))

    assert caught.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert served.environments() == []


def test_throttled_call_is_too_many_requests_with_reason(client, served):
    thread, _ = in_background(lambda: served.invoke("Sleep", {"seconds": 1}))
    assert wait_until(lambda: len(served.environments("Sleep")) == 1)

    with pytest.raises(client.exceptions.TooManyRequestsException) as caught:
        client.invoke(FunctionName="Sleep", Payload=b'{"seconds": 0}')
    thread.join()

    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert caught.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"


def test_event_invocation_is_accepted_and_runs_in_the_background(client, served):
    response = client.invoke(FunctionName="Echo", InvocationType="Event", Payload=b"{}")

    assert response["StatusCode"] == 202
    assert wait_until(lambda: sum(env.invocations for env in served.environments("Echo")) == 1)


def test_dry_run_checks_without_running(client, served):
    assert client.invoke(FunctionName="Echo", InvocationType="DryRun")["StatusCode"] == 204
    assert served.environments() == []


def test_environments_route_lists_them_as_json(client, served):
    client.invoke(FunctionName="Echo")

    with urllib.request.urlopen(f"{served.invoke_api_url}/_emulator/environments") as response:
        listed = json.loads(response.read())["environments"]

    assert [(env["function"], env["invocations"]) for env in listed] == [("Echo", 1)]
    assert listed[0]["state"] in ("idle", "frozen")
    assert listed[0]["pid"] > 0


def test_template_functions_are_served_under_their_logical_id():
    with LocalLambda.from_template(FIXTURES / "template.yaml", serve=True) as served:
        client = boto3.client(
            "lambda",
            endpoint_url=served.invoke_api_url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        assert json.loads(client.invoke(FunctionName="LayerFunction")["Payload"].read()) == "from the layer"
