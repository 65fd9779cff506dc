"""Credentials per connection: the URL's, or an RDS IAM token made fresh for every new connection."""

from __future__ import annotations

import pytest

from lambda_db import DatabaseConfig
from lambda_db.credentials import Credentials

URL = "postgresql+psycopg2://app:url-password@db.example:5432/app"
PARAMS = {"host": "db.example", "port": 5432, "user": "app", "password": "url-password", "dbname": "app"}


def test_url_credentials_pass_through_unchanged() -> None:
    credentials = Credentials(DatabaseConfig(url=URL))
    assert credentials.connect_params(PARAMS) == PARAMS
    assert not credentials.can_refresh


def test_iam_auth_replaces_the_password_with_a_signed_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    credentials = Credentials(DatabaseConfig(url=URL, iam_auth=True, sslmode="require", aws_region="eu-west-1"))
    params = credentials.connect_params(PARAMS)
    token = params["password"]
    assert token != "url-password"
    assert token.startswith("db.example:5432/?Action=connect")
    assert "DBUser=app" in token
    assert "eu-west-1" in token
    assert {k: v for k, v in params.items() if k != "password"} == {k: v for k, v in PARAMS.items() if k != "password"}
