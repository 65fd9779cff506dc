"""app_model: the example application's tables, migrations, input schemas, SQL and settings, shared by the functions.

It ships in the same layer as ``lambda_db`` (``/opt/python/app_model``), so the handlers stay thin: routes in
``functions/<name>/app.py``, the SQL here.
"""

from __future__ import annotations

from app_model.config import AppConfig
from app_model.errors import (
    AppError,
    BodyTooLargeError,
    ConfigurationError,
    IdempotencyKeyReusedError,
    InvalidInputError,
    ItemNotFoundError,
)
from app_model.migrations import LATEST_VERSION, applied_versions, migrate
from app_model.role_settings import apply_role_settings, role_settings

__all__ = [
    "LATEST_VERSION",
    "AppConfig",
    "AppError",
    "BodyTooLargeError",
    "ConfigurationError",
    "IdempotencyKeyReusedError",
    "InvalidInputError",
    "ItemNotFoundError",
    "applied_versions",
    "apply_role_settings",
    "migrate",
    "role_settings",
]
