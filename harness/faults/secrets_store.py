"""A Secrets Manager for the lab: moto's server on loopback, holding the database secret in the RDS JSON shape.

Secrets Manager cannot run here, so moto stands in for it; everything talking to it is the real boto3 client (the
layer reads the secret through Powertools, exactly as in AWS).
"""

from __future__ import annotations

import json
import logging
import uuid
from types import TracebackType
from typing import Any

import boto3

__all__ = ["LabSecrets"]

REGION = "us-east-1"
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "lab", "AWS_SECRET_ACCESS_KEY": "lab"}


class LabSecrets:
    """One moto server with one secret; :meth:`rotate` writes a new password as a rotation's finishSecret would."""

    def __init__(self, *, name: str | None = None) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request is noise here

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        # moto keeps its state per process, not per server: a unique name keeps two labs in one process apart
        self.name = name or f"serverless-sqlalchemy/lab-{uuid.uuid4().hex[:8]}"
        self.endpoint = ""
        self.arn = ""
        self.passwords_written: list[str] = []  # every rotated password, so a run can check no log line holds one

    def start(self, *, host: str, port: int, username: str, password: str, dbname: str) -> LabSecrets:
        self._server.start()
        address, port_number = self._server.get_host_and_port()
        self.endpoint = f"http://{address}:{port_number}"
        self._secret = {"engine": "postgres", "host": host, "port": port, "username": username, "dbname": dbname}
        created = self._client().create_secret(
            Name=self.name, SecretString=json.dumps({**self._secret, "password": password})
        )
        self.arn = str(created["ARN"])
        return self

    def rotate(self, password: str) -> None:
        self.passwords_written.append(password)
        self._client().put_secret_value(
            SecretId=self.arn, SecretString=json.dumps({**self._secret, "password": password})
        )

    def function_env(self) -> dict[str, str]:
        """What a function needs to find this secret: its ARN, the endpoint, a region and dummy credentials."""
        return {
            "DB_SECRET_ARN": self.arn,
            "DATABASE_URL": "",
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            **DUMMY_CREDENTIALS,
        }

    def _client(self) -> Any:
        return boto3.client(
            "secretsmanager",
            region_name=REGION,
            endpoint_url=self.endpoint,
            aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> LabSecrets:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
