"""``sam local invoke --config-env local`` of every function with every event file in events/, each answer checked.

The functions run in SAM CLI's containers on the compose network and reach Postgres by its service name, as the
README tells a Docker user. The custom resource events get a ResponseURL on this host (the compose network's
gateway), where a small server records what the function answered CloudFormation.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.docker.conftest import EVENTS, Postgres, load_event, sam_invoke

POISON_ID = "00000000-0000-4000-8000-000000000002"


def body(answer: dict[str, Any]) -> Any:
    return json.loads(answer["body"])


def bad_request(status: int, field: str) -> Callable[[dict[str, Any]], None]:
    def check(answer: dict[str, Any]) -> None:
        assert answer["statusCode"] == status, answer
        assert body(answer)["field"] == field, answer

    return check


def created(answer: dict[str, Any]) -> None:
    assert answer["statusCode"] == 201, answer
    assert body(answer)["id"] == 1
    assert answer["headers"]["Location"] == "/items/1"


def replayed(answer: dict[str, Any]) -> None:
    assert answer["statusCode"] == 201, answer
    assert answer["headers"]["Idempotent-Replayed"] == "true"


def fetched(answer: dict[str, Any]) -> None:
    assert answer["statusCode"] == 200, answer
    assert body(answer)["name"] == "widget"


def replaced(answer: dict[str, Any]) -> None:
    assert answer["statusCode"] == 200, answer
    assert (body(answer)["name"], body(answer)["quantity"]) == ("widget v2", 5)


def listed(answer: dict[str, Any]) -> None:
    assert answer["statusCode"] == 200, answer
    page = body(answer)
    assert [item["id"] for item in page["items"]] == [1, 2]  # items_create, then items_create_idempotent
    assert "next_cursor" in page


def healthy(answer: dict[str, Any]) -> None:
    assert answer["statusCode"] == 200, answer
    health = body(answer)
    assert health["status"] == "ok"
    assert health["pool"]["mode"] == "single"
    assert health["server_connections"]["count"] == 1  # this environment's one connection


def status(code: int) -> Callable[[dict[str, Any]], None]:
    def check(answer: dict[str, Any]) -> None:
        assert answer["statusCode"] == code, answer

    return check


# Every items event file with what its answer must be: first those that change the table, in the order a user
# would send them to an empty one; then those whose answer does not depend on it (bad input, a missing id).
ITEMS_IN_ORDER: dict[str, Callable[[dict[str, Any]], None]] = {
    "items_create": created,
    "items_create_idempotent": status(201),
    "items_get": fetched,
    "items_list": listed,
    "items_health": healthy,
    "items_replace": replaced,
    "items_delete": status(204),
}
ITEMS_ANY_ORDER: dict[str, Callable[[dict[str, Any]], None]] = {
    "items_create_wrong_types": bad_request(400, "body.quantity"),
    "items_create_missing_field": bad_request(400, "body.name"),
    "items_create_name_too_long": bad_request(400, "body.name"),
    "items_create_unknown_field": bad_request(400, "body.colour"),
    "items_create_empty_body": bad_request(400, "body"),
    "items_create_malformed_json": bad_request(400, "body"),
    "items_create_oversized": bad_request(413, "body"),
    "items_get_bad_id": bad_request(400, "id"),
    "items_list_bad_cursor": bad_request(400, "cursor"),
    "items_list_bad_limit": bad_request(400, "limit"),
    "items_replace_wrong_types": bad_request(400, "body.quantity"),
    "items_get_missing": status(404),
}
ITEMS = {**ITEMS_IN_ORDER, **ITEMS_ANY_ORDER}
OTHERS = ("ingest_batch", "ingest_batch_poison", "janitor_schedule", "migrate_invoke")
CUSTOM_RESOURCE = ("migrate_custom_resource_create", "migrate_custom_resource_update", "migrate_custom_resource_delete")


def test_every_event_file_has_a_checked_answer() -> None:
    files = {path.stem for path in EVENTS.glob("*.json")}
    assert files == set(ITEMS) | set(OTHERS) | set(CUSTOM_RESOURCE)


@pytest.mark.timeout(1200)
def test_items_function_answers_every_items_event(migrated: Postgres, tmp_path: Path) -> None:
    migrated.empty_tables()
    # Each `sam local invoke` is a process and a container of its own: the independent ones run two at a time,
    # beside the ordered sequence.
    with ThreadPoolExecutor(max_workers=2) as pool:
        any_order = {name: pool.submit(sam_invoke, "ItemsFunction", name, tmp_path) for name in ITEMS_ANY_ORDER}
        answers = {name: sam_invoke("ItemsFunction", name, tmp_path) for name in ITEMS_IN_ORDER}
        answers.update({name: future.result() for name, future in any_order.items()})
    failures = []
    for name, check in ITEMS.items():
        try:
            check(answers[name])
        except AssertionError as error:
            failures.append(f"{name}: {error}")
    assert not failures, "\n".join(failures)
    assert migrated.execute("SELECT id FROM items") == [(2,)]  # 1 was created, replaced, deleted
    replayed(sam_invoke("ItemsFunction", "items_create_idempotent", tmp_path))


def test_ingest_writes_a_batch_and_reports_the_poison_record_alone(migrated: Postgres, tmp_path: Path) -> None:
    migrated.empty_tables()
    assert sam_invoke("IngestFunction", "ingest_batch", tmp_path) == {"batchItemFailures": []}
    migrated.empty_tables()
    poison = sam_invoke("IngestFunction", "ingest_batch_poison", tmp_path)
    assert poison == {"batchItemFailures": [{"itemIdentifier": POISON_ID}]}
    assert migrated.execute("SELECT name FROM items ORDER BY id") == [("bolt",), ("washer",)]


def test_janitor_deletes_the_expired_keys_and_counts_them(migrated: Postgres, tmp_path: Path) -> None:
    migrated.empty_tables()
    migrated.execute(
        "INSERT INTO idempotency_keys (key, request_hash, status_code, response, created_at) VALUES "
        "('old', 'h', 201, '{}', now() - interval '2 days'), ('new', 'h', 201, '{}', now() - interval '1 hour')"
    )
    answer = sam_invoke("JanitorFunction", "janitor_schedule", tmp_path)
    assert answer == {"deleted": 1, "batches": 1, "finished": True, "ttl_s": 86400}
    assert migrated.execute("SELECT key FROM idempotency_keys") == [("new",)]


def test_migrate_run_again_applies_nothing(migrated: Postgres, tmp_path: Path) -> None:
    answer = sam_invoke("MigrateFunction", "migrate_invoke", tmp_path)
    assert answer["applied"] == []
    assert migrated.connections(application_prefix="MigrateFunction") == 0  # null mode, container gone


class _Recorder(http.server.BaseHTTPRequestHandler):
    answers: list[dict[str, Any]] = []

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.answers.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def response_url() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A pre-signed-URL stand-in the function's container can reach: this host on the compose network."""
    gateway = subprocess.run(
        ["docker", "network", "inspect", "serverless-sqlalchemy", "-f", "{{(index .IPAM.Config 0).Gateway}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    answers: list[dict[str, Any]] = []
    handler = type("Recorder", (_Recorder,), {"answers": answers})
    server = http.server.ThreadingHTTPServer((gateway, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{gateway}:{server.server_address[1]}/presigned", answers
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("name", CUSTOM_RESOURCE)
def test_migrate_answers_cloudformation_for_each_request_type(
    migrated: Postgres, tmp_path: Path, response_url: tuple[str, list[dict[str, Any]]], name: str
) -> None:
    url, answers = response_url
    event = {**load_event(name), "ResponseURL": url}
    sam_invoke("MigrateFunction", event, tmp_path)
    assert len(answers) == 1
    assert answers[0]["Status"] == "SUCCESS", answers[0]
    assert answers[0]["RequestId"] == event["RequestId"]
