"""SAM template loading: short tags, parameters, conditions, Globals, layers, env-vars, routes."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.emulator import Route, TemplateError
from harness.emulator.cfn_yaml import parse_cfn_yaml
from harness.emulator.template import load_template, parse_parameter_overrides

FIXTURE = Path(__file__).parents[2] / "integration" / "emulator" / "fixtures" / "template.yaml"


def functions(**kwargs):
    return {spec.name: spec for spec in load_template(FIXTURE, **kwargs).functions}


def test_short_tags_load_as_their_long_forms():
    text = """
    A: !Ref Param
    B: !GetAtt Table.Arn
    C: !Sub "${AWS::Region}-x"
    D: !If [Cond, 1, 2]
    E: !Equals [a, b]
    F: !Not [!Condition Cond]
    G: !Select [0, !Split [",", "a,b"]]
    H: !Join ["-", [a, b]]
    """

    document = parse_cfn_yaml(text)

    assert document["A"] == {"Ref": "Param"}
    assert document["B"] == {"Fn::GetAtt": ["Table", "Arn"]}
    assert document["C"] == {"Fn::Sub": "${AWS::Region}-x"}
    assert document["D"] == {"Fn::If": ["Cond", 1, 2]}
    assert document["F"] == {"Fn::Not": [{"Condition": "Cond"}]}
    assert document["G"] == {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}
    assert document["H"] == {"Fn::Join": ["-", ["a", "b"]]}


def test_functions_get_globals_merged_with_their_own_properties():
    echo = functions()["EchoFunction"]

    assert echo.handler == "app.echo"
    assert echo.code_uri == FIXTURE.parent / "basic"
    assert echo.timeout_s == 5.0
    assert echo.memory_mb == 256
    assert echo.env["FROM_GLOBALS"] == "yes"
    assert echo.env["STAGE"] == "dev"
    assert echo.layers == (FIXTURE.parent / "layer",)


def test_parameters_defaults_overrides_conditions_and_sub():
    default = functions()["EchoFunction"]
    prod = functions(parameter_overrides={"Stage": "prod", "Greeting": "hi"}, region="eu-west-1")

    assert default.reserved_concurrency == 2
    assert default.function_name == "fixtures-echo-dev"
    assert default.env["GREETING"] == "hello, us-east-1"
    assert "ONLY_PROD" not in default.env  # AWS::NoValue drops the variable
    assert default.env["NOT_PROD"] == "true"
    assert default.env["TABLE_ARN"] == "Table.Arn"
    assert prod["EchoFunction"].reserved_concurrency == 50
    assert prod["EchoFunction"].env["ONLY_PROD"] == "prod-only"
    assert prod["EchoFunction"].env["GREETING"] == "hi, eu-west-1"
    assert "ProdOnlyFunction" in prod
    assert "ProdOnlyFunction" not in functions()


def test_env_vars_file_overrides_for_all_then_per_function():
    loaded = functions(env_vars={"Parameters": {"STAGE": "all", "NEW": 1}, "EchoFunction": {"STAGE": "echo"}})

    assert loaded["EchoFunction"].env["STAGE"] == "echo"
    assert loaded["ApiFunction"].env["STAGE"] == "all"
    assert loaded["ApiFunction"].env["NEW"] == "1"


def test_a_null_in_the_env_vars_file_blanks_the_variable_as_sam_does():
    loaded = functions(env_vars={"EchoFunction": {"STAGE": None}})

    assert loaded["EchoFunction"].env["STAGE"] == ""  # not the template's value, kept as if it were not named


def test_http_api_and_api_events_become_routes():
    routes = load_template(FIXTURE).routes

    assert Route("GET", "/items/{id}", "ApiFunction", "2.0") in routes
    assert Route("ANY", "/files/{proxy+}", "ApiFunction", "2.0") in routes
    assert Route("POST", "/rest/{id}", "ApiFunction", "1.0") in routes


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Stage": "qa"}, "AllowedValues"),
        ({"Greeting": "Hello!"}, "AllowedPattern"),
        ({"Nope": "1"}, "not declared"),
    ],
)
def test_bad_parameter_overrides_name_the_parameter_and_the_rule(overrides, message):
    with pytest.raises(TemplateError, match=message):
        load_template(FIXTURE, parameter_overrides=overrides)


def test_missing_template_and_missing_code_uri_are_clear_errors(tmp_path):
    with pytest.raises(TemplateError, match="does not exist"):
        load_template(tmp_path / "template.yaml")
    bad = tmp_path / "template.yaml"
    function = "    Type: AWS::Serverless::Function\n    Properties: {CodeUri: nope/, Handler: a.b}\n"
    bad.write_text("Resources:\n  F:\n" + function)
    with pytest.raises(TemplateError, match="CodeUri 'nope/'"):
        load_template(bad)


def test_parameter_without_default_is_empty_and_noted_unless_overridden(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text("Parameters:\n  Url: {Type: String}\nResources: {}\n")

    assert load_template(template).notes == ["parameter Url has no Default and no override: empty here"]
    assert load_template(template, parameter_overrides={"Url": "x"}).notes == []


def test_schedule_and_queue_events_become_event_sources_and_others_are_noted_as_not_run(tmp_path):
    (tmp_path / "code").mkdir()
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n"
        "  JanitorFunction:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      CodeUri: code/\n"
        "      Handler: app.handler\n"
        "      Events:\n"
        "        Hourly: {Type: Schedule, Properties: {Schedule: rate(1 hour)}}\n"
        "        Queue: {Type: SQS, Properties: {Queue: arn:aws:sqs:us-east-1:123456789012:q}}\n"
        "        Upload: {Type: S3, Properties: {Bucket: b, Events: s3:ObjectCreated:*}}\n"
    )

    loaded = load_template(template)

    assert [spec.name for spec in loaded.functions] == ["JanitorFunction"]
    assert loaded.routes == []
    assert [(s.function, s.expression) for s in loaded.event_sources.schedules] == [("JanitorFunction", "rate(1 hour)")]
    assert [m.queue for m in loaded.event_sources.mappings] == ["arn:aws:sqs:us-east-1:123456789012:q"]
    assert loaded.notes == ["JanitorFunction: S3 event Upload is not run here (invoke the function to run it)"]


def test_parameter_overrides_accept_both_sam_forms():
    assert parse_parameter_overrides(["A=1", "B=two"]) == {"A": "1", "B": "two"}
    assert parse_parameter_overrides(["ParameterKey=A,ParameterValue=1 ParameterKey=B,ParameterValue=2"]) == {
        "A": "1",
        "B": "2",
    }
    with pytest.raises(TemplateError, match="KEY=VALUE"):
        parse_parameter_overrides(["novalue"])


def test_parameter_overrides_in_one_string_take_quoted_values_as_sam_does():
    given = ['A="arn:aws:x" B="two words" C=plain', 'ParameterKey=D,ParameterValue="d e"', 'E= F="q\\"uote"']
    assert parse_parameter_overrides(given) == {
        "A": "arn:aws:x",
        "B": "two words",
        "C": "plain",
        "D": "d e",
        "E": "",
        "F": 'q"uote',
    }
    for bad in ("=x", 'K="a"b', "K=1 stray"):
        with pytest.raises(TemplateError, match="is not KEY=VALUE"):
            parse_parameter_overrides([bad])
