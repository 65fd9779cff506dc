"""Credentials per connection: the URL's, or an RDS IAM token made fresh for every new connection."""

from __future__ import annotations

import io
import logging

import pytest

from lambda_db import ConfigurationError, DatabaseConfig
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


def test_an_iam_token_made_at_debug_level_is_not_logged(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore.auth logs the signature it computes at DEBUG: with it, the token (a password) could be rebuilt."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    credentials = Credentials(DatabaseConfig(url=URL, iam_auth=True, sslmode="require", aws_region="eu-west-1"))
    root, stream = logging.getLogger(), io.StringIO()
    handler, previous = logging.StreamHandler(stream), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        credentials.connect_params(PARAMS)  # the first token builds the client; its loggers exist from then on
        signature = credentials.connect_params(PARAMS)["password"].split("X-Amz-Signature=")[1]
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
    assert stream.getvalue()  # DEBUG was on: botocore did log
    assert stream.getvalue().count(signature) == 0


def test_a_secret_without_an_aws_region_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_PROFILE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")  # no region from a config file either
    credentials = Credentials(DatabaseConfig(secret_arn="arn:aws:secretsmanager:eu-west-1:1:secret:db"))
    with pytest.raises(ConfigurationError, match="DB_SECRET_ARN is set but no AWS region is: set AWS_REGION"):
        credentials.connect_params(PARAMS)
