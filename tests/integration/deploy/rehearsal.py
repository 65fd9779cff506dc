"""A deploy rehearsal without an AWS account: ``sam package``, the SAM transform, then CloudFormation, in moto.

``sam deploy`` packages the code to S3, and CloudFormation runs the ``AWS::Serverless-2016-10-31`` transform
before it creates anything. moto's CloudFormation has no SAM transform (a stack of the raw template "succeeds" and
creates no function), so the rehearsal does the same steps by hand, each with the real tool:

1. ``sam package`` (SAM CLI, from ``.venv-sam``) zips every ``CodeUri`` / ``ContentUri`` and uploads it to S3;
2. ``scripts/sam_transform.py`` runs SAM CLI's own ``samtranslator`` on the packaged template;
3. ``create_stack`` hands the result to CloudFormation, which creates the functions, roles, queues and mappings.

Every AWS API here is moto's server on loopback; ``moto_rds_proxy`` teaches its CloudFormation the RDS Proxy.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from tests.integration.deploy import moto_rds_proxy  # noqa: F401 - registers the RDS Proxy resources

REPO = Path(__file__).resolve().parents[3]
SAM_VENV = REPO / ".venv-sam"
REGION = "us-east-1"
BUCKET = "rehearsal-artifacts"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": REGION}
STACK_TIMEOUT_S = 120


class RehearsalError(RuntimeError):
    """A step of the rehearsal failed; the message carries the tool's own words."""


class Rehearsal:
    """One moto server standing in for an AWS account, and the steps ``sam deploy`` takes against it."""

    def __init__(self, endpoint: str, workdir: Path) -> None:
        self.endpoint = endpoint
        self.workdir = workdir

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint, **CREDENTIALS)

    def _sam_environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "SAM_CLI_TELEMETRY": "0",
            "SAM_CLI_DISABLE_UPDATE_CHECK": "1",
        }

    def _run(self, step: str, argv: list[str]) -> str:
        result = subprocess.run(
            argv, cwd=REPO, env=self._sam_environment(), capture_output=True, text=True, timeout=300, check=False
        )
        if result.returncode != 0:
            raise RehearsalError(f"{step} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
        return result.stdout

    def package(self, template: Path) -> Path:
        """``sam package``: the code goes to S3, the template that comes back names it by ``s3://`` URI."""
        self.client("s3").create_bucket(Bucket=BUCKET)
        packaged = self.workdir / "packaged.yaml"
        self._run(
            "sam package",
            [str(SAM_VENV / "bin" / "sam"), "package", "--template-file", str(template), "--s3-bucket", BUCKET,
             "--output-template-file", str(packaged)],
        )  # fmt: skip
        return packaged

    def transform(self, packaged: Path, parameter_sets: list[Mapping[str, str]]) -> list[dict[str, Any]]:
        """The SAM transform of ``packaged``, once per parameter set, by SAM CLI's own translator."""
        script = REPO / "scripts" / "sam_transform.py"
        out = self._run(
            "the SAM transform",
            [str(SAM_VENV / "bin" / "python"), str(script), str(packaged), json.dumps(parameter_sets)],
        )
        transformed: list[dict[str, Any]] = json.loads(out)
        return transformed

    def create_stack(self, name: str, template: Mapping[str, Any], parameters: Mapping[str, str]) -> dict[str, Any]:
        """Create the stack from an S3 template URL (as ``sam deploy`` does) and wait for it to settle.

        The parameter values are checked against the template's constraints first, as CloudFormation does before
        it creates anything (moto does not check them).
        """
        check_parameters(template, parameters)
        key = f"{name}.json"
        self.client("s3").put_object(Bucket=BUCKET, Key=key, Body=json.dumps(template).encode())
        cloudformation = self.client("cloudformation")
        cloudformation.create_stack(
            StackName=name,
            TemplateURL=f"{self.endpoint}/{BUCKET}/{key}",  # path style: moto parses it only on localhost
            Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        deadline = time.monotonic() + STACK_TIMEOUT_S
        while True:
            stack: dict[str, Any] = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
            if not stack["StackStatus"].endswith("_IN_PROGRESS") or time.monotonic() > deadline:
                return stack
            time.sleep(0.1)

    def stack_resources(self, name: str) -> dict[str, dict[str, Any]]:
        """The stack's resources by logical id."""
        summaries = self.client("cloudformation").list_stack_resources(StackName=name)["StackResourceSummaries"]
        return {summary["LogicalResourceId"]: summary for summary in summaries}


def check_parameters(template: Mapping[str, Any], values: Mapping[str, str]) -> None:
    """Refuse values outside a parameter's ``AllowedValues``, ``AllowedPattern`` or ``MinValue`` / ``MaxValue``.

    The messages are CloudFormation's own (``ValidationError`` on ``CreateStack``).
    """
    declared: Mapping[str, Mapping[str, Any]] = template.get("Parameters", {})
    for name in sorted(set(values) - set(declared)):
        raise RehearsalError(f"Parameters: [{name}] do not exist in the template")
    for name, spec in declared.items():
        if name not in values and "Default" not in spec:
            raise RehearsalError(f"Parameters: [{name}] must have values")
        value = str(values.get(name, spec.get("Default", "")))
        items = value.split(",") if str(spec.get("Type", "")).startswith("List<") else [value]
        for item in items:
            _check_one(name, spec, item)


def _check_one(name: str, spec: Mapping[str, Any], value: str) -> None:
    constraint = spec.get("ConstraintDescription")
    if "AllowedValues" in spec and value not in [str(allowed) for allowed in spec["AllowedValues"]]:
        raise RehearsalError(constraint or f"Parameter '{name}' must be one of AllowedValues")
    if "AllowedPattern" in spec and re.fullmatch(spec["AllowedPattern"], value) is None:
        raise RehearsalError(f"Parameter {name} failed to satisfy constraint: {constraint or spec['AllowedPattern']}")
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            raise RehearsalError(f"Parameter '{name}' must be a number") from None
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise RehearsalError(f"Parameter '{name}' must be a number not less than {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise RehearsalError(f"Parameter '{name}' must be a number not greater than {spec['MaxValue']}")


@contextmanager
def rehearsal(workdir: Path) -> Iterator[Rehearsal]:
    """A moto server on loopback for the length of the block (``localhost``: moto reads path-style S3 URLs there)."""
    if not (SAM_VENV / "bin" / "sam").exists():
        subprocess.run(["bash", str(REPO / "scripts" / "sam-venv.sh")], cwd=REPO, check=True, timeout=900)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        _, port = server.get_host_and_port()
        yield Rehearsal(f"http://localhost:{port}", workdir)
    finally:
        server.stop()
