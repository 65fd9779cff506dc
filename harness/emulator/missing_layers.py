"""What invoking a function returns when a layer it names is not available locally.

The emulator runs offline and downloads no published layer (see :mod:`harness.emulator.layer_dirs`), so such a
function would run without that layer's code and fail somewhere inside the handler, or not fail at all. Its
invocations fail at once instead, as a function error worded like an init failure's, naming the layers and how to
give them; no environment is started.
"""

from __future__ import annotations

import uuid

from harness.emulator.invocation import lambda_error
from harness.emulator.spec import FunctionSpec, InvokeResult

__all__ = ["LAYER_NOT_AVAILABLE", "missing_layers_result"]

LAYER_NOT_AVAILABLE = "Runtime.LayerNotAvailableLocally"  # the errorType of such an invocation


def missing_layers_result(spec: FunctionSpec) -> InvokeResult:
    """A function error like an init failure's: the layers are named, and how to give them."""
    request_id = str(uuid.uuid4())
    layers = ", ".join(spec.missing_layers)
    message = (
        f"{spec.name} names layer {layers}, which is not available locally (a published layer is not downloaded "
        f"here): pass --layer-dir ARN=DIR with a directory holding the layer's content"
    )
    return InvokeResult(
        status_code=200,
        raw_payload=lambda_error(request_id, LAYER_NOT_AVAILABLE, message),
        function_error="Unhandled",
        request_id=request_id,
    )
