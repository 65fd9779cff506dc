"""boto3's Lambda client as the bench sections drive a server with it: dummy credentials, no retries.

One factory for every section that times ``invoke`` (warm_path, sam_local), so each times the same client: a retry
would hide a failed call inside a slow one, and a section that measured a client configured otherwise would compare
clients rather than servers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config

__all__ = ["lambda_client"]


def lambda_client(
    url: str, credentials: Mapping[str, str], *, read_timeout_s: int = 60, max_pool_connections: int = 10
) -> Any:
    """A Lambda client for the Invoke API at ``url``.

    ``credentials`` holds ``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY`` (a server's
    environment, or the dummy ones it was started with); ``max_pool_connections`` bounds the calls it can have in
    flight at once.
    """
    config = Config(
        max_pool_connections=max_pool_connections,
        retries={"max_attempts": 0},
        read_timeout=read_timeout_s,
        connect_timeout=10,
    )
    return boto3.client(
        "lambda",
        endpoint_url=url,
        region_name=credentials["AWS_DEFAULT_REGION"],
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        config=config,
    )
