"""A custom-resource event CloudFormation would never send is refused (answered FAILED when it can be answered) and
migrates nothing: the database stays empty."""

from __future__ import annotations

import http.server
import json
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from app_model import InvalidInputError
from harness.kit.lambda_context import LambdaContext
from harness.postgres import PostgresServer
from tests.conftest import APP_PASSWORD, APP_ROLE
from tests.integration.bad_input import strategies as bad
from tests.integration.functions.conftest import Function, load_event

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class CloudFormation:
    """Stands in for the pre-signed response URL: keeps every answer PUT to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        received = self.received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/presigned"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Migrator:
    """The migrate function on an empty database (a plain class, so a failing example never prints a password)."""

    def __init__(self, function: Function, postgres: PostgresServer, name: str) -> None:
        self.function, self.postgres, self.name = function, postgres, name

    def __call__(self, event: Any) -> Any:
        return self.function.module.lambda_handler(event, LambdaContext("MigrateFunction"))

    def tables(self) -> int:
        rows = self.postgres.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database=self.name)
        return int(rows[0][0])

    def __repr__(self) -> str:
        return f"Migrator({self.name})"


@pytest.fixture
def cloudformation() -> Iterator[CloudFormation]:
    cfn = CloudFormation()
    yield cfn
    cfn.server.shutdown()
    cfn.server.server_close()


@pytest.fixture
def migrator(load_function: Callable[..., Function], postgres: PostgresServer) -> Iterator[Migrator]:
    name = f"empty_{uuid.uuid4().hex[:12]}"
    postgres.create_database(name, owner=APP_ROLE)
    function = load_function("migrate", url=postgres.url(name, user=APP_ROLE, password=APP_PASSWORD))
    yield Migrator(function, postgres, name)
    function.module.db.dispose()
    postgres.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@FUZZ
@given(request_type=bad.any_text.filter(lambda text: text not in ("Create", "Update", "Delete")) | bad.not_a_string)
def test_an_unknown_request_type_is_answered_failed_and_migrates_nothing(
    migrator: Migrator, cloudformation: CloudFormation, request_type: Any
) -> None:
    event = load_event("migrate_custom_resource_create")
    event.update(RequestType=request_type, ResponseURL=cloudformation.url)
    cloudformation.received.clear()

    result = migrator(event)

    assert [answer["Status"] for answer in cloudformation.received] == ["FAILED"]
    assert cloudformation.received[0]["Reason"].startswith("RequestType ")
    assert result["error"] == cloudformation.received[0]["Reason"]
    assert migrator.tables() == 0


@FUZZ
@given(url=bad.any_text.filter(lambda text: not text.startswith(("http://", "https://"))) | bad.not_a_string)
def test_a_response_url_that_is_not_http_is_refused_before_migrating(migrator: Migrator, url: Any) -> None:
    event = load_event("migrate_custom_resource_create")
    event["ResponseURL"] = url

    with pytest.raises(InvalidInputError, match=r"^ResponseURL: must be an http"):
        migrator(event)
    assert migrator.tables() == 0
