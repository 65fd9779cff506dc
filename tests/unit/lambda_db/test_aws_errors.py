"""Which SDK errors reading a secret are for now (503, retried) and which for good (500), on real botocore errors."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    ReadTimeoutError,
)

from lambda_db.aws_errors import aws_error_name, is_transient_aws_error

ENDPOINT = "https://secretsmanager.us-east-1.amazonaws.com"


def client_error(code: str, status: int) -> ClientError:
    """The error botocore raises when Secrets Manager answers GetSecretValue with ``code`` and ``status``."""
    response = {"Error": {"Code": code, "Message": f"{code} happened"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "GetSecretValue")


@pytest.mark.parametrize(
    "error",
    [
        client_error("ThrottlingException", 400),
        client_error("TooManyRequestsException", 400),
        client_error("RequestLimitExceeded", 400),
        client_error("InternalServiceError", 500),
        client_error("InternalFailure", 500),
        client_error("ServiceUnavailable", 503),
        client_error("SomethingNewOnTheServerSide", 502),  # any 5xx, whatever the code
        client_error("SlowDownPlease", 429),  # an unknown code with Too Many Requests
        EndpointConnectionError(endpoint_url=ENDPOINT),
        ConnectTimeoutError(endpoint_url=ENDPOINT),
        ReadTimeoutError(endpoint_url=ENDPOINT),
        ConnectionClosedError(endpoint_url=ENDPOINT),
    ],
    ids=lambda error: aws_error_name(error),
)
def test_throttling_a_failing_service_or_no_connection_is_transient(error: Exception) -> None:
    assert is_transient_aws_error(error)


@pytest.mark.parametrize(
    "error",
    [
        client_error("AccessDeniedException", 400),
        client_error("ResourceNotFoundException", 400),
        client_error("DecryptionFailure", 400),
        client_error("InvalidRequestException", 400),  # e.g. the secret is scheduled for deletion
        client_error("InvalidParameterException", 400),
        client_error("UnrecognizedClientException", 403),
        NoCredentialsError(),
        NoRegionError(),
        ParamValidationError(report="Invalid length for parameter SecretId"),
        ValueError("not an SDK error"),
    ],
    ids=lambda error: aws_error_name(error),
)
def test_a_refusal_or_a_local_setup_problem_is_not_transient(error: Exception) -> None:
    assert not is_transient_aws_error(error)


def test_a_client_error_without_a_status_is_judged_by_its_code() -> None:
    without_metadata = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
    assert is_transient_aws_error(ClientError(without_metadata, "GetSecretValue"))
    denied = {"Error": {"Code": "AccessDeniedException", "Message": "no"}}
    assert not is_transient_aws_error(ClientError(denied, "GetSecretValue"))


def test_a_client_error_is_named_by_its_aws_code_any_other_error_by_its_class() -> None:
    assert aws_error_name(client_error("ResourceNotFoundException", 400)) == "ResourceNotFoundException"
    assert aws_error_name(ClientError({}, "GetSecretValue")) == "ClientError"
    assert aws_error_name(EndpointConnectionError(endpoint_url=ENDPOINT)) == "EndpointConnectionError"
