"""Run the SAM transform on a packaged template, as ``sam deploy`` has CloudFormation do, and print the result.

Runs in SAM CLI's own venv (``.venv-sam``), whose ``samtranslator`` is the one ``sam deploy`` ships: the project's
venv pins a pydantic that this translator does not accept. Managed policy names are resolved through IAM at
``AWS_ENDPOINT_URL`` (the deploy rehearsal points it at a local stand-in for AWS).

Usage: ``python scripts/sam_transform.py PACKAGED_TEMPLATE PARAMETERS_JSON`` where ``PARAMETERS_JSON`` is a JSON list
of ``{"Name": "Value"}`` objects; prints a JSON list of transformed templates, one per parameter set, or exits 2
with the transform's own message.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import boto3
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    template_text = Path(argv[0]).read_text()
    parameter_sets = json.loads(argv[1])
    loader = ManagedPolicyLoader(boto3.client("iam"))
    results = []
    for parameters in parameter_sets:
        try:
            results.append(transform(yaml_parse(template_text), parameters, loader))
        except InvalidDocumentException as exc:
            messages = "; ".join(cause.message for cause in exc.causes)
            print(f"the SAM transform refused the template with {parameters}: {messages}", file=sys.stderr)
            return 2
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
