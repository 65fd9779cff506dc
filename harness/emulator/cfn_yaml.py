"""Load CloudFormation/SAM YAML: the short intrinsic tags (``!Ref``, ``!If``, ``!Sub``, ``!GetAtt`` ...) as their
long forms, so the rest of the emulator only ever sees ``{"Ref": ...}`` and ``{"Fn::If": [...]}``.

PyYAML's safe loader refuses unknown tags, which is why a plain ``yaml.safe_load`` cannot read most templates.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

__all__ = ["load_cfn_yaml", "parse_cfn_yaml"]


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader plus a constructor for every ``!Tag``."""


def _construct(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)  # !GetAtt Resource.Attribute
    return {f"Fn::{tag_suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct)


def parse_cfn_yaml(text: str) -> Any:
    """Parse template text (YAML or JSON, which is YAML) with CloudFormation's short tags."""
    return yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass, with only our tags added


def load_cfn_yaml(path: Path) -> Any:
    return parse_cfn_yaml(path.read_text())
