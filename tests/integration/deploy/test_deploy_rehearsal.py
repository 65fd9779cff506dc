"""The template, deployed for real to a stand-in AWS account: every budget row, both pool modes, with and without
RDS Proxy. Asserted on what CloudFormation created (functions, mappings, roles, outputs), not on the YAML.
"""

from __future__ import annotations

import ast
import itertools
import json
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from moto.iam.aws_managed_policies import aws_managed_policies_data

from tests.integration.deploy.rehearsal import REPO, Rehearsal, RehearsalError, rehearsal

TEMPLATE = REPO / "template.yaml"
BUDGETS = ("10", "25", "50", "100", "200", "400")
POOL_MODES = ("single", "null")
PROXY = ("false", "true")
FUNCTIONS = ("ItemsFunction", "IngestFunction", "MigrateFunction", "JanitorFunction")
OUTPUTS = ("ItemsFunctionName", "IngestFunctionName", "MigrateFunctionName", "JanitorFunctionName", "IngestQueueUrl")
DB_INSTANCE = "app-db"
AWS_MANAGED = "arn:aws:iam::aws:policy/"
AWS_MANAGED_POLICIES: dict[str, dict[str, Any]] = json.loads(aws_managed_policies_data)

pytestmark = [
    pytest.mark.slow,
    # moto's CloudFormation skips the HTTP API (AWS::ApiGatewayV2::*) with this warning: the routes are not rehearsed.
    pytest.mark.filterwarnings("ignore:Tried to parse AWS::ApiGatewayV2"),
]


@dataclass(frozen=True)
class Account:
    """What a user has before the first deploy: a secret, private subnets, a security group, a database."""

    secret_arn: str
    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]


@dataclass(frozen=True)
class Deployment:
    rehearsal: Rehearsal
    account: Account
    templates: dict[tuple[str, str, str], dict[str, Any]]


def _parameters(account: Account, budget: str, pool_mode: str, proxy: str) -> dict[str, str]:
    parameters = {
        "DatabaseSecretArn": account.secret_arn,
        "SubnetIds": ",".join(account.subnet_ids),
        "SecurityGroupIds": ",".join(account.security_group_ids),
        "ConnectionBudget": budget,
        "PoolMode": pool_mode,
        "UseRdsProxy": proxy,
        "RunMigrationsOnDeploy": "false",  # the custom resource would need the function to run (Docker)
    }
    if proxy == "true":
        parameters["DatabaseInstanceIdentifier"] = DB_INSTANCE
    return parameters


def _prepare_account(stage: Rehearsal) -> Account:
    ec2 = stage.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = tuple(
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{n}.0/24", AvailabilityZone=f"us-east-1{zone}")["Subnet"][
            "SubnetId"
        ]
        for n, zone in ((1, "a"), (2, "b"))
    )
    group = ec2.create_security_group(GroupName="functions", Description="the functions", VpcId=vpc)["GroupId"]
    secret = stage.client("secretsmanager").create_secret(Name="app/db", SecretString='{"username": "app"}')["ARN"]
    stage.client("rds").create_db_instance(
        DBInstanceIdentifier=DB_INSTANCE,
        Engine="postgres",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="postgres",
        MasterUserPassword="not-a-real-password",
    )
    return Account(secret_arn=secret, subnet_ids=subnets, security_group_ids=(group,))


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    with rehearsal(tmp_path_factory.mktemp("rehearsal")) as stage:
        account = _prepare_account(stage)
        packaged = stage.package(TEMPLATE)
        matrix = list(itertools.product(BUDGETS, POOL_MODES, PROXY))
        transformed = stage.transform(packaged, [_parameters(account, *row) for row in matrix])
        yield Deployment(stage, account, dict(zip(matrix, transformed, strict=True)))


def test_sam_package_uploaded_every_function_and_the_layer_to_s3(deployment: Deployment) -> None:
    packaged = yaml.safe_load((deployment.rehearsal.workdir / "packaged.yaml").read_text().replace("!", ""))
    uris = [resource["Properties"].get("CodeUri") or resource["Properties"].get("ContentUri")
            for resource in packaged["Resources"].values()
            if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion")]  # fmt: skip
    assert len(uris) == len(FUNCTIONS) + 1
    s3 = deployment.rehearsal.client("s3")
    for uri in uris:
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] > 0


def _policy_arns(template: dict[str, Any], role: str, resources: dict[str, dict[str, Any]]) -> list[str]:
    """The managed policies of a role, by ARN: ``Ref`` to the stack's own policies resolved to what was created.

    moto's CloudFormation creates the role but does not attach its ``ManagedPolicyArns``, so the list comes from
    the transformed template; every policy document it names is then read from IAM as CloudFormation created it.
    """
    arns = template["Resources"][role]["Properties"].get("ManagedPolicyArns", [])
    return [resources[arn["Ref"]]["PhysicalResourceId"] if isinstance(arn, dict) else arn for arn in arns]


def _statements(iam: Any, role_name: str, policy_arns: list[str]) -> list[dict[str, Any]]:
    """Every statement of the role's managed policies and of its inline policies, as IAM holds them."""
    documents = []
    for arn in policy_arns:
        if arn.startswith(AWS_MANAGED):  # AWS's own policies: the documents moto ships (it loads none by default)
            documents.append(AWS_MANAGED_POLICIES[arn.rsplit("/", 1)[-1]]["Document"])
            continue
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
        version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
        documents.append(version["PolicyVersion"]["Document"])
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        documents.append(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"])
    statements: list[dict[str, Any]] = []
    for document in documents:
        if isinstance(document, str):
            # An inline policy that moto's CloudFormation created comes back as the repr of a Python dict, not JSON.
            document = ast.literal_eval(urllib.parse.unquote(document))
        found = document["Statement"]
        statements.extend(found if isinstance(found, list) else [found])
    return statements


def _as_list(value: Any) -> list[str]:
    return value if isinstance(value, list) else [value]


def _secret_grants(iam: Any, role_name: str, policy_arns: list[str]) -> list[str]:
    """The resources the role may call Secrets Manager on (``*`` actions count)."""
    resources: list[str] = []
    for statement in _statements(iam, role_name, policy_arns):
        actions = _as_list(statement.get("Action", []))
        if statement.get("Effect") == "Allow" and any(a == "*" or a.startswith("secretsmanager:") for a in actions):
            resources.extend(_as_list(statement.get("Resource", [])))
    return resources


@pytest.mark.parametrize(("budget", "pool_mode", "proxy"), list(itertools.product(BUDGETS, POOL_MODES, PROXY)))
def test_the_stack_deploys_within_its_connection_budget_with_least_privilege(
    deployment: Deployment, budget: str, pool_mode: str, proxy: str
) -> None:
    stage, account = deployment.rehearsal, deployment.account
    name = f"rehearsal-{budget}-{pool_mode}-{'proxy' if proxy == 'true' else 'direct'}"
    template = deployment.templates[budget, pool_mode, proxy]
    stack = stage.create_stack(name, template, _parameters(account, budget, pool_mode, proxy))
    assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
    resources = stage.stack_resources(name)
    lambda_ = stage.client("lambda")
    iam = stage.client("iam")
    functions = {logical: resources[logical]["PhysicalResourceId"] for logical in FUNCTIONS}

    # Connections: every environment holds at most one, and Lambda runs at most `reserved` environments.
    reserved = {
        logical: lambda_.get_function_concurrency(FunctionName=physical)["ReservedConcurrentExecutions"]
        for logical, physical in functions.items()
    }
    (mapping,) = lambda_.list_event_source_mappings(FunctionName=functions["IngestFunction"])["EventSourceMappings"]
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == reserved["IngestFunction"]
    assert sum(reserved.values()) <= int(budget)
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    for logical, physical in functions.items():
        configuration = lambda_.get_function_configuration(FunctionName=physical)
        # Every function in the private subnets, behind the security group the user named.
        assert sorted(configuration["VpcConfig"]["SubnetIds"]) == sorted(account.subnet_ids), logical
        assert configuration["VpcConfig"]["SecurityGroupIds"] == list(account.security_group_ids), logical
        variables = configuration["Environment"]["Variables"]
        expected_mode = "null" if proxy == "true" or logical == "MigrateFunction" else pool_mode
        assert variables["DB_POOL_MODE"] == expected_mode, logical
        # Least privilege: the one secret, and only where the function itself reads it.
        role = resources[f"{logical}Role"]["PhysicalResourceId"]
        assert configuration["Role"].endswith(f"/{role}")
        grants = _secret_grants(iam, role, _policy_arns(template, f"{logical}Role", resources))
        if proxy == "true":
            assert grants == [], logical
            assert variables["DB_SECRET_ARN"] == ""
            assert ".db-proxy-" in variables["DATABASE_URL"]
        else:
            assert grants == [account.secret_arn], logical
            assert variables["DB_SECRET_ARN"] == account.secret_arn
        if logical == "MigrateFunction":
            assert str(variables["ROLE_IDLE_SESSION_TIMEOUT_S"]) == (
                "0" if proxy == "true" else "300"
            )  # moto keeps the Number

    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}
    assert set(OUTPUTS) <= set(outputs)
    assert outputs["ItemsFunctionName"] == functions["ItemsFunction"]
    assert ("ProxyEndpoint" in outputs) is (proxy == "true")
    if proxy == "true":
        proxy_role = resources["DbProxyRole"]["PhysicalResourceId"]
        assert _secret_grants(iam, proxy_role, _policy_arns(template, "DbProxyRole", resources)) == [account.secret_arn]
        (described,) = stage.client("rds").describe_db_proxies(DBProxyName=resources["DbProxy"]["PhysicalResourceId"])[
            "DBProxies"
        ]
        assert described["RequireTLS"] is True
        assert described["Auth"][0]["IAMAuth"] == "REQUIRED"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"ConnectionBudget": "30"}, "Parameter 'ConnectionBudget' must be one of AllowedValues"),
        ({"DatabaseSecretArn": "my-secret"}, "must be a Secrets Manager secret ARN"),
        ({"RoleIdleSessionTimeoutSeconds": "-5"}, "'RoleIdleSessionTimeoutSeconds' must be a number not less than 0"),
        ({"RoleIdleSessionTimeoutSeconds": "86401"}, "must be a number not greater than 86400"),
        ({"DatabaseSslRootCert": "certs/ca.pem"}, "must be empty, system, or an absolute path"),
        ({"PoolMode": "queue"}, "Parameter 'PoolMode' must be one of AllowedValues"),
    ],
)
def test_a_parameter_outside_what_the_template_allows_is_refused_before_anything_is_created(
    deployment: Deployment, override: dict[str, str], message: str
) -> None:
    stage = deployment.rehearsal
    parameters = {**_parameters(deployment.account, "25", "single", "false"), **override}
    name = f"rehearsal-refused-{len(message)}"
    with pytest.raises(RehearsalError, match=re.escape(message)):
        stage.create_stack(name, deployment.templates["25", "single", "false"], parameters)
    stacks = stage.client("cloudformation").list_stacks()["StackSummaries"]
    assert name not in {stack["StackName"] for stack in stacks}
