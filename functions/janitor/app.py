"""Janitor: deletes expired ``Idempotency-Key`` records on a schedule, so the table stays bounded.

The template runs it every hour (an EventBridge schedule); any event runs it, so it can be invoked by hand too.
Each run deletes keys older than ``IDEMPOTENCY_TTL_S`` in batches of :data:`BATCH_SIZE`, one transaction each,
oldest first, until none is left or the invocation has less than :data:`STOP_WITH_REMAINING_MS` to go; what is
left waits for the next run. Expired keys are never replayed meanwhile: the Items API checks the age itself.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from app_model import AppConfig, idempotency
from lambda_db import get_database

logger = Logger()
db = get_database()
config = AppConfig.from_env()

BATCH_SIZE = idempotency.DELETE_BATCH_SIZE
# Room for the batch in flight to finish and the report to be logged: a batch is one indexed DELETE of at most
# BATCH_SIZE rows, far under a second unless it waits on a lock (a migration building an index).
STOP_WITH_REMAINING_MS = 10_000


@logger.inject_lambda_context
@db.handler
def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Entry point (``app.lambda_handler``): ``{"deleted": rows, "batches": n, "finished": bool, "ttl_s": ttl}``."""
    purge = idempotency.purge_expired(
        db.connect,
        ttl_s=config.idempotency_ttl_s,
        batch_size=BATCH_SIZE,
        keep_going=lambda: context.get_remaining_time_in_millis() > STOP_WITH_REMAINING_MS,
    )
    result = {
        "deleted": purge.deleted,
        "batches": purge.batches,
        "finished": purge.finished,
        "ttl_s": config.idempotency_ttl_s,
    }
    if purge.finished:
        logger.info("expired idempotency keys deleted", extra=result)
    else:
        logger.warning("expired idempotency keys left for the next run: out of time", extra=result)
    return result
