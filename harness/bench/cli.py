"""``harness bench`` (``make bench``): run the benchmark sections and write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from harness.kit.machine import describe_machine

DESCRIPTION = "run the benchmarks and write the figures, with machine and command, to docs/benchmarks.md"

# section name -> module with TITLE and run(quick) -> Markdown
SECTIONS: dict[str, str] = {
    "layer": "harness.bench.layer",
    "network": "harness.bench.network",
    "emulator": "harness.bench.emulator",
    "sam_local": "harness.bench.sam_local",  # needs a Docker engine (started as root where none answers), else skipped
}


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
        "one run on the machine below; these machines are small and noisy, so compare ratios, not absolute times.\n\n"
        f"- measured: {machine['measured_at']} with `{machine['command']}`\n"
        f"- machine: {machine['cpus']} CPUs, {machine['memory_gib']} GiB, {machine['platform']}, "
        f"Python {machine['python']}\n"
        f"- packages: {packages}\n"
    )


def run(args: argparse.Namespace) -> int:
    if args.output.is_dir():
        print(f"harness bench: --output {args.output} is a directory; name the Markdown file to write", file=sys.stderr)
        return 2
    names = args.only or list(SECTIONS)
    parts = [_header()]
    for name in names:
        try:
            module = importlib.import_module(SECTIONS[name])
        except ModuleNotFoundError:
            print(f"bench: section {name!r} is not built yet; skipped")
            continue
        print(f"==> bench: {module.TITLE}", flush=True)
        parts.append(f"\n## {module.TITLE}\n\n{module.run(quick=args.quick).strip()}\n")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("".join(parts))
    print(f"wrote {args.output}")
    return 0
