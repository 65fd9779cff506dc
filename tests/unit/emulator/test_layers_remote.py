"""A layer given as a published ARN cannot run here: the start-up notes say which function and which ARN."""

from __future__ import annotations

from harness.emulator.template import load_template


def test_a_layer_given_as_a_published_arn_is_named_in_a_start_up_note(tmp_path):
    (tmp_path / "code").mkdir()
    arn = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-x86_64:7"
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        f"    Properties: {{CodeUri: code/, Handler: app.handler, Layers: ['{arn}']}}\n"
    )

    notes = load_template(tmp_path / "template.yaml").notes

    assert any(note.startswith(f"Fn: layer {arn} is a published ARN") for note in notes)
