"""Turn a SAM template into the functions and API routes the emulator runs, the way ``sam local`` reads it.

Read: ``Parameters`` (defaults, then ``--parameter-overrides``, checked against ``AllowedValues`` and
``AllowedPattern``), ``Conditions`` (also on resources), ``Mappings``, ``Globals.Function`` (maps merged, lists
prepended, as SAM does), and for each ``AWS::Serverless::Function``: ``CodeUri``, ``Handler``, ``Runtime``,
``Timeout``, ``MemorySize``, ``ReservedConcurrentExecutions``, ``Environment.Variables``, ``LoggingConfig``,
``Layers`` (a ``Ref`` to an ``AWS::Serverless::LayerVersion`` becomes its ``ContentUri``), ``FunctionName`` and
``HttpApi``/``Api`` events. A parameter with no Default and no override is empty (noted), as a local run needs no
secret ARN or subnets. ``SQS``, ``Schedule`` and ``ScheduleV2`` events and the ``AWS::SQS::Queue`` resources become
:class:`~harness.emulator.event_source_specs.EventSourceSpecs` (run when the emulator is given event source
options); other event sources are accepted and not run (each one is noted).
``--env-vars`` (SAM's JSON: ``{"Parameters": {...}, "<LogicalId>": {...}}``) is applied last; unlike SAM, a variable
the template does not declare is added rather than ignored, so the lab can pass settings the template leaves out.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from harness.emulator.cfn_yaml import load_cfn_yaml
from harness.emulator.errors import TemplateError
from harness.emulator.event_source_specs import EventSourceSpecs, read_event_sources, read_queues
from harness.emulator.intrinsics import Resolver
from harness.emulator.lambda_env import ACCOUNT_ID
from harness.emulator.spec import DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_S, FunctionSpec, Route

__all__ = ["LoadedTemplate", "load_template", "parse_parameter_overrides"]

FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"
ROUTE_EVENTS = ("HttpApi", "Api")
SERVED_EVENTS = (*ROUTE_EVENTS, "SQS", "Schedule", "ScheduleV2")  # the event sources the emulator runs


@dataclass
class LoadedTemplate:
    functions: list[FunctionSpec]
    routes: list[Route]
    region: str
    skipped: list[str] = field(default_factory=list)  # functions the emulator cannot run, with why
    notes: list[str] = field(default_factory=list)  # what was filled in or left out, for the user to know
    event_sources: EventSourceSpecs = field(default_factory=EventSourceSpecs)


# A value is a double-quoted string (spaces allowed, \" and \\ escaped) or a run of non-spaces, as SAM reads them.
_VALUE = r'"(?:\\.|[^"\\])*"|\S+?(?=\s|$)'
_LONG_FORM = re.compile(rf"ParameterKey=([^,\s=]+),ParameterValue=({_VALUE}|)")
_SHORT_FORM = re.compile(rf"([^\s=]+)=({_VALUE}|)")


def _unquoted(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_parameter_overrides(items: list[str]) -> dict[str, str]:
    """``["Key=Value", 'Key="a b"', "ParameterKey=K,ParameterValue=V"]`` (SAM's forms, several per string
    separated by spaces, values optionally in double quotes, which are removed) -> ``{"Key": "Value", ...}``."""
    result: dict[str, str] = {}
    for item in items:
        rest = item.strip()
        while rest:
            match = _LONG_FORM.match(rest) or _SHORT_FORM.match(rest)
            end = match.end() if match else 0
            if match is None or (end < len(rest) and not rest[end].isspace()):
                token = rest.split(None, 1)[0]
                raise TemplateError(f"parameter override {token!r} is not KEY=VALUE (quote a value with spaces)")
            result[match.group(1)] = _unquoted(match.group(2))
            rest = rest[end:].lstrip()
    return result


def _parameter_values(declared: Mapping[str, Any], overrides: Mapping[str, str], missing: list[str]) -> dict[str, Any]:
    """Each parameter's value: the override, else the Default (checked against AllowedValues/AllowedPattern).

    Parameters with neither are appended to ``missing`` and resolve to an empty string (or list).
    """
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"parameter override for {', '.join(unknown)}: not declared under Parameters")
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        spec = spec or {}
        if name in overrides:
            value: Any = overrides[name]
        elif "Default" in spec:
            value = spec["Default"]
        else:
            # As sam local does, run anyway: a value only a deployment has (a secret ARN, subnets) is empty here.
            missing.append(name)
            values[name] = [] if str(spec.get("Type", "")).startswith(("CommaDelimitedList", "List<")) else ""
            continue
        value = str(value) if not isinstance(value, list) else ",".join(map(str, value))
        allowed = spec.get("AllowedValues")
        if allowed is not None and value not in [str(item) for item in allowed]:
            raise TemplateError(f"parameter {name}={value!r} is not one of its AllowedValues {allowed}")
        pattern = spec.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise TemplateError(f"parameter {name}={value!r} does not match its AllowedPattern {pattern!r}")
        is_list = str(spec.get("Type", "")).startswith(("CommaDelimitedList", "List<"))
        values[name] = value.split(",") if is_list else value
    return values


def _merge_globals(globals_: Mapping[str, Any], properties: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(globals_)
    for key, value in properties.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_globals(merged[key], value)
        elif isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = [*merged[key], *value]
        else:
            merged[key] = value
    return merged


def _env_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _env_strings(variables: Mapping[str, Any]) -> dict[str, str]:
    """The template's variables as strings; one that resolved to nothing (``AWS::NoValue``) is not set."""
    return {name: _env_text(value) for name, value in variables.items() if value is not None}


def _override_strings(variables: Mapping[str, Any]) -> dict[str, str]:
    """An ``--env-vars`` section as strings; a ``null`` sets the variable to the empty string, as SAM does."""
    return {name: "" if value is None else _env_text(value) for name, value in variables.items()}


def _logging_env(config: Mapping[str, Any]) -> dict[str, str]:
    """The variables Lambda sets from ``LoggingConfig`` (awslambdaric and Powertools read them)."""
    env = {}
    if config.get("LogFormat"):
        env["AWS_LAMBDA_LOG_FORMAT"] = str(config["LogFormat"])
    if config.get("LogFormat") == "JSON" and config.get("ApplicationLogLevel"):
        env["AWS_LAMBDA_LOG_LEVEL"] = str(config["ApplicationLogLevel"])
    return env


def load_template(
    path: Path,
    *,
    parameter_overrides: Mapping[str, str] | None = None,
    env_vars: Mapping[str, Any] | None = None,
    region: str | None = None,
    layer_dirs: Mapping[str, Path] | None = None,
) -> LoadedTemplate:
    """Read ``path`` into function specs and routes (TemplateError names anything that stops it).

    ``layer_dirs`` maps published layer ARNs to local directories (``--layer-dir``); a function naming an ARN
    not among them gets it in ``missing_layers``, and its invocations fail naming it.
    """
    if not path.is_file():
        raise TemplateError(f"template {path} does not exist: pass --template PATH")
    try:
        document = load_cfn_yaml(path)
    except Exception as exc:  # yaml raises many types; all mean the same to the user
        raise TemplateError(f"template {path} is not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"template {path} has no Resources section")
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    resources: dict[str, Any] = document["Resources"]
    missing: list[str] = []
    resolver = Resolver(
        parameters=_parameter_values(document.get("Parameters") or {}, parameter_overrides or {}, missing),
        pseudo={
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": path.resolve().parent.name,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/local/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        },
        conditions=document.get("Conditions") or {},
        mappings=document.get("Mappings") or {},
        resources=resources,
    )
    env_vars = env_vars or {}
    shared_env = env_vars.get("Parameters") or {}
    globals_ = ((document.get("Globals") or {}).get("Function")) or {}
    base = path.resolve().parent
    loaded = LoadedTemplate([], [], region)
    loaded.notes += [f"parameter {name} has no Default and no override: empty here" for name in missing]
    live = {
        logical_id: resource
        for logical_id, resource in resources.items()
        if not isinstance(resource, dict) or "Condition" not in resource or resolver.condition(resource["Condition"])
    }
    loaded.event_sources.queues = read_queues(live, resolver.resolve)
    used_arns: set[str] = set()
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") != FUNCTION:
            continue
        if "Condition" in resource and not resolver.condition(resource["Condition"]):
            continue
        where = f"{path.name}: {logical_id}"
        props = resolver.resolve(_merge_globals(globals_, resource.get("Properties") or {}))
        runtime = str(props.get("Runtime", "python3"))
        if props.get("PackageType") == "Image" or not runtime.startswith("python"):
            loaded.skipped.append(f"{logical_id}: runtime {runtime} (only Python zip functions run locally)")
            continue
        code_uri = props.get("CodeUri", ".")
        if not isinstance(code_uri, str):
            raise TemplateError(f"{where}: CodeUri must be a local directory, not {code_uri!r}")
        if not (base / code_uri).is_dir():
            raise TemplateError(f"{where}: CodeUri {code_uri!r} is not a directory next to the template")
        if "Handler" not in props:
            raise TemplateError(f"{where}: Handler is missing (module.function)")
        env = _logging_env(props.get("LoggingConfig") or {})
        env.update(_env_strings(((props.get("Environment") or {}).get("Variables")) or {}))
        env.update(_override_strings(shared_env))
        env.update(_override_strings(env_vars.get(logical_id) or {}))
        reserved = props.get("ReservedConcurrentExecutions")
        layers, missing_layers = _layers(props.get("Layers") or [], resources, resolver, base, where, layer_dirs or {})
        try:
            spec = FunctionSpec(
                name=logical_id,
                code_uri=base / code_uri,
                handler=str(props["Handler"]),
                env=env,
                timeout_s=float(props.get("Timeout", DEFAULT_TIMEOUT_S)),
                memory_mb=int(props.get("MemorySize", DEFAULT_MEMORY_MB)),
                reserved_concurrency=int(reserved) if reserved not in (None, "") else None,
                layers=tuple(layers),
                function_name=str(props["FunctionName"]) if props.get("FunctionName") else None,
                missing_layers=tuple(missing_layers),
                runtime=runtime,
            )
        except ValueError as exc:
            raise TemplateError(f"{where}: {exc}") from exc
        loaded.functions.append(spec)
        loaded.routes.extend(_routes(logical_id, props.get("Events") or {}))
        loaded.notes += _unserved_events(logical_id, props.get("Events") or {})
        loaded.notes += [
            f"{logical_id}: layer {arn} is not available locally: its invocations fail until "
            f"--layer-dir {arn}=DIR names a directory with the layer's content"
            for arn in missing_layers
        ]
        used_arns.update(arn for arn in layer_dirs or {} if arn in (props.get("Layers") or []))
        sources = read_event_sources(logical_id, props.get("Events") or {}, loaded.event_sources.queues)
        loaded.event_sources.mappings += sources.mappings
        loaded.event_sources.schedules += sources.schedules
    unused = sorted(set(layer_dirs or {}) - used_arns)
    if unused:
        raise TemplateError(f"--layer-dir {unused[0]}: no function in {path.name} names that layer ARN")
    return loaded


def _layers(
    refs: list[Any],
    resources: Mapping[str, Any],
    resolver: Resolver,
    base: Path,
    where: str,
    layer_dirs: Mapping[str, Path],
) -> tuple[list[Path], list[str]]:
    """The function's layer directories, and the published ARNs it names that no ``layer_dirs`` entry stands in for."""
    paths, missing = [], []
    for ref in refs:
        if isinstance(ref, str) and ref.startswith("arn:"):  # a published layer
            if ref in layer_dirs:
                paths.append(layer_dirs[ref].resolve())
            else:
                missing.append(ref)
            continue
        # Layers were resolved already, so a Ref to a layer resource is now its logical id.
        layer = resources.get(ref) if isinstance(ref, str) else None
        if not isinstance(layer, dict) or layer.get("Type") != LAYER:
            missing.append(str(ref))  # e.g. an AWS::Lambda::LayerVersion: nothing local to run it from
            continue
        content = resolver.resolve((layer.get("Properties") or {}).get("ContentUri", "."))
        if not isinstance(content, str) or not (base / content).is_dir():
            raise TemplateError(f"{where}: layer {ref} ContentUri {content!r} is not a local directory")
        paths.append(base / content)
    return paths, missing


def _unserved_events(logical_id: str, events: Mapping[str, Any]) -> list[str]:
    return [
        f"{logical_id}: {event.get('Type')} event {name} is not run here (invoke the function to run it)"
        for name, event in events.items()
        if event.get("Type") not in SERVED_EVENTS
    ]


def _routes(logical_id: str, events: Mapping[str, Any]) -> list[Route]:
    routes = []
    for event in events.values():
        kind = event.get("Type")
        if kind not in ROUTE_EVENTS:
            continue
        props = event.get("Properties") or {}
        version: Literal["1.0", "2.0"] = "2.0" if kind == "HttpApi" else "1.0"
        if kind == "HttpApi" and str(props.get("PayloadFormatVersion", "2.0")) == "1.0":
            version = "1.0"
        method = str(props.get("Method", "ANY")).upper()
        method = "ANY" if method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD") else method
        routes.append(Route(method, str(props.get("Path", "/{proxy+}")), logical_id, version))
    return routes
