"""``--layer-dir ARN=DIR``: a published layer (given in the template as an ARN) stood in for by a local directory.

``sam local`` downloads a published layer with the caller's AWS credentials; the emulator runs offline, so a
function whose ``Layers`` names an ARN would run without that layer's code and fail somewhere inside the handler,
or worse, not fail. Instead its invocations fail at once, naming the layer, unless this flag maps the ARN to a
directory holding what the layer's zip holds (its ``python/`` folder goes on the path, as Lambda's ``/opt/python``
does; a folder of packages works too).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.emulator.errors import TemplateError

__all__ = ["add_layer_dir_argument", "parse_layer_dirs"]

OPTION = "--layer-dir"


def add_layer_dir_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        OPTION,
        action="append",
        default=[],
        metavar="ARN=DIR",
        help="run a published layer the template names by ARN from a local directory (repeatable); without it, "
        "that function's invocations fail naming the layer",
    )


def parse_layer_dirs(items: list[str]) -> dict[str, Path]:
    """``["arn:...:layer:x:3=vendor/x"]`` -> ``{"arn:...:layer:x:3": Path("vendor/x")}``; TemplateError if bad."""
    mapped: dict[str, Path] = {}
    for item in items:
        arn, sep, directory = item.partition("=")
        arn, directory = arn.strip(), directory.strip()
        if not sep or not arn or not directory:
            raise TemplateError(f"{OPTION} {item!r}: expected ARN=DIR (the layer's ARN as the template names it)")
        if not arn.startswith("arn:") or ":layer:" not in arn:
            raise TemplateError(
                f"{OPTION} {item!r}: {arn!r} is not a layer ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)"
            )
        path = Path(directory)
        if not path.is_dir():
            raise TemplateError(f"{OPTION} {item!r}: {directory} is not a directory")
        mapped[arn] = path
    return mapped
