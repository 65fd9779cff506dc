"""Which AWS SDK errors may go away by themselves, and what to call an SDK error in a message.

Reading the database secret can fail for good (access denied, no such secret, a KMS key that will not decrypt it)
or for now (Secrets Manager throttles us, fails on its side, or cannot be reached). The first is a configuration
problem: retrying will not help, the function answers 500 and someone must fix it. The second is an outage: the
function answers 503 with ``Retry-After`` and the client tries again. botocore has already retried by the time we
see the error (``AWS_MAX_ATTEMPTS``, ``AWS_RETRY_MODE``); this module only says which kind the final error is.
"""

from __future__ import annotations

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

__all__ = ["aws_error_name", "is_transient_aws_error"]

# "Slow down": the throttling codes of botocore's retry handler that an AWS API answers with.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "RequestThrottled",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
    }
)
# A failure on the service's side (``InternalServiceError`` is the one Secrets Manager models).
SERVICE_FAILURE_CODES = frozenset(
    {
        "InternalServiceError",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
TOO_MANY_REQUESTS = 429
FIRST_SERVER_ERROR = 500


def is_transient_aws_error(error: BaseException) -> bool:
    """True when an AWS SDK error may go away by itself: throttling, a failure on AWS's side, no connection.

    - ``ClientError`` (the service answered): transient when its code is a throttling or service-failure code
      (``ThrottlingException``, ``InternalServiceError``, ...) or its HTTP status is 429 or 5xx, whatever the
      code. Every other answer is for good: ``AccessDeniedException``, ``ResourceNotFoundException``,
      ``DecryptionFailure``, ``InvalidRequestException`` (a secret scheduled for deletion), ...
    - No answer: botocore's ``ConnectionError`` (refused, no route, DNS, ``EndpointConnectionError``,
      ``ConnectTimeoutError``, a proxy, TLS) and ``HTTPClientError`` (``ReadTimeoutError``,
      ``ConnectionClosedError``), the two bases botocore's own retry handler calls transient. Their common base,
      ``BotoCoreError``, is too wide: it also holds ``NoCredentialsError``, ``NoRegionError`` and parameter
      validation, which no retry fixes.
    - Anything else (not an SDK error at all) is not transient.

    Example
    -------
    >>> is_transient_aws_error(ClientError({"Error": {"Code": "ThrottlingException"}}, "GetSecretValue"))
    True
    """
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in THROTTLING_CODES or code in SERVICE_FAILURE_CODES:
            return True
        return isinstance(status, int) and (status == TOO_MANY_REQUESTS or status >= FIRST_SERVER_ERROR)
    return isinstance(error, (ConnectionError, HTTPClientError))


def aws_error_name(error: BaseException) -> str:
    """The AWS error code of a ``ClientError`` (``ResourceNotFoundException``), else the class name of ``error``."""
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or type(error).__name__)
    return type(error).__name__
