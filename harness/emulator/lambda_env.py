"""The environment variables Lambda gives a function's process, built from its spec.

Order of precedence, lowest first: Lambda's reserved variables, the template's ``Environment.Variables``, then
``--env-vars`` (done by the template loader before the spec reaches here). Credentials come from the caller's
environment when set there, else dummy ones, so that SDK clients built at init do not fail before any test
points them at moto.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from harness.emulator.runtimes import OWN, Interpreter
from harness.emulator.spec import FunctionSpec

__all__ = ["ACCOUNT_ID", "function_arn", "lambda_environment"]

ACCOUNT_ID = "123456789012"
_PASSED_THROUGH = ("PATH", "LANG", "LD_LIBRARY_PATH", "TMPDIR")
_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def function_arn(spec: FunctionSpec, region: str) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{spec.physical_name}"


def layer_paths(spec: FunctionSpec) -> list[str]:
    """Each layer's ``python`` directory (Lambda's ``/opt/python``), or the layer itself when it has none."""
    roots = [Path(layer).resolve() for layer in spec.layers]
    return [str(root / "python" if (root / "python").is_dir() else root) for root in roots]


def lambda_environment(
    spec: FunctionSpec,
    *,
    region: str,
    interpreter: Interpreter = OWN,
    host_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Everything the runtime process sees in ``os.environ`` (the Runtime API address is added per environment).

    ``AWS_EXECUTION_ENV`` and ``LAMBDA_RUNTIME_DIR`` name the ``interpreter`` that runs, whatever ``Runtime`` says.
    """
    host = os.environ if host_env is None else host_env
    task_root = str(Path(spec.code_uri).resolve())
    env = {name: host[name] for name in _PASSED_THROUGH if name in host}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_SESSION_TOKEN": "test",
        }
    )
    if "AWS_ACCESS_KEY_ID" in host:
        env.pop("AWS_SESSION_TOKEN")
        env.update({name: host[name] for name in _CREDENTIALS if name in host})
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": spec.physical_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.physical_name}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EXECUTION_ENV": interpreter.execution_env,
            "AWS_SAM_LOCAL": "true",
            "LAMBDA_TASK_ROOT": task_root,
            "LAMBDA_RUNTIME_DIR": str(Path(interpreter.python).parent),
            "_HANDLER": spec.handler,
            "TZ": ":UTC",
            "PYTHONPATH": os.pathsep.join([task_root, *layer_paths(spec)]),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.update({key: str(value) for key, value in spec.env.items()})
    return env
