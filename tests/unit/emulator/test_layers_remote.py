"""A layer given as a published ARN: named at start-up, mapped with ``--layer-dir ARN=DIR``, bad mappings refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.emulator.errors import TemplateError
from harness.emulator.layer_dirs import parse_layer_dirs
from harness.emulator.template import load_template

ARN = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-x86_64:7"


def _template(tmp_path: Path, layers: str = f"['{ARN}']") -> Path:
    (tmp_path / "code").mkdir(exist_ok=True)
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        f"    Properties: {{CodeUri: code/, Handler: app.handler, Layers: {layers}}}\n"
    )
    return path


def test_a_layer_given_as_a_published_arn_is_missing_and_named_in_a_start_up_note(tmp_path: Path) -> None:
    loaded = load_template(_template(tmp_path))

    (spec,) = loaded.functions
    assert spec.missing_layers == (ARN,)
    assert spec.layers == ()
    assert any(note.startswith(f"Fn: layer {ARN} is not available locally") for note in loaded.notes)
    assert any(f"--layer-dir {ARN}=DIR" in note for note in loaded.notes)


def test_a_mapped_arn_runs_from_its_directory(tmp_path: Path) -> None:
    (tmp_path / "vendor").mkdir()
    loaded = load_template(_template(tmp_path), layer_dirs=parse_layer_dirs([f"{ARN}={tmp_path / 'vendor'}"]))

    (spec,) = loaded.functions
    assert spec.missing_layers == ()
    assert spec.layers == ((tmp_path / "vendor").resolve(),)
    assert not any("not available locally" in note for note in loaded.notes)


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ("vendor", "expected ARN=DIR"),
        (f"{ARN}=", "expected ARN=DIR"),
        ("not-an-arn=vendor", "is not a layer ARN"),
        (f"{ARN}=nowhere", "nowhere is not a directory"),
    ],
)
def test_a_bad_layer_dir_is_refused_naming_the_option(item: str, words: str, tmp_path: Path) -> None:
    (tmp_path / "vendor").mkdir()
    item = item.replace("=vendor", f"={tmp_path / 'vendor'}").replace("=nowhere", f"={tmp_path / 'nowhere'}")
    with pytest.raises(TemplateError, match="--layer-dir") as raised:
        parse_layer_dirs([item])
    assert words in str(raised.value)


def test_a_layer_dir_for_an_arn_no_function_names_is_refused(tmp_path: Path) -> None:
    (tmp_path / "vendor").mkdir()
    other = ARN.replace(":7", ":8")
    with pytest.raises(TemplateError, match=f"--layer-dir {other}: no function in template.yaml names that layer"):
        load_template(_template(tmp_path), layer_dirs=parse_layer_dirs([f"{other}={tmp_path / 'vendor'}"]))
