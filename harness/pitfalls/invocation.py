"""What an in-process pitfall passes to a decorated Lambda handler: the few context fields the layer reads.

A plain value, not a mock: the layer reads ``aws_request_id``, ``function_name`` and the remaining time.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LambdaContext"]


@dataclass(frozen=True)
class LambdaContext:
    """A Lambda context with a fixed time budget per invocation."""

    aws_request_id: str
    function_name: str = "pitfall"
    remaining_ms: int = 30_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms
