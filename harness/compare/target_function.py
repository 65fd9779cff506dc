"""Checks the template's side of a workload before anything starts: the functions exist and the measured one uses
``lambda_db``.

The strategies are nothing but ``lambda_db``'s ``DB_POOL_MODE`` (and PgBouncer in front), so a function that does
not build its engine with the layer would show six identical rows: it is refused, saying why.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness.compare.workload_spec import SpecError, WorkloadSpec
from harness.emulator import FunctionSpec, TemplateError, load_cfn_yaml, load_template
from harness.kit.lab import LOCAL_PARAMETERS

__all__ = ["check_functions", "local_parameters"]

LAYER_PACKAGE = "lambda_db"
_IMPORTS_LAYER = re.compile(rf"^\s*(?:from|import)\s+{LAYER_PACKAGE}\b", re.MULTILINE)


def local_parameters(template: Path) -> dict[str, str]:
    """The lab's stand-ins for deployment-only parameters, for those the template declares (others are refused)."""
    try:
        document = load_cfn_yaml(template)
    except Exception:  # noqa: BLE001 - yaml raises many types; load_template then names the problem to the user
        return {}
    declared = (document.get("Parameters") or {}) if isinstance(document, dict) else {}
    return {name: value for name, value in LOCAL_PARAMETERS.items() if name in declared}


def _has_layer_package(function: FunctionSpec) -> bool:
    roots = [function.code_uri, *function.layers, *(layer / "python" for layer in function.layers)]
    return any((root / LAYER_PACKAGE / "__init__.py").is_file() for root in roots)


def _imports_layer(function: FunctionSpec) -> bool:
    return any(_IMPORTS_LAYER.search(path.read_text(errors="replace")) for path in function.code_uri.rglob("*.py"))


def check_functions(template: Path, spec: WorkloadSpec) -> None:
    """SpecError naming ``--function`` or ``--setup`` for a function the template lacks or one that skips the layer."""
    try:
        loaded = load_template(template, parameter_overrides=local_parameters(template))
    except TemplateError as exc:
        raise SpecError("--template", str(exc)) from exc
    functions = {function.name: function for function in loaded.functions}
    known = ", ".join(sorted(functions)) or "none"
    for option, name in [("--function", spec.function), *(("--setup", call.function) for call in spec.setup)]:
        if name not in functions:
            skipped = next((why for why in loaded.skipped if why.startswith(f"{name}:")), None)
            why = f"it cannot run here ({skipped})" if skipped else f"its functions are {known}"
            raise SpecError(option, f"{name} is not a function of {template} that runs locally: {why}")
    measured = functions[spec.function]
    if not _has_layer_package(measured):
        raise SpecError(
            "--function",
            f"{spec.function} does not use the {LAYER_PACKAGE} layer (neither its Layers nor its CodeUri hold "
            f"{LAYER_PACKAGE}/): the strategies are the layer's DB_POOL_MODE, so every row would measure the same code",
        )
    if not _imports_layer(measured):
        raise SpecError(
            "--function",
            f"{spec.function} has the {LAYER_PACKAGE} layer but no module under {measured.code_uri} imports it: "
            "the strategies are the layer's DB_POOL_MODE, so every row would measure the same code",
        )
