"""app_model: the example application's tables, migrations, input schemas and SQL, shared by the three functions.

It ships in the same layer as ``lambda_db`` (``/opt/python/app_model``), so the handlers stay thin: routes in
``functions/<name>/app.py``, the SQL here.
"""

from __future__ import annotations

from app_model.errors import (
    AppError,
    BodyTooLargeError,
    IdempotencyKeyReusedError,
    InvalidInputError,
    ItemNotFoundError,
)
from app_model.migrations import LATEST_VERSION, applied_versions, migrate

__all__ = [
    "LATEST_VERSION",
    "AppError",
    "BodyTooLargeError",
    "IdempotencyKeyReusedError",
    "InvalidInputError",
    "ItemNotFoundError",
    "applied_versions",
    "migrate",
]
