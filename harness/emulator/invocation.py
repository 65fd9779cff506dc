"""One invocation on its way through an environment, and how Lambda words what can go wrong with it."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from dataclasses import dataclass, field

__all__ = ["Invocation", "Outcome", "exit_status", "lambda_error"]


@dataclass
class Outcome:
    """What came back from the runtime for one invocation (raw bytes; the pool parses them)."""

    body: bytes
    function_error: str | None = None


@dataclass
class Invocation:
    """One event on its way through an environment."""

    payload: bytes
    function_arn: str
    client_context: str | None = None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    future: asyncio.Future[Outcome] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    started: float = 0.0  # monotonic, when the runtime received the event
    delivered: bool = False

    def complete(self, outcome: Outcome) -> None:
        if not self.future.done():
            self.future.set_result(outcome)


# how Lambda words a runtime killed by a signal ("Runtime exited with error: signal: killed")
_SIGNAL_WORDS = {signal.SIGKILL: "killed", signal.SIGTERM: "terminated", signal.SIGSEGV: "segmentation fault"}


def lambda_error(request_id: str, error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": f"RequestId: {request_id} Error: {message}"}).encode()


def exit_status(code: int) -> str:
    if code >= 0:
        return f"exit status {code}"
    signum = signal.Signals(-code)
    return f"signal: {_SIGNAL_WORDS.get(signum, signum.name)}"
