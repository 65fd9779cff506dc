"""The exceptions the layer raises: one base, few leaves, each mapped once to an HTTP status by the handler.

``DatabaseUnavailableError`` carries ``retry_after_s`` so the handler can answer 503 with ``Retry-After`` without
knowing why the database was unavailable.
"""

from __future__ import annotations

__all__ = ["ConfigurationError", "ConnectionLostError", "DatabaseUnavailableError", "LambdaDbError", "PoolTimeoutError"]

DEFAULT_RETRY_AFTER_S = 1


class LambdaDbError(Exception):
    """Base class of every error the layer raises on purpose."""


class ConfigurationError(LambdaDbError, ValueError):
    """A configuration value is missing or invalid; the message names the variable, the value and what is allowed."""


class DatabaseUnavailableError(LambdaDbError):
    """No connection could be had: connect failed after retries, the server is full, or authentication failed.

    Parameters
    ----------
    message:
        What failed, without any secret.
    retry_after_s:
        A hint for the client, in whole seconds (the handler puts it in ``Retry-After``).
    """

    def __init__(self, message: str, *, retry_after_s: int = DEFAULT_RETRY_AFTER_S) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PoolTimeoutError(DatabaseUnavailableError):
    """Every connection of the pool stayed checked out for longer than the pool timeout."""


class ConnectionLostError(DatabaseUnavailableError):
    """The connection died while in use; an uncommitted transaction on it was rolled back by the server."""
