"""``harness bench`` (``make bench``): run the benchmark sections and write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from harness.cli_types import unwritable_file
from harness.kit.machine import describe_machine

DESCRIPTION = "run the benchmarks and write the figures, with machine and command, to docs/benchmarks.md"

# section name -> module with TITLE and run(quick) -> Markdown
SECTIONS: dict[str, str] = {
    "layer": "harness.bench.layer",
    "network": "harness.bench.network",
    "emulator": "harness.bench.emulator",
    "warm_path": "harness.bench.warm_path",
    "sam_local": "harness.bench.sam_local",  # needs a Docker engine (see ENGINE_INSTALL), else skipped
}
# A run of every section (no --only) installs nothing: sam_local uses an engine that answers or an installed dockerd,
# and is skipped otherwise. Asked for by name (--only sam_local), it may install docker.io as root on Debian.
ENGINE_INSTALL = "DOCKER_ENGINE_INSTALL"
SKIPPED = "Skipped: "  # how a section's text begins when it could not measure (no Docker engine, say)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append", help="run only these sections")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run, not figures to quote)")
    parser.add_argument("--output", type=Path, default=Path("docs/benchmarks.md"), help="where to write")


def _header() -> str:
    machine = describe_machine()
    packages = ", ".join(f"{name} {version}" for name, version in machine["packages"].items())  # type: ignore[attr-defined]
    return (
        "# Benchmarks\n\n"
        "Written by `make bench` (`harness bench`); do not edit by hand. Every ratio was measured side by side in "
        "one run on the machine below; these machines are small and noisy, so compare ratios, not absolute times. "
        "`--only SECTION` measures that section again and keeps the others as they were: each section names the "
        "run it comes from.\n\n"
        f"- machine: {machine['cpus']} CPUs, {machine['memory_gib']} GiB, {machine['platform']}, "
        f"Python {machine['python']}\n"
        f"- packages: {packages}\n"
    )


def _measured_line() -> str:
    machine = describe_machine()
    return f"Measured {machine['measured_at']} with `{machine['command']}`."


def _page_sections(path: Path) -> dict[str, str]:
    """title -> text of the sections already in ``path``, in file order (none when there is no page yet)."""
    if not path.is_file():
        return {}
    sections = {}
    for chunk in path.read_text().split("\n## ")[1:]:
        sections[chunk.split("\n", 1)[0].strip()] = f"\n## {chunk.rstrip()}\n"
    return sections


def _rank(title: str) -> int:
    """Where a section goes in the page: in :data:`SECTIONS` order, then any the page has that no module makes."""
    for index, module in enumerate(SECTIONS.values()):
        with contextlib.suppress(ModuleNotFoundError):
            if title == importlib.import_module(module).TITLE:
                return index
    return len(SECTIONS)


@contextlib.contextmanager
def _installs_allowed(allowed: bool) -> Iterator[None]:
    """``$DOCKER_ENGINE_INSTALL`` is 0 for the sections' scripts unless ``allowed`` (or the user set it)."""
    if allowed or ENGINE_INSTALL in os.environ:
        yield
        return
    os.environ[ENGINE_INSTALL] = "0"
    try:
        yield
    finally:
        os.environ.pop(ENGINE_INSTALL, None)


def run(args: argparse.Namespace) -> int:
    if (problem := unwritable_file(args.output)) is not None:  # before the run: a section can take minutes
        print(f"harness bench: --output {args.output}: {problem}", file=sys.stderr)
        return 2
    names = args.only or list(SECTIONS)
    measured: dict[str, str] = {}
    skipped: set[str] = set()
    with _installs_allowed(bool(args.only)):
        for name in names:
            try:
                module = importlib.import_module(SECTIONS[name])
            except ModuleNotFoundError:
                print(f"bench: section {name!r} is not built yet; skipped")
                continue
            print(f"==> bench: {module.TITLE}", flush=True)
            text = module.run(quick=args.quick).strip()
            if text.startswith(SKIPPED):
                print(f"bench: {name}: {text}")
                skipped.add(module.TITLE)
            measured[module.TITLE] = f"\n## {module.TITLE}\n\n{_measured_line()}\n\n{text}\n"
    previous = _page_sections(args.output)
    sections = {title: text for title, text in previous.items() if title not in measured} if args.only else {}
    for title, text in measured.items():
        if title in skipped and title in previous and f"\n\n{SKIPPED}" not in previous[title]:
            # could not measure here: the figures of its last run stay, under the line that dates them
            print(f"bench: {title!r} keeps the figures of its last run")
            sections[title] = previous[title]
        else:
            sections[title] = text
    ranked = sorted(sections, key=_rank)
    page = _header() + "".join(sections[title] for title in ranked)
    try:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(page)
    except OSError as exc:  # writable when the run began, not now: the figures go to stdout rather than nowhere
        print(page)
        print(
            f"harness bench: could not write {args.output} ({exc.strerror or exc}); the page is above", file=sys.stderr
        )
        return 1
    print(f"wrote {args.output}")
    return 0
