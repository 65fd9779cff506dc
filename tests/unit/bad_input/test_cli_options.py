"""Every ``harness`` subcommand refuses a bad option before doing anything: exit 2, a message naming the option,
never a traceback. Run through ``harness.cli.main`` exactly as the console script runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main

MISSING = "no/such/template.yaml"


# {file}: an existing file where a directory is wanted; {missing}: no such file; {not_json}: a file that is not JSON;
# {deep}: JSON nested deeper than Python's parser recurses (a RecursionError, not a ValueError); {nan}: NaN, which
# Python's json reads and Lambda refuses; {big}: over Lambda's 6 MB invoke payload; {under_file}: a path inside a file;
# {nested_var}: an env-vars file whose variable is an object
CASES: list[tuple[list[str], str]] = [
    (["compare", "--concurrency", "0"], "--concurrency"),
    (["compare", "--concurrency", "1,x"], "--concurrency"),
    (["compare", "--ramp", ""], "--ramp"),
    (["compare", "--concurrency", "100000"], "--concurrency"),  # more environments than the local Lambda holds
    (["compare", "--ramp", "1,2,1001"], "--ramp"),
    (["compare", "--invocations", "0"], "--invocations"),
    (["compare", "--invocations", "ten"], "--invocations"),
    (["compare", "--max-connections", "3"], "--max-connections"),
    (["compare", "--over-budget-factor", "nan"], "--over-budget-factor"),
    (["compare", "--idle-timeout", "inf"], "--idle-timeout"),
    (["compare", "--idle-ttl", "-1"], "--idle-ttl"),
    (["compare", "--scenario", "everything"], "--scenario"),
    (["compare", "--strategy", "magic"], "--strategy"),
    (["compare", "--template", MISSING], "--template"),
    (["compare", "--output", "{file}"], "--output"),
    (["compare", "--output", "{under_file}"], "--output"),
    (["compare", "--target", "http://127.0.0.1:1"], "--database-url"),
    (["compare", "--bogus"], "--bogus"),
    (["compare", "--messages", "5"], "--messages"),
    (["compare", "--postgres", "podman"], "--postgres"),
    (
        ["compare", "--postgres", "docker", "--target", "http://127.0.0.1:1", "--database-url", "postgresql://x@h/d"],
        "--postgres",
    ),
    (["faults", "--clients", "0"], "--clients"),
    (["faults", "--clients", "2.5"], "--clients"),
    (["faults", "--duration", "nan"], "--duration"),
    (["faults", "--duration", "0.1"], "--duration"),
    (["faults", "--fault", "meteor"], "--fault"),
    (["faults", "--template", MISSING], "--template"),
    (["faults", "--output", "{file}"], "--output"),
    (["faults", "--output", "{under_file}"], "--output"),
    (["pitfalls", "--only", "99"], "--only"),
    (["pitfalls", "--only", "one"], "--only"),
    (["emulate", "--port", "70000"], "--port"),
    (["emulate", "--api-port", "-1"], "--api-port"),
    (["emulate", "--idle-ttl", "nan"], "--idle-ttl"),
    (["emulate", "--idle-ttl", "0"], "--idle-ttl"),
    (["emulate", "--max-environments", "0"], "--max-environments"),
    (["emulate", "--max-environments", "99999999999"], "--max-environments"),
    (["emulate", "--max-environments", "2.5"], "--max-environments"),
    (["emulate", "--idle-ttl", "1e308"], "--idle-ttl"),
    (["emulate", "--sqs-endpoint", "localhost:4566"], "--sqs-endpoint"),
    (["emulate", "--schedule-speedup", "0"], "--schedule-speedup"),
    (["emulate", "--schedule-speedup", "nan"], "--schedule-speedup"),
    (["emulate", "--visibility-timeout", "-1"], "--visibility-timeout"),
    (["emulate", "--template", MISSING], MISSING),
    (["emulate", "--env-vars", "{missing}"], "--env-vars"),
    (["emulate", "--env-vars", "{not_json}"], "--env-vars"),
    (["emulate", "--env-vars", "{deep}"], "--env-vars"),
    (["emulate", "--env-vars", "{nested_var}"], "ItemsFunction.DB_POOL_MODE is an object"),
    (["invoke", "ItemsFunction", "-e", "{not_json}"], "--event"),
    (["invoke", "ItemsFunction", "-e", "{deep}"], "--event"),
    (["invoke", "ItemsFunction", "-e", "{nan}"], "--event"),
    (["invoke", "ItemsFunction", "-e", "{big}"], "--event"),
    (["bench", "--only", "everything"], "--only"),
    (["postgres", "--max-connections", "0"], "--max-connections"),
    (["postgres", "--max-connections", "3"], "--max-connections"),
    (["nonsense"], "nonsense"),
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("argv", "named"), CASES, ids=[" ".join(argv) for argv, _ in CASES])
def test_a_bad_option_exits_2_naming_it_without_a_traceback(
    argv: list[str], named: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    (tmp_path / "env.json").write_text("{nope")
    (tmp_path / "deep.json").write_text("[" * 100_000)
    (tmp_path / "nan.json").write_text('{"amount": NaN}')
    paths = {"{file}": tmp_path / "a-file", "{missing}": tmp_path / "missing.json", "{not_json}": tmp_path / "env.json"}
    if "{big}" in argv:  # 6 MB: written only for the case that uses it
        (tmp_path / "big.json").write_text(f'"{"x" * 6_300_000}"')
    paths.update({"{deep}": tmp_path / "deep.json", "{nan}": tmp_path / "nan.json", "{big}": tmp_path / "big.json"})
    paths["{under_file}"] = tmp_path / "a-file" / "reports"
    (tmp_path / "nested.json").write_text('{"ItemsFunction": {"DB_POOL_MODE": {"mode": "single"}}}')
    paths["{nested_var}"] = tmp_path / "nested.json"
    argv = [str(paths.get(arg, arg)) for arg in argv]
    try:
        status = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        status = exit_.code  # type: ignore[assignment]
    output = capsys.readouterr()

    assert status == 2, (argv, output)
    assert named in output.err + output.out, (argv, output)
    assert "Traceback" not in output.err + output.out


@pytest.mark.parametrize(
    ("database_url", "named"),
    [
        ("postgresql://u:SeCrEt-pw@127.0.0.1:1/db", "--target http://127.0.0.1:1"),  # nothing listens on port 1
        ("not a url SeCrEt-pw", "--database-url"),
        ("mysql://u:SeCrEt-pw@127.0.0.1/db", "--database-url"),
    ],
)
def test_an_unusable_remote_target_exits_2_naming_it_without_the_password(
    database_url: str, named: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    status = main(["compare", "--quick", "--target", "http://127.0.0.1:1", "--database-url", database_url])
    output = capsys.readouterr()

    assert status == 2
    assert output.err.startswith(f"harness compare: {named}")
    assert "Traceback" not in output.err + output.out
    assert "SeCrEt-pw" not in output.err + output.out


def test_bench_refuses_a_directory_as_output_before_measuring(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bench", "--output", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


def test_bench_refuses_an_output_it_cannot_write_before_measuring(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an output whose "directory" is a file: nothing could ever write it
    (tmp_path / "a-file").write_text("not a directory")
    output = tmp_path / "a-file" / "benchmarks.md"

    status = main(["bench", "--output", str(output)])

    # THEN one line says so before any section runs (no section banner printed)
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err.startswith(f"harness bench: --output {output}: cannot be made: {output.parent} is a file")
    assert "==> bench" not in captured.out


def test_compare_on_docker_without_an_engine_exits_2_with_one_line_and_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a DOCKER_HOST that names no engine (the script never starts another one behind the user's back)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.setenv("SERVERLESS_SQLALCHEMY_CACHE", str(tmp_path / "cache"))
    status = main(["compare", "--quick", "--postgres", "docker", "--output", str(tmp_path / "reports")])
    output = capsys.readouterr()

    assert status == 2, output
    assert output.err.startswith("harness compare: --postgres docker: "), output.err
    assert len(output.err.strip().splitlines()) == 1, output.err
    assert "Traceback" not in output.err + output.out
    assert not (tmp_path / "cache" / "dockerd" / "dockerd.pid").exists()
    assert not (tmp_path / "reports").exists()
