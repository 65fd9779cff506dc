"""The errors the emulator raises, each with the HTTP status and error type Lambda's Invoke API gives it.

One base class, mapped once to an HTTP response in :mod:`harness.emulator.invoke_api`, so that a caller of the Python
API and a boto3 client pointed at the emulator see the same failure.
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "EmulatorError",
    "EventSourceError",
    "InvalidRequestContentError",
    "RequestTooLargeError",
    "ResourceNotFoundError",
    "TemplateError",
    "TooManyRequestsError",
    "ValidationError",
]


class EmulatorError(Exception):
    """Base of every error the emulator raises on purpose."""

    status = 500
    error_type = "ServiceException"

    def body(self) -> dict[str, str]:
        """The JSON body Lambda sends with this error (``Type`` and ``message``)."""
        return {"Type": "User", "message": str(self)}


class TemplateError(EmulatorError):
    """The SAM template (or an override) cannot be turned into functions; the message names what and where."""

    status = 400
    error_type = "InvalidParameterValueException"


class EventSourceError(EmulatorError):
    """An event source cannot run: its queue endpoint does not answer, a queue it names does not exist."""

    status = 400
    error_type = "InvalidParameterValueException"


class ResourceNotFoundError(EmulatorError):
    """No function of that name."""

    status = 404
    error_type = "ResourceNotFoundException"


class InvalidRequestContentError(EmulatorError):
    """The payload is not JSON (Lambda refuses it before any environment sees it)."""

    status = 400
    error_type = "InvalidRequestContentException"


class ValidationError(EmulatorError):
    """A request parameter outside the API's model (``X-Amz-Log-Type: Sometimes``), refused before any handler runs."""

    status = 400
    error_type = "ValidationException"


class AccessDeniedError(EmulatorError):
    """An ARN naming another account: the emulator's caller holds no permission there, so Lambda says 403."""

    status = 403
    error_type = "AccessDeniedException"


class RequestTooLargeError(EmulatorError):
    """The payload is over Lambda's synchronous limit of 6 MB."""

    status = 413
    error_type = "RequestEntityTooLargeException"


class TooManyRequestsError(EmulatorError):
    """Throttled: the function's reserved concurrency, or the emulator-wide limit, is used up."""

    status = 429
    error_type = "TooManyRequestsException"

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason

    def body(self) -> dict[str, str]:
        return {"Reason": self.reason, "Type": "User", "message": "Rate Exceeded."}
