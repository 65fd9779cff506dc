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


def parse_parameter_overrides(items: list[str]) -> dict[str, str]:
    """``["Key=Value", "ParameterKey=K,ParameterValue=V"]`` (both SAM forms) -> ``{"Key": "Value", "K": "V"}``."""
    result: dict[str, str] = {}
    for item in items:
        for token in re.findall(r"ParameterKey=[^,]+,ParameterValue=\S*|\S+=\S*", item) or [item]:
            match = re.fullmatch(r"ParameterKey=([^,]+),ParameterValue=(.*)", token)
            key, sep, value = (match.group(1), "=", match.group(2)) if match else token.partition("=")
            if not sep or not key:
                raise TemplateError(f"parameter override {token!r} is not KEY=VALUE")
            result[key] = value
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


def _env_strings(variables: Mapping[str, Any]) -> dict[str, str]:
    def text(value: Any) -> str:
        return str(value).lower() if isinstance(value, bool) else str(value)

    return {name: text(value) for name, value in variables.items() if value is not None}


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
) -> LoadedTemplate:
    """Read ``path`` into function specs and routes (TemplateError names anything that stops it)."""
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
        env.update(_env_strings(shared_env))
        env.update(_env_strings(env_vars.get(logical_id) or {}))
        reserved = props.get("ReservedConcurrentExecutions")
        try:
            spec = FunctionSpec(
                name=logical_id,
                code_uri=base / code_uri,
                handler=str(props["Handler"]),
                env=env,
                timeout_s=float(props.get("Timeout", DEFAULT_TIMEOUT_S)),
                memory_mb=int(props.get("MemorySize", DEFAULT_MEMORY_MB)),
                reserved_concurrency=int(reserved) if reserved not in (None, "") else None,
                layers=tuple(_layers(props.get("Layers") or [], resources, resolver, base, where)),
                function_name=str(props["FunctionName"]) if props.get("FunctionName") else None,
                runtime=runtime,
            )
        except ValueError as exc:
            raise TemplateError(f"{where}: {exc}") from exc
        loaded.functions.append(spec)
        loaded.routes.extend(_routes(logical_id, props.get("Events") or {}))
        loaded.notes += _unserved_events(logical_id, props.get("Events") or {})
        loaded.notes += [
            f"{logical_id}: layer {ref} is a published ARN, not available locally: the function runs without it"
            for ref in props.get("Layers") or []
            if isinstance(ref, str) and ref.startswith("arn:")
        ]
        sources = read_event_sources(logical_id, props.get("Events") or {}, loaded.event_sources.queues)
        loaded.event_sources.mappings += sources.mappings
        loaded.event_sources.schedules += sources.schedules
    return loaded


def _layers(refs: list[Any], resources: Mapping[str, Any], resolver: Resolver, base: Path, where: str) -> list[Path]:
    paths = []
    for ref in refs:
        # Layers were resolved already, so a Ref to a layer resource is now its logical id.
        layer = resources.get(ref) if isinstance(ref, str) else None
        if not isinstance(layer, dict) or layer.get("Type") != LAYER:
            continue  # a published layer ARN: not available locally
        content = resolver.resolve((layer.get("Properties") or {}).get("ContentUri", "."))
        if not isinstance(content, str) or not (base / content).is_dir():
            raise TemplateError(f"{where}: layer {ref} ContentUri {content!r} is not a local directory")
        paths.append(base / content)
    return paths


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
