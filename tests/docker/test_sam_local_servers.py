"""``sam local start-api`` with real HTTP requests, ``sam local start-lambda`` with boto3, and ``harness compare
--target`` against start-lambda, with the connections the compose Postgres saw, counted by the harness's monitor.
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.docker.conftest import DATABASE_URL, REPO, Postgres, SamServer, load_event, serve


def http(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def api(migrated: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamServer]:
    migrated.empty_tables()
    yield from serve("start-api", tmp_path_factory)


@pytest.fixture(scope="module")
def invoke_api(migrated: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SamServer]:
    yield from serve("start-lambda", tmp_path_factory)


@pytest.mark.timeout(900)
def test_start_api_creates_reads_and_pages_items_over_http(api: SamServer) -> None:
    ids = []
    for name in ("bolt", "nut", "washer"):
        status, item = http("POST", f"{api.url}/items", {"name": name, "quantity": 1})
        assert status == 201, item
        ids.append(item["id"])

    status, item = http("GET", f"{api.url}/items/{ids[1]}")
    assert (status, item["name"]) == (200, "nut")

    status, first = http("GET", f"{api.url}/items?limit=2")
    assert status == 200
    assert [i["id"] for i in first["items"]] == ids[:2]
    status, second = http("GET", f"{api.url}/items?limit=2&cursor={first['next_cursor']}")
    assert status == 200
    assert [i["id"] for i in second["items"]] == ids[2:]

    status, error = http("POST", f"{api.url}/items", {"name": "widget", "quantity": "three"})
    assert (status, error["field"]) == (400, "body.quantity")

    status, health = http("GET", f"{api.url}/health")
    assert (status, health["status"]) == (200, "ok")


def test_start_lambda_answers_boto3_invoke(invoke_api: SamServer) -> None:
    client = boto3.client(
        "lambda", endpoint_url=invoke_api.url, region_name="us-east-1", config=Config(read_timeout=300)
    )
    response = client.invoke(FunctionName="ItemsFunction", Payload=json.dumps(load_event("items_health")).encode())
    assert response["StatusCode"] == 200
    payload = json.loads(response["Payload"].read())
    assert payload["statusCode"] == 200
    assert json.loads(payload["body"])["status"] == "ok"

    response = client.invoke(FunctionName="MigrateFunction", Payload=json.dumps(load_event("migrate_invoke")).encode())
    assert json.loads(response["Payload"].read())["applied"] == []

    # SAM CLI's error code is ResourceNotFound; Lambda's own is ResourceNotFoundException. Both are a 404.
    with pytest.raises(ClientError) as missing:
        client.invoke(FunctionName="NoSuchFunction", Payload=b"{}")
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert missing.value.response["Error"]["Code"].startswith("ResourceNotFound")


@pytest.mark.timeout(1800)
def test_harness_compare_drives_start_lambda_and_counts_the_connections(invoke_api: SamServer, tmp_path: Path) -> None:
    command = [str(REPO / ".venv" / "bin" / "harness"), "compare", "--target", invoke_api.url]
    command += ["--database-url", DATABASE_URL, "--label", "sam-local-single"]
    command += ["--scenario", "burst", "--quick", "--output", str(tmp_path)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1800, check=False)
    print(done.stdout)
    assert done.returncode == 0, done.stderr[-3000:]

    (results,) = tmp_path.glob("*/results.json")
    report = json.loads(results.read_text())
    # start-lambda refuses LogType=Tail with a 501 before running the function: the target asks without it and says so
    assert any("LogType=Tail" in note for note in report["parameters"]["notes"]), report["parameters"]
    runs = report["runs"]
    assert [run["step"] for run in runs] == ["c=1", "c=4", "c=8"]
    for run in runs:
        assert all(request["ok"] for request in run["requests"]), run["step"]
        peak = max(sample["app"] for sample in run["samples"])
        assert peak >= 1, run["step"]  # the monitor saw the functions' connections in the container's Postgres
