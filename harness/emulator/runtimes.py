"""Which interpreter runs a function: the one its template ``Runtime`` names, with the function's packages installed.

For ``Runtime: python3.X`` the emulator's own Python is used when it is 3.X. Otherwise a ``python3.X`` is looked for
as ``scripts/python313.sh`` does (on ``PATH``, then installed, not selected, by pyenv) and a venv is built for it
once, cached, from the requirements of the function's layers (``requirements.txt`` in each layer directory, as
``sam build`` reads them) and the function's own, plus the runtime client (``awslambdaric``, the version the
emulator runs). Functions of one runtime share one venv built from all their requirements, so they share one fork
server. Where the interpreter is missing or the venv cannot be built, a note says so and the function runs on the
emulator's Python, as before; ``AWS_EXECUTION_ENV`` always names the version that runs.

The cache is ``$LOCAL_LAMBDA_RUNTIME_CACHE``, else ``$XDG_CACHE_HOME/local-lambda/runtimes`` (``~/.cache`` when
unset); each venv's directory name carries a digest of what went into it, so a changed requirement builds a new one.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.emulator.spec import FunctionSpec

__all__ = ["CACHE_VARIABLE", "Interpreter", "RuntimeInterpreters", "find_python"]

CACHE_VARIABLE = "LOCAL_LAMBDA_RUNTIME_CACHE"
BUILD_TIMEOUT_S = 600.0
_RUNTIME = re.compile(r"python(3\.\d+)")


@dataclass(frozen=True)
class Interpreter:
    """The executable that runs a function, and the ``major.minor`` it is."""

    python: str
    version: str

    @property
    def execution_env(self) -> str:
        return f"AWS_Lambda_python{self.version}"


OWN = Interpreter(sys.executable, f"{sys.version_info.major}.{sys.version_info.minor}")


def _version_of(python: str) -> str | None:
    try:
        done = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def find_python(version: str) -> str | None:
    """A ``python<version>`` on ``PATH``, else one pyenv has installed (newest patch first); None if neither."""
    candidate = shutil.which(f"python{version}")
    if candidate and _version_of(candidate) == version:
        return candidate
    pyenv = shutil.which("pyenv")
    if pyenv is None:
        return None
    listed = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True, check=False, timeout=30)
    patches = [v for v in listed.stdout.split() if re.fullmatch(rf"{re.escape(version)}(\.\d+)?", v)]
    for patch in sorted(patches, key=lambda v: [int(part) for part in v.split(".")], reverse=True):
        prefix = subprocess.run([pyenv, "prefix", patch], capture_output=True, text=True, check=False, timeout=30)
        python = Path(prefix.stdout.strip()) / "bin" / f"python{version}"
        if prefix.returncode == 0 and os.access(python, os.X_OK):
            return str(python)
    return None


def requirement_files(spec: FunctionSpec) -> list[Path]:
    """The ``requirements.txt`` of each of the function's layers, then its own, that exist."""
    candidates = [Path(layer) / "requirements.txt" for layer in spec.layers]
    candidates.append(Path(spec.code_uri) / "requirements.txt")
    return [path.resolve() for path in candidates if path.is_file()]


def default_cache_dir() -> Path:
    if os.environ.get(CACHE_VARIABLE):
        return Path(os.environ[CACHE_VARIABLE])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "local-lambda" / "runtimes"


class RuntimeInterpreters:
    """Resolves each function's interpreter once (building venvs as needed) and remembers it, with notes."""

    def __init__(self, *, cache_dir: Path | None = None, use_runtime: bool = True) -> None:
        self._cache_dir = cache_dir or default_cache_dir()
        self._use_runtime = use_runtime
        self._by_function: dict[str, Interpreter] = {}
        self._venvs: dict[tuple[str, frozenset[Path]], Interpreter] = {}
        self.notes: list[str] = []

    def prepare(self, specs: Iterable[FunctionSpec]) -> None:
        """Resolve the interpreter of each function not resolved yet, one venv per runtime for all of them."""
        by_runtime: dict[str, list[FunctionSpec]] = {}
        for spec in specs:
            if spec.name in self._by_function:
                continue
            match = _RUNTIME.fullmatch(spec.runtime or "")
            if spec.runtime is None or not self._use_runtime or match is None or match.group(1) == OWN.version:
                self._by_function[spec.name] = OWN
                continue
            by_runtime.setdefault(match.group(1), []).append(spec)
        for version, group in by_runtime.items():
            requirements = frozenset(path for spec in group for path in requirement_files(spec))
            interpreter = self._venv(version, requirements, [spec.name for spec in group])
            for spec in group:
                self._by_function[spec.name] = interpreter

    def for_function(self, spec: FunctionSpec) -> Interpreter:
        self.prepare([spec])
        return self._by_function[spec.name]

    def _venv(self, version: str, requirements: frozenset[Path], functions: list[str]) -> Interpreter:
        known = next((i for (v, reqs), i in self._venvs.items() if v == version and requirements <= reqs), None)
        if known is not None:
            return known
        who = ", ".join(functions)
        python = find_python(version)
        if python is None:
            self.notes.append(
                f"{who}: Runtime python{version} not found (looked on PATH and in pyenv): runs on the emulator's "
                f"Python {OWN.version} (AWS_EXECUTION_ENV={OWN.execution_env})"
            )
            return OWN
        try:
            venv = self._build(version, python, sorted(requirements))
        except RuntimeError as exc:
            self.notes.append(f"{who}: python{version} venv not built ({exc}): runs on the emulator's {OWN.version}")
            return OWN
        interpreter = Interpreter(str(venv / "bin" / "python"), version)
        self._venvs[(version, requirements)] = interpreter
        return interpreter

    def _build(self, version: str, python: str, requirements: list[Path]) -> Path:
        ric = importlib.metadata.version("awslambdaric")
        digest = hashlib.sha256(f"{python}\n{ric}\n".encode())
        for path in requirements:  # by content: clones of one project share the venv
            digest.update(path.read_bytes() + b"\n")
        venv = self._cache_dir / f"python{version}-{digest.hexdigest()[:16]}"
        done = venv / ".complete"
        if done.exists():
            return venv
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        with open(self._cache_dir / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another emulator may be building the same one
            if done.exists():
                return venv
            print(f"local lambda: building the python{version} venv once, in {venv} ...", file=sys.stderr, flush=True)
            shutil.rmtree(venv, ignore_errors=True)
            args = [f"awslambdaric=={ric}"]
            for path in requirements:
                args += ["-r", str(path)]
            for command in (
                [python, "-m", "venv", str(venv)],
                [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args],
            ):
                try:
                    run = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False)
                except subprocess.TimeoutExpired as exc:
                    raise RuntimeError(f"{command[2]} took over {BUILD_TIMEOUT_S:.0f} s") from exc
                if run.returncode != 0:
                    shutil.rmtree(venv, ignore_errors=True)
                    last = (run.stderr.strip().splitlines() or ["no output"])[-1]
                    raise RuntimeError(f"{' '.join(command[1:4])} failed: {last}")
            done.write_text("".join(f"{path}\n" for path in requirements))
        return venv
