"""The context object an in-process Lambda handler is given: the attributes Powertools and the layer read.

A plain value, not a mock: the layer reads ``aws_request_id``, ``function_name`` and the remaining time; Powertools'
``inject_lambda_context`` also reads the memory size, the ARN and the log stream. One class for the harness and the
tests, so a handler called in-process sees the same context wherever it is called from.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

__all__ = ["LambdaContext"]


@dataclass(frozen=True)
class LambdaContext:
    """A Lambda context with a fixed time budget per invocation.

    Example
    -------
    >>> LambdaContext(function_name="ItemsFunction", remaining_ms=9_000).get_remaining_time_in_millis()
    9000
    """

    function_name: str = "ItemsFunction"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_ms: int = 30_000
    memory_limit_in_mb: int = 512
    log_stream_name: str = "2026/11/24/[$LATEST]0123456789abcdef0123456789abcdef"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms
