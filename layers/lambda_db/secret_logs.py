"""Keep credentials out of the AWS SDK's DEBUG log while the layer fetches them.

At DEBUG (``AWS_LAMBDA_LOG_LEVEL=DEBUG`` makes the Lambda runtime set the root logger to DEBUG), botocore logs
every response body from ``botocore.parsers`` (GetSecretValue's holds the password in ``SecretString``) and, from
``botocore.auth``, the canonical request and its signature (enough to replay the signed request within minutes,
or to rebuild an RDS IAM token, which is a password).

While :func:`fetching_credentials` is active on a thread, a :class:`logging.Filter` on the SDK's loggers drops, for
that thread only, every record of ``botocore.parsers`` and ``botocore.auth`` and any record that mentions
``SecretString`` / ``SecretBinary``. The rest of the DEBUG trail (which operation, which endpoint, retries) stays.

Why a filter rather than raising the loggers' level during the fetch: a level is process-wide state the
application owns (it would also mute other threads' botocore logs, and two threads restoring it race), and a level
set on ``botocore`` does not hold back ``botocore.parsers`` when that logger has a level of its own, which is
exactly the case of someone debugging the SDK. A filter on the logger that creates the record runs before any
handler sees it (the root logger's, the runtime's, Powertools'), whatever the levels, and only while we fetch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["CredentialLogFilter", "fetching_credentials"]

# The top-level loggers of the AWS SDK and its HTTP client; every logger below them gets the filter.
SDK_LOGGERS = ("botocore", "boto3", "urllib3")
# Loggers whose records, during a fetch, can only carry what we fetch or how the request was signed.
SILENCED_LOGGERS = ("botocore.parsers", "botocore.auth")
SECRET_MARKERS = ("SecretString", "SecretBinary")

_state = threading.local()


class CredentialLogFilter(logging.Filter):
    """Drops the records that can carry a credential, on the thread that is fetching one (see the module)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(_state, "fetching", False):
            return True
        if record.name in SILENCED_LOGGERS:
            return False
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record we cannot read is one we cannot vouch for
            return False
        return not any(marker in message for marker in SECRET_MARKERS)


_FILTER = CredentialLogFilter()


def _attach() -> None:
    """Put the filter on every SDK logger that exists now (botocore makes its loggers when its modules load)."""
    names = {name for name in list(logging.Logger.manager.loggerDict) if name.split(".", 1)[0] in SDK_LOGGERS}
    for name in names | set(SDK_LOGGERS) | set(SILENCED_LOGGERS):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


@contextmanager
def fetching_credentials() -> Iterator[None]:
    """Within this block, on this thread, the SDK logs no credential (call it around the fetch, after the client
    is made, so the loggers of every module the fetch uses exist)."""
    _attach()
    previous = getattr(_state, "fetching", False)
    _state.fetching = True
    try:
        yield
    finally:
        _state.fetching = previous
