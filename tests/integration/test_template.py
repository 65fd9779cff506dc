"""Properties of template.yaml that the linters cannot see: the connection budget, least privilege, no secrets.

The template is read with a YAML loader that keeps CloudFormation's short-form tags (``!Ref X`` becomes
``{"Ref": "X"}``), so the assertions read like the template.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from app_model import AppConfig
from app_model.config import (
    DEFAULT_IDEMPOTENCY_TTL_S,
    DEFAULT_ROLE_IDLE_SESSION_TIMEOUT_S,
    IDEMPOTENCY_TTL_S,
    MAX_ROLE_IDLE_SESSION_TIMEOUT_S,
    MIN_IDEMPOTENCY_TTL_S,
    ROLE_IDLE_SESSION_TIMEOUT_S,
)
from harness.emulator.template import load_template
from lambda_db import DatabaseConfig

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS = ("ItemsFunction", "IngestFunction", "MigrateFunction", "JanitorFunction")
SQS_MIN_MAXIMUM_CONCURRENCY = 2  # the lowest ScalingConfig.MaximumConcurrency SQS accepts
HEADROOM = 0.85  # each row should hand out most of its budget, but not all of it


class _CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that understands ``!Ref``, ``!Sub``, ``!GetAtt`` and the other short forms."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _tag)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load((REPO / "template.yaml").read_text(), Loader=_CloudFormationLoader)
    return loaded


def test_the_logical_ids_the_readme_and_the_scripts_name_exist(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    for logical_id in (*FUNCTIONS, "DbLayer", "HttpApi", "DbProxy", "DbProxyTargetGroup", "IngestQueue"):
        assert logical_id in resources, logical_id


def test_every_function_gets_the_layer_the_runtime_and_json_logs_from_globals(template: dict[str, Any]) -> None:
    function_globals = template["Globals"]["Function"]
    assert function_globals["Runtime"] == "python3.13"
    assert function_globals["Layers"] == [{"Ref": "DbLayer"}]
    assert function_globals["LoggingConfig"]["LogFormat"] == "JSON"
    assert function_globals["Tracing"] == "Active"
    assert "POWERTOOLS_SERVICE_NAME" in function_globals["Environment"]["Variables"]
    for name in FUNCTIONS:
        properties = template["Resources"][name]["Properties"]
        assert "Layers" not in properties, f"{name} overrides the Globals' layer"
        assert "Runtime" not in properties, f"{name} overrides the Globals' runtime"
        assert properties["Handler"] == "app.lambda_handler"
        assert (REPO / properties["CodeUri"] / "app.py").is_file()
    layer = template["Resources"]["DbLayer"]
    assert layer["Properties"]["ContentUri"] == "layers/"
    assert layer["Metadata"]["BuildMethod"] == "python3.13"


@pytest.mark.parametrize("budget", ["10", "25", "50", "100", "200", "400"])
def test_each_budget_row_adds_up_to_at_most_the_budget(template: dict[str, Any], budget: str) -> None:
    row = template["Mappings"]["BudgetSplit"][budget]
    total = row["Items"] + row["Ingest"] + row["Migrate"] + row["Janitor"]
    assert total <= int(budget)
    assert total >= HEADROOM * int(budget)
    assert row["Ingest"] >= SQS_MIN_MAXIMUM_CONCURRENCY
    assert row["Migrate"] == 1
    assert row["Janitor"] == 1


def test_the_budget_parameter_offers_exactly_the_rows_of_the_split(template: dict[str, Any]) -> None:
    allowed = template["Parameters"]["ConnectionBudget"]["AllowedValues"]
    assert sorted(allowed, key=int) == sorted(template["Mappings"]["BudgetSplit"], key=int)


def test_concurrency_caps_come_from_the_budget_split(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    for name in FUNCTIONS:
        column = name.removesuffix("Function")
        reserved = resources[name]["Properties"]["ReservedConcurrentExecutions"]
        assert reserved == {"Fn::FindInMap": ["BudgetSplit", {"Ref": "ConnectionBudget"}, column]}, name
    scaling = resources["IngestFunction"]["Properties"]["Events"]["Queue"]["Properties"]["ScalingConfig"]
    assert scaling["MaximumConcurrency"] == resources["IngestFunction"]["Properties"]["ReservedConcurrentExecutions"]


def test_one_connection_per_environment_in_every_mode_the_template_allows(template: dict[str, Any]) -> None:
    # The budget arithmetic holds only if no environment can hold more than one connection.
    assert template["Parameters"]["PoolMode"]["AllowedValues"] == ["single", "null"]
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert "DB_POOL_SIZE" not in variables
    assert "DB_MAX_OVERFLOW" not in variables


def test_every_free_text_parameter_is_constrained(template: dict[str, Any]) -> None:
    for name, parameter in template["Parameters"].items():
        if parameter["Type"] == "String":
            assert "AllowedPattern" in parameter or "AllowedValues" in parameter, name
        elif parameter["Type"] == "Number":
            assert "AllowedValues" in parameter or {"MinValue", "MaxValue"} <= set(parameter), name
        else:
            assert parameter["Type"].startswith("List<AWS::EC2::"), name  # CloudFormation validates these ids


def test_no_password_or_plaintext_credential_anywhere(template: dict[str, Any]) -> None:
    text = (REPO / "template.yaml").read_text()
    assert not re.search(r"postgres(ql)?(\+psycopg2)?://[^@\s/]*:[^@\s]*@", text), "a URL with a password"
    for name, parameter in template["Parameters"].items():
        assert not re.search("password|secret(?!arn)", name, re.IGNORECASE) or parameter.get("NoEcho"), name
    assert "NoEcho" not in json.dumps(template["Outputs"])


def test_functions_may_read_only_the_database_secret_or_connect_only_through_the_proxy(
    template: dict[str, Any],
) -> None:
    resources = template["Resources"]
    for name in FUNCTIONS:
        assert resources[name]["Properties"]["Policies"] == [{"Ref": "DbAccessPolicy"}], name
    statements = resources["DbAccessPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert len(statements) == 1
    condition, through_proxy, direct = statements[0]["Fn::If"]
    assert condition == "UseProxy"
    assert through_proxy["Action"] == "rds-db:connect"
    assert direct == {
        "Effect": "Allow",
        "Action": "secretsmanager:GetSecretValue",
        "Resource": {"Ref": "DatabaseSecretArn"},
    }


def test_the_proxy_requires_tls_and_iam_and_switches_the_functions_to_null(template: dict[str, Any]) -> None:
    proxy = template["Resources"]["DbProxy"]
    assert proxy["Condition"] == "UseProxy"
    assert proxy["Properties"]["RequireTLS"] is True
    assert proxy["Properties"]["Auth"][0]["IAMAuth"] == "REQUIRED"
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["DB_POOL_MODE"] == {"Fn::If": ["UseProxy", "null", {"Ref": "PoolMode"}]}
    assert variables["DB_IAM_AUTH"] == {"Fn::If": ["UseProxy", "true", "false"]}
    assert variables["DB_SSLMODE"] == {"Fn::If": ["VerifyServerCertificate", "verify-full", "require"]}


def test_outputs_name_the_api_the_functions_and_the_proxy(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    for name in ("ApiUrl", *(f"{function}Name" for function in FUNCTIONS), "ProxyEndpoint"):
        assert name in outputs, name
    assert outputs["ProxyEndpoint"]["Condition"] == "UseProxy"


def test_every_http_event_file_targets_a_route_of_the_template(template: dict[str, Any]) -> None:
    events = template["Resources"]["ItemsFunction"]["Properties"]["Events"].values()
    routes = {f"{event['Properties']['Method']} {event['Properties']['Path']}" for event in events}
    files = sorted((REPO / "events").glob("items_*.json"))
    assert files
    for path in files:
        event = json.loads(path.read_text())
        assert event["routeKey"] in routes, path.name


def test_the_deploy_time_migration_waits_for_the_proxy_target(template: dict[str, Any]) -> None:
    migration = template["Resources"]["SchemaMigration"]["Properties"]
    assert migration["ServiceToken"] == {"Fn::GetAtt": ["MigrateFunction", "Arn"]}
    assert migration["ProxyTarget"] == {"Fn::If": ["UseProxy", {"Ref": "DbProxyTargetGroup"}, "direct"]}


def test_the_janitor_runs_every_hour_on_a_schedule(template: dict[str, Any]) -> None:
    events = template["Resources"]["JanitorFunction"]["Properties"]["Events"]
    assert [event["Type"] for event in events.values()] == ["Schedule"]
    assert [event["Properties"]["Schedule"] for event in events.values()] == ["rate(1 hour)"]
    event_file = json.loads((REPO / "events" / "janitor_schedule.json").read_text())
    assert event_file["detail-type"] == "Scheduled Event"


def test_the_idempotency_ttl_parameter_reaches_every_function_within_what_app_model_accepts(
    template: dict[str, Any],
) -> None:
    parameter = template["Parameters"]["IdempotencyTtlSeconds"]
    assert parameter["Type"] == "Number"
    assert parameter["Default"] == DEFAULT_IDEMPOTENCY_TTL_S
    assert parameter["MinValue"] == MIN_IDEMPOTENCY_TTL_S
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    assert variables[IDEMPOTENCY_TTL_S] == {"Ref": "IdempotencyTtlSeconds"}
    for name in FUNCTIONS:
        overrides = template["Resources"][name]["Properties"].get("Environment", {}).get("Variables", {})
        assert IDEMPOTENCY_TTL_S not in overrides, name


@pytest.mark.parametrize(
    ("root_cert", "sslmode"),
    [("", "require"), ("system", "verify-full"), ("/opt/python/certs/global-bundle.pem", "verify-full")],
)
def test_a_ca_bundle_parameter_turns_on_verify_full_and_the_layer_accepts_what_the_template_sets(
    root_cert: str, sslmode: str, tmp_path: Path
) -> None:
    loaded = load_template(REPO / "template.yaml", parameter_overrides={"DatabaseSslRootCert": root_cert})
    env = next(spec.env for spec in loaded.functions if spec.name == "ItemsFunction")
    assert (env["DB_SSLMODE"], env["DB_SSLROOTCERT"]) == (sslmode, root_cert)
    if root_cert.startswith("/"):  # stands in for the bundle the function would ship at that path
        env["DB_SSLROOTCERT"] = str(tmp_path / "global-bundle.pem")
        Path(env["DB_SSLROOTCERT"]).write_text("-----BEGIN CERTIFICATE-----\n")
    config = DatabaseConfig.from_env({**env, "DATABASE_URL": "postgresql+psycopg2://app@db:5432/app"})
    assert config.sslmode == sslmode
    assert config.sslrootcert == (env["DB_SSLROOTCERT"] or None)


@pytest.mark.parametrize(
    ("value", "allowed"),
    [("", True), ("system", True), ("/opt/python/certs/global-bundle.pem", True), ("certs/bundle.pem", False)],
)
def test_the_ca_bundle_parameter_takes_empty_system_or_an_absolute_path(
    template: dict[str, Any], value: str, allowed: bool
) -> None:
    pattern = template["Parameters"]["DatabaseSslRootCert"]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is allowed


@pytest.mark.parametrize(("use_proxy", "expected"), [("false", "300"), ("true", "0")])
def test_the_idle_session_timeout_parameter_reaches_the_migration_except_through_the_proxy(
    template: dict[str, Any], use_proxy: str, expected: str
) -> None:
    parameter = template["Parameters"]["RoleIdleSessionTimeoutSeconds"]
    assert (parameter["Default"], parameter["MinValue"]) == (DEFAULT_ROLE_IDLE_SESSION_TIMEOUT_S, 0)
    assert parameter["MaxValue"] == MAX_ROLE_IDLE_SESSION_TIMEOUT_S
    loaded = load_template(REPO / "template.yaml", parameter_overrides={"UseRdsProxy": use_proxy})
    env = next(spec.env for spec in loaded.functions if spec.name == "MigrateFunction")
    assert env[ROLE_IDLE_SESSION_TIMEOUT_S] == expected
    assert AppConfig.from_env(env).role_idle_session_timeout_s == int(expected)
