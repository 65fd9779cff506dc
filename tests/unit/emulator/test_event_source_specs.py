"""The project template's queues, SQS mapping and schedule, read as the emulator runs them; bad values refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.emulator import TemplateError
from harness.emulator.template import load_template

TEMPLATE = Path(__file__).parents[3] / "template.yaml"
LOCAL = {
    "DatabaseSecretArn": "arn:aws:secretsmanager:us-east-1:000000000000:secret:local",
    "SubnetIds": "subnet-00000000",
    "SecurityGroupIds": "sg-00000000",
}


def test_the_templates_queue_has_its_visibility_timeout_and_redrive_to_the_dead_letter_queue():
    sources = load_template(TEMPLATE, parameter_overrides=LOCAL).event_sources
    queues = {queue.logical_id: queue for queue in sources.queues}

    assert queues["IngestQueue"].visibility_timeout_s == 90
    assert queues["IngestQueue"].dead_letter_queue == "IngestDeadLetterQueue"
    assert queues["IngestQueue"].max_receive_count == 5
    assert queues["IngestDeadLetterQueue"].dead_letter_queue is None


@pytest.mark.parametrize(("budget", "concurrency"), [("10", 2), ("25", 5), ("400", 70)])
def test_the_ingest_mapping_follows_the_budget_split(budget, concurrency):
    loaded = load_template(TEMPLATE, parameter_overrides={**LOCAL, "ConnectionBudget": budget})
    (mapping,) = loaded.event_sources.mappings

    assert (mapping.function, mapping.queue) == ("IngestFunction", "IngestQueue")
    assert (mapping.batch_size, mapping.window_s, mapping.report_failures) == (10, 1.0, True)
    assert mapping.max_concurrency == concurrency
    (schedule,) = loaded.event_sources.schedules
    assert (schedule.function, schedule.expression, schedule.kind) == ("JanitorFunction", "rate(1 hour)", "Schedule")


def _template(tmp_path: Path, events: str) -> Path:
    (tmp_path / "code").mkdir(exist_ok=True)
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n"
        "  Q: {Type: AWS::SQS::Queue}\n"
        "  Fn:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      CodeUri: code/\n"
        "      Handler: app.handler\n"
        f"      Events:\n        E: {events}\n"
    )
    return path


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("{Type: Schedule, Properties: {Schedule: cron(0 12 * * *)}}", "Fn: Schedule event E: cron.*needs 6 fields"),
        ("{Type: ScheduleV2, Properties: {ScheduleExpression: rate(1 hours)}}", "ScheduleV2 event E: .*unit"),
        ("{Type: SQS, Properties: {Queue: !GetAtt Q.Arn, BatchSize: 0}}", "BatchSize must be between 1 and"),
        ("{Type: SQS, Properties: {Queue: !GetAtt Q.Arn, BatchSize: 50}}", "needs MaximumBatchingWindowInSeconds"),
        (
            "{Type: SQS, Properties: {Queue: !GetAtt Q.Arn, ScalingConfig: {MaximumConcurrency: 1}}}",
            "MaximumConcurrency must be between 2 and 1000",
        ),
    ],
)
def test_values_lambda_would_refuse_are_refused_naming_the_event(tmp_path, event, message):
    with pytest.raises(TemplateError, match=message):
        load_template(_template(tmp_path, event))


def test_a_schedule_input_and_state_are_kept(tmp_path):
    event = (
        '{Type: ScheduleV2, Properties: {ScheduleExpression: "rate(5 minutes)", '
        'Input: "{\\"a\\": 1}", State: DISABLED}}'
    )
    (schedule,) = load_template(_template(tmp_path, event)).event_sources.schedules

    assert schedule.input == '{"a": 1}'
    assert schedule.enabled is False
