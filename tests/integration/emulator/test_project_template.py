"""The project's own template.yaml runs in the emulator: its functions, layer and routes, against a real Postgres."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from harness.emulator import LocalLambda
from tests.integration.emulator.conftest import wait_until

TEMPLATE = Path(__file__).parents[3] / "template.yaml"

pytestmark = pytest.mark.skipif(not TEMPLATE.is_file(), reason="the project's template.yaml is not there yet")


def test_template_loads_every_function_with_the_layer_and_routes():
    with LocalLambda.from_template(TEMPLATE) as lam:
        specs = {spec.name: spec for spec in lam.pool.specs()}
        routes = {(route.method, route.path) for route in lam.routes}

    assert {"ItemsFunction", "IngestFunction", "MigrateFunction", "JanitorFunction"} <= set(specs)
    items = specs["ItemsFunction"]
    assert items.handler == "app.lambda_handler"
    assert items.reserved_concurrency is not None
    assert items.layers == (TEMPLATE.parent / "layers",)
    assert ("GET", "/health") in routes
    assert ("GET", "/items/{id}") in routes


def test_health_route_answers_through_the_http_api_and_its_connection_lives_with_the_environment(database):
    env = {"DATABASE_URL": database.url, "DB_SECRET_ARN": "", "DB_SSLMODE": "disable"}
    with LocalLambda.from_template(TEMPLATE, env_vars={"ItemsFunction": env}, serve=True) as lam:
        with urllib.request.urlopen(f"{lam.http_api_url}/health", timeout=30) as response:
            status, body = response.status, json.loads(response.read())
        environments = lam.environments("ItemsFunction")

        assert status == 200, body
        assert body["status"] == "ok"
        assert len(environments) == 1
        assert database.connections() == 1  # pool mode "single": the frozen environment keeps its connection
        assert lam.reclaim_idle(0) == 1
        assert wait_until(lambda: database.connections() == 0)
