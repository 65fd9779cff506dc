"""TLS with the server's certificate verified (``DB_SSLMODE=verify-full`` + ``DB_SSLROOTCERT``), end to end.

The embedded Postgres is built without OpenSSL, so the TLS endpoint is PgBouncer in front of it, which is also the
shape of the real thing: RDS Proxy terminates TLS the same way. The certificates are made here: a certificate
authority, a server certificate it signs for 127.0.0.1 and ``db.internal``, and an unrelated authority.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import text

from harness.pgbouncer import INSTALL_HINT, PgBouncer, find_pgbouncer
from harness.postgres import EmbeddedPostgres
from lambda_db import Database, DatabaseConfig, DatabaseUnavailableError
from tests.conftest import APP_PASSWORD, APP_ROLE, TestDatabase

ONE_DAY = datetime.timedelta(days=1)


@dataclass
class Certificates:
    ca: Path  # the authority that signed the server's certificate
    other_ca: Path  # one that did not
    server: Path
    server_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    key: ec.EllipticCurvePrivateKey,
    subject: str,
    extensions: list[tuple[x509.ExtensionType, bool]],
    *,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None = None,
) -> x509.Certificate:
    """A certificate for ``key``, valid a day either side of now; self-signed unless ``issuer`` (name, key) is given.

    ``extensions``: each with whether it is critical.
    """
    issuer_name, signing_key = issuer or (_name(subject), key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - ONE_DAY)
        .not_valid_after(now + ONE_DAY)
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(signing_key, hashes.SHA256())


def _authority(directory: Path, common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _certificate(
        key,
        common_name,
        [
            (x509.BasicConstraints(ca=True, path_length=None), True),
            (x509.KeyUsage(False, False, False, False, False, True, True, False, False), True),
            (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
        ],
    )
    path = directory / f"{common_name.replace(' ', '-')}.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return certificate, key, path


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    directory = tmp_path_factory.mktemp("tls")
    ca, ca_key, ca_path = _authority(directory, "test root CA")
    _, _, other_path = _authority(directory, "unrelated root CA")
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("db.internal"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = _certificate(
        key,
        "db.internal",
        [
            (x509.SubjectAlternativeName(names), False),
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
        ],
        issuer=(ca.subject, ca_key),
    )
    server, server_key = directory / "server.crt", directory / "server.key"
    server.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    server_key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Certificates(ca=ca_path, other_ca=other_path, server=server, server_key=server_key)


@pytest.fixture
def tls_endpoint(database: TestDatabase, certificates: Certificates) -> Iterator[tuple[PgBouncer, TestDatabase]]:
    """PgBouncer that accepts only TLS, with the server certificate above, in front of the test's database."""
    if find_pgbouncer() is None:
        pytest.skip(INSTALL_HINT)
    if not isinstance(database.server, EmbeddedPostgres):
        pytest.skip("runs PgBouncer in front of the embedded server")
    tls = (certificates.server, certificates.server_key)
    with PgBouncer(database.server, users={APP_ROLE: APP_PASSWORD}, default_pool_size=2, tls=tls) as bouncer:
        yield bouncer, database


def _database(endpoint: tuple[PgBouncer, TestDatabase], host: str = "127.0.0.1", **tls: str) -> Database:
    bouncer, database = endpoint
    url = bouncer.url(database.name, user=APP_ROLE, password=APP_PASSWORD).replace(bouncer.host, host, 1)
    return Database(DatabaseConfig(url=url, pool_mode="null", application_name="tls-test", **tls))


def _ssl_in_use(db: Database) -> bool:
    with db.read() as conn:
        conn.execute(text("SELECT 1"))
        return bool(conn.connection.dbapi_connection.info.ssl_in_use)  # type: ignore[union-attr]


def test_verify_full_with_the_servers_authority_connects_over_tls(
    tls_endpoint: tuple[PgBouncer, TestDatabase], certificates: Certificates
) -> None:
    db = _database(tls_endpoint, sslmode="verify-full", sslrootcert=str(certificates.ca))
    try:
        assert _ssl_in_use(db)
    finally:
        db.dispose()


def test_a_certificate_from_another_authority_is_refused(
    tls_endpoint: tuple[PgBouncer, TestDatabase], certificates: Certificates
) -> None:
    """What verification is for: a server that cannot prove it is the database gets no password."""
    db = _database(tls_endpoint, sslmode="verify-full", sslrootcert=str(certificates.other_ca))
    try:
        with pytest.raises(DatabaseUnavailableError, match="certificate verify failed"):
            _ssl_in_use(db)
    finally:
        db.dispose()


def test_verify_full_checks_the_host_name_and_verify_ca_does_not(
    tls_endpoint: tuple[PgBouncer, TestDatabase], certificates: Certificates
) -> None:
    """The certificate names 127.0.0.1 and db.internal; ``localhost`` reaches the same endpoint by another name."""
    full = _database(tls_endpoint, host="localhost", sslmode="verify-full", sslrootcert=str(certificates.ca))
    ca_only = _database(tls_endpoint, host="localhost", sslmode="verify-ca", sslrootcert=str(certificates.ca))
    try:
        with pytest.raises(DatabaseUnavailableError, match="does not match host name"):
            _ssl_in_use(full)
        assert _ssl_in_use(ca_only)
    finally:
        full.dispose()
        ca_only.dispose()


def test_require_encrypts_but_trusts_any_certificate(tls_endpoint: tuple[PgBouncer, TestDatabase]) -> None:
    """The template's default without a CA bundle: encrypted, but an impostor's certificate would pass too."""
    db = _database(tls_endpoint, sslmode="require")
    try:
        assert _ssl_in_use(db)
    finally:
        db.dispose()
