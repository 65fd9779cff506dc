"""Schema migration: invoke it directly (any event) or as a CloudFormation custom resource on every deploy.

Both paths call :func:`app_model.migrations.migrate`, which is advisory-locked and idempotent, so a deploy and a
manual run at the same moment are safe. As a custom resource it must always answer CloudFormation (through the
pre-signed ``ResponseURL``): an unanswered request leaves the stack waiting for an hour.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from aws_lambda_powertools import Logger

from app_model import LATEST_VERSION, AppConfig, InvalidInputError, apply_role_settings, migrate
from lambda_db import get_database

logger = Logger()
db = get_database()
config = AppConfig.from_env()

PHYSICAL_RESOURCE_ID = "schema-migrations"
RESPONSE_TIMEOUT_S = 10
REQUEST_TYPES = ("Create", "Update", "Delete")  # what CloudFormation sends; anything else is refused, not migrated


def run_migrations() -> dict[str, Any]:
    """Apply what is missing and the role's settings; say what was applied and the version the schema is at now."""
    with db.connect() as conn:
        applied = migrate(conn)
        role = apply_role_settings(conn, idle_session_timeout_s=config.role_idle_session_timeout_s)
    logger.info("schema migrated", extra={"applied": applied, "version": LATEST_VERSION, "role_settings": role})
    return {"applied": applied, "version": LATEST_VERSION, "role_settings": role}


def _is_custom_resource(event: Any) -> bool:
    return isinstance(event, dict) and "RequestType" in event and "ResponseURL" in event


def _answer_cloudformation(event: dict[str, Any], status: str, reason: str, data: dict[str, Any]) -> None:
    url = str(event["ResponseURL"])
    if not url.startswith(("https://", "http://")):
        raise InvalidInputError("ResponseURL", "must be an http(s) URL")
    body = {
        "Status": status,
        "Reason": reason,
        "PhysicalResourceId": event.get("PhysicalResourceId", PHYSICAL_RESOURCE_ID),
        "StackId": event.get("StackId"),
        "RequestId": event.get("RequestId"),
        "LogicalResourceId": event.get("LogicalResourceId"),
        "Data": {"Version": str(data.get("version", LATEST_VERSION)), "Applied": json.dumps(data.get("applied", []))},
    }
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url, data=json.dumps(body).encode(), method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_S):  # noqa: S310
        pass


def _custom_resource(event: dict[str, Any], context: Any) -> dict[str, Any]:
    url = event["ResponseURL"]
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        # Nobody can be answered, so nothing is done: a function error that says why.
        raise InvalidInputError("ResponseURL", f"must be an http(s) URL, got {str(url)[:40]!r}")
    if event["RequestType"] not in REQUEST_TYPES:
        reason = f"RequestType {str(event['RequestType'])[:40]!r} is not one of {', '.join(REQUEST_TYPES)}"
        logger.warning("custom resource request refused", extra={"reason": reason})
        _answer_cloudformation(event, "FAILED", reason, {})
        return {"applied": [], "version": LATEST_VERSION, "error": reason}
    if event["RequestType"] == "Delete":
        # Deleting the stack must not drop the data: the tables outlive it.
        _answer_cloudformation(event, "SUCCESS", "schema left in place", {})
        return {"applied": [], "version": LATEST_VERSION}
    try:
        result = run_migrations()
    except Exception as error:  # CloudFormation must hear about every failure (it re-raises), or it waits an hour
        logger.exception("schema migration failed")
        log_stream = getattr(context, "log_stream_name", "the function's log")
        reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''} (see {log_stream})"
        _answer_cloudformation(event, "FAILED", reason[:1000], {})
        raise
    _answer_cloudformation(event, "SUCCESS", f"schema at version {LATEST_VERSION}", result)
    return result


@logger.inject_lambda_context
@db.handler
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Entry point (``app.lambda_handler``): ``{"applied": [versions], "version": latest}``."""
    if _is_custom_resource(event):
        return _custom_resource(event, context)
    return run_migrations()
