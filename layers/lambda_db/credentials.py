"""Where the user name and password of each new connection come from: the URL, a secret, or an IAM token.

The engine is built once per execution environment, but credentials can change under it: Secrets Manager rotates
the password, and an RDS IAM token expires after 15 minutes. So they are applied in SQLAlchemy's ``do_connect``
event, for every new connection, rather than baked into the engine's URL.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.engine import URL, make_url

from lambda_db.config import DatabaseConfig
from lambda_db.errors import ConfigurationError, DatabaseUnavailableError
from lambda_db.secret_logs import fetching_credentials
from lambda_db.variables import DB_SECRET_ARN

__all__ = ["Credentials"]

DRIVER = "postgresql+psycopg2"
SECRET_KEYS = ("host", "username", "password")


class Credentials:
    """Connection parameters for the next connection, from ``DATABASE_URL``, ``DB_SECRET_ARN`` and/or IAM.

    The secret is fetched through Powertools' ``SecretsProvider`` (cached for ``secret_max_age_s``); after an
    authentication failure :meth:`refresh` fetches it again, bypassing the cache, once per failure.

    A secret that cannot be read for good (denied, missing, not decryptable, not the RDS shape) raises
    ``ConfigurationError``; one that cannot be read for now (Secrets Manager throttling, failing or unreachable, see
    :func:`~lambda_db.aws_errors.is_transient_aws_error`) raises ``DatabaseUnavailableError``: a 503, retried.
    The secret is read only to open a connection, so during an outage a warm connection keeps working. When a
    refresh fails (the server refused the cached password and Secrets Manager cannot be read), the refresh stays
    owed: the next connection fetches again instead of trying the refused password first, and raises the same
    ``DatabaseUnavailableError`` until Secrets Manager answers. No cached copy stands in during an outage: not the
    refused one, and not one older than ``secret_max_age_s`` (Powertools serves none).
    """

    def __init__(self, config: DatabaseConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._secrets: Any = None  # aws_lambda_powertools SecretsProvider, created on first use
        self._rds: Any = None  # boto3 RDS client for IAM tokens, created on first use
        self._force_fetch = False

    @property
    def can_refresh(self) -> bool:
        """True when a fresh copy of the credentials can be fetched (a secret, not a fixed URL)."""
        return self._config.secret_arn is not None

    def url(self) -> URL:
        """The URL the engine is created with (the password may be replaced per connection)."""
        if self._config.url is not None:
            return make_url(self._config.url).set(drivername=DRIVER)
        secret = self._secret()
        return URL.create(
            DRIVER,
            username=str(secret["username"]),
            password=str(secret["password"]),
            host=str(secret["host"]),
            port=int(secret.get("port") or 5432),
            database=str(secret.get("dbname") or "postgres"),
        )

    def refresh(self) -> None:
        """Make the next :meth:`connect_params` fetch the secret from Secrets Manager, not from the cache."""
        with self._lock:
            self._force_fetch = True

    def connect_params(self, cparams: dict[str, Any]) -> dict[str, Any]:
        """``cparams`` (psycopg2 keyword arguments) with the current user, password and address filled in."""
        params = dict(cparams)
        if self._config.secret_arn is not None:
            secret = self._secret()
            params.update(user=str(secret["username"]), password=str(secret["password"]), host=str(secret["host"]))
            params["port"] = int(secret.get("port") or 5432)
            if secret.get("dbname"):
                params["dbname"] = str(secret["dbname"])
        if self._config.iam_auth:
            params["password"] = self._iam_token(params)
        return params

    # -- sources ---------------------------------------------------------------------------------------------------
    def _secret(self) -> dict[str, Any]:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError
        from botocore.config import Config
        from botocore.exceptions import NoRegionError

        from lambda_db.aws_errors import aws_error_name, is_transient_aws_error  # botocore: only with a secret

        arn = self._config.secret_arn
        assert arn is not None
        with self._lock:
            force, self._force_fetch = self._force_fetch, False
            if self._secrets is None:
                # Lambda sets AWS_REGION and AWS_DEFAULT_REGION; boto3 reads only the second, a local run may set
                # only the first.
                region = self._config.aws_region
                try:
                    self._secrets = SecretsProvider(boto_config=Config(region_name=region) if region else None)
                except NoRegionError as exc:
                    raise ConfigurationError(
                        f"{DB_SECRET_ARN} is set but no AWS region is: set AWS_REGION (e.g. us-east-1) to read it"
                    ) from exc
            provider = self._secrets
        try:
            with fetching_credentials():  # at DEBUG, botocore would log the response body: the password
                value = provider.get(arn, transform="json", force_fetch=force, max_age=self._config.secret_max_age_s)
        except (GetParameterError, TransformParameterError) as exc:
            if force:  # the cached copy is the password the server refused: the next connection must fetch again
                with self._lock:
                    self._force_fetch = True
            if isinstance(exc, TransformParameterError):
                raise ConfigurationError(f"{DB_SECRET_ARN}={arn!r}: the secret is not JSON") from exc
            # Powertools raises GetParameterError while handling the SDK's error, not `from` it: it is the context.
            # No secret value in these messages: an AWS error carries its code, its message and the endpoint only.
            sdk_error = exc.__cause__ or exc.__context__ or exc
            failure = f"{DB_SECRET_ARN}={arn!r} could not be read ({aws_error_name(sdk_error)})"
            if is_transient_aws_error(sdk_error):
                raise DatabaseUnavailableError(f"{failure}, Secrets Manager is unavailable for now: {exc}") from exc
            raise ConfigurationError(f"{failure}: {exc}") from exc
        if not isinstance(value, dict) or any(key not in value for key in SECRET_KEYS):
            raise ConfigurationError(
                f"{DB_SECRET_ARN}={arn!r}: the secret must be a JSON object with the keys "
                f"{', '.join(SECRET_KEYS)} (and optionally port, dbname), as RDS writes it"
            )
        engine = str(value.get("engine") or "postgres")
        if not engine.startswith("postgres"):
            raise ConfigurationError(
                f"{DB_SECRET_ARN}={arn!r} is for engine {engine!r}; this layer speaks Postgres only"
            )
        return value

    def _iam_token(self, params: dict[str, Any]) -> str:
        """A fresh RDS IAM token (signed locally, no network call; valid 15 minutes) for this connection."""
        with self._lock:
            if self._rds is None:
                import boto3

                self._rds = boto3.client("rds", region_name=self._config.aws_region)
            rds = self._rds
        with fetching_credentials():  # at DEBUG, botocore.auth would log the token's signature
            return str(
                rds.generate_db_auth_token(
                    DBHostname=params["host"],
                    Port=int(params.get("port") or 5432),
                    DBUsername=params["user"],
                    Region=self._config.aws_region,
                )
            )
