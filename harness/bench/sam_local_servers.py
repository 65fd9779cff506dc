"""The processes ``harness bench --only sam_local`` compares: SAM CLI in Docker and the lab's emulator, on one template.

Everything SAM needs comes from the project's Docker scripts (``scripts/docker/engine.sh``: an engine that answers or
one started as root; ``images.sh``: the Lambda base image, pulled or built offline; ``scripts/sam-venv.sh``: SAM CLI
in its own venv). Where one of them cannot be had, :class:`UnavailableError` says which, and the section is skipped.
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

__all__ = ["REPO", "Docker", "Server", "UnavailableError", "free_port", "one_shot_ms", "write_function"]

REPO = Path(__file__).resolve().parents[2]
SAM = REPO / ".venv-sam" / "bin" / "sam"
HARNESS = Path(sys.executable).with_name("harness")
START_TIMEOUT_S = 120

HANDLER = """import time


def handler(event, context):
    time.sleep(event.get("sleep", 0))  # the concurrent calls hold their environment this long
    return {"ok": True}
"""
TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Sleeper:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: sleeper/
      Handler: app.handler
      Runtime: python3.13
      Architectures: [{arch}]
      MemorySize: 128
      Timeout: 30
"""
FUNCTION = "Sleeper"


class UnavailableError(RuntimeError):
    """What SAM local needs and this machine lacks (one line)."""


def lambda_arch() -> str:
    return "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


def write_function(root: Path) -> Path:
    """The benchmark's template (the host's architecture: no qemu in the figures) and its function; the template."""
    (root / "sleeper").mkdir()
    (root / "sleeper" / "app.py").write_text(HANDLER)
    (root / "event.json").write_text("{}")
    template = root / "template.yaml"
    template.write_text(TEMPLATE.format(arch=lambda_arch()))
    return template


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip() and not line.startswith("==>")]
    return lines[-1] if lines else "no message"


class Docker:
    """``with Docker() as docker:`` an engine with the Lambda base image and SAM CLI; an engine started here stops."""

    def __init__(self) -> None:
        self.env = {
            **os.environ,
            "LAMBDA_ARCH": lambda_arch(),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "SAM_CLI_TELEMETRY": "0",
            "SAM_CLI_DISABLE_UPDATE_CHECK": "1",
        }
        self.env.pop("AWS_PROFILE", None)
        self._started = False

    def _script(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", *argv], cwd=REPO, env=self.env, capture_output=True, text=True, check=False)

    def __enter__(self) -> Docker:
        if not (REPO / "scripts" / "docker" / "engine.sh").is_file():
            raise UnavailableError("scripts/docker/engine.sh is not here: run from a checkout of the project")
        try:
            engine = self._script("scripts/docker/engine.sh", "start")
        except FileNotFoundError as exc:
            raise UnavailableError("bash is not installed") from exc
        if engine.returncode != 0:
            raise UnavailableError(f"no Docker engine: {_last_line(engine.stderr)}")
        for line in engine.stdout.splitlines():
            name, _, value = line.removeprefix("export ").partition("=")
            if name == "DOCKER_HOST":
                self.env["DOCKER_HOST"] = value
            self._started = self._started or name == "DOCKER_ENGINE_STARTED"
        try:
            for script, what in (("scripts/docker/images.sh", "the Lambda image"), ("scripts/sam-venv.sh", "SAM CLI")):
                done = self._script(script)
                if done.returncode != 0:
                    raise UnavailableError(f"{what} could not be had: {_last_line(done.stderr)}")
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Remove the containers SAM left behind; stop the engine if this run started it."""
        if "DOCKER_HOST" in self.env:
            ids = self.docker("ps", "-aq", "--filter", "label=sam.cli.container.type=lambda").split()
            if ids:
                self.docker("rm", "-f", *ids)
        if self._started:
            self._script("scripts/docker/engine.sh", "stop")
            self._started = False

    def docker(self, *args: str) -> str:
        done = subprocess.run(["docker", *args], env=self.env, capture_output=True, text=True, check=False, timeout=60)
        return done.stdout

    def container_memory_mib(self) -> list[float]:
        """The memory cgroup usage of each Lambda container SAM runs (``docker stats``), MiB."""
        ids = self.docker("ps", "-q", "--filter", "label=sam.cli.container.type=lambda").split()
        if not ids:
            return []
        out = self.docker("stats", "--no-stream", "--format", "{{.MemUsage}}", *ids)
        sizes = []
        for line in out.splitlines():
            used = line.split("/")[0].strip()
            number, unit = float(used.rstrip("KMGiB")), used.lstrip("0123456789.")
            sizes.append(number * {"KiB": 1 / 1024, "MiB": 1.0, "GiB": 1024.0}.get(unit, 1 / 1024**2))
        return sizes


class Server:
    """``sam local start-lambda`` or ``harness emulate`` serving the template's Invoke API on a free port."""

    def __init__(self, command: list[str], *, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = " ".join(Path(command[0]).name.split() + command[1:3])
        self.log = log
        self.env = env
        with log.open("w") as sink:
            self.process = subprocess.Popen(
                [*command, "--port", str(self.port)], cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT
            )

    @classmethod
    def sam(cls, template: Path, docker: Docker) -> Server:
        # Warm containers as samconfig.toml's [local.local_start_lambda] sets them: one per function, kept between
        # calls (without it every call starts a new container).
        command = [str(SAM), "local", "start-lambda", "-t", str(template), "--skip-pull-image"]
        command += ["--warm-containers", "LAZY"]
        return cls(command, cwd=template.parent, env=docker.env, log=template.parent / "sam.log")

    @classmethod
    def emulator(cls, template: Path, env: dict[str, str]) -> Server:
        command = [str(HARNESS), "emulate", "-t", str(template), "--no-view", "--max-environments", "128"]
        return cls(command, cwd=template.parent, env=env, log=template.parent / "emulate.log")

    def __enter__(self) -> Server:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise UnavailableError(f"{self.name} exited {self.process.returncode}: {self._tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.3)
        self.__exit__(None, None, None)
        raise UnavailableError(f"{self.name} did not listen in {START_TIMEOUT_S} s: {self._tail()}")

    def _tail(self) -> str:
        return _last_line(self.log.read_text(errors="replace"))

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # both stop cleanly on Ctrl-C (SAM removes its containers)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def one_shot_ms(command: list[str], *, cwd: Path, env: dict[str, str]) -> float:
    """Wall time of one ``sam local invoke`` / ``harness invoke`` run, ms; UnavailableError if it failed."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=300)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0 or '"ok": true' not in done.stdout:
        raise UnavailableError(f"{' '.join(command[:3])} failed ({done.returncode}): {_last_line(done.stderr)}")
    return elapsed
