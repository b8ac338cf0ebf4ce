"""The command line: help that teaches, one-line errors with exit code 2, verify's exit codes."""

import json

import pytest
from typer.testing import CliRunner

from kafka_chaos import __version__, history
from kafka_chaos.cli import app
from kafka_chaos.history import ACK, PROCESS, SEND, HistoryWriter

runner = CliRunner()
COMMANDS = [["run"], ["validate"], ["verify"], ["heal"], ["faults"], ["image", "build"],
            ["cluster", "up"], ["cluster", "status"], ["cluster", "down"]]


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_top_level_help_names_the_exit_codes_and_a_first_step():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "Exit codes" in result.output and "kchaos run" in result.output


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_text(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    body = result.output.split("Options")[0]
    assert len(body.split("Usage:")[1].splitlines()) > 2, f"{command} has no description"


def test_validate_reports_file_line_field_and_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ncluster: {bootstrap: '127.0.0.1:19092'}\nproducer: {semantic: at-least-once}\n"
                   "consumer: {mode: auto-commit}\nduration: soon\n")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 2
    assert f"{bad}:5: duration" in result.output.replace("\n", "")
    assert "Traceback" not in result.output


def test_validate_accepts_every_shipped_scenario():
    import glob
    files = sorted(glob.glob("scenarios/*.yaml"))
    assert len(files) >= 7
    result = runner.invoke(app, ["validate", *files])
    assert result.exit_code == 0, result.output


def write_run(tmp_path, processed: int, expect: dict):
    run = tmp_path / "run"
    w = HistoryWriter(run / "history" / "producer-0.bin")
    w.append_many(history.events(SEND, 0, range(10), 1.0))
    w.append_many(history.events(ACK, 0, range(10), 1.1, 0, range(10)))
    c = HistoryWriter(run / "history" / "consumer-0.bin")
    c.append_many(history.events(PROCESS, 0, range(processed), 2.0, 0, range(processed)))
    (run / "scenario.json").write_text(json.dumps({"name": "hand-built", "expect": expect}))
    (run / "meta.json").write_text(json.dumps({"t0": 0.0}))
    return run


def test_verify_passes_a_clean_run_and_writes_json(tmp_path):
    run = write_run(tmp_path, 10, {"lost": 0})
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["verify", str(run), "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["passed"] is True and report["counts"]["lost"] == 0 and report["scenario"] == "hand-built"


def test_verify_fails_with_exit_1_and_evidence_when_acked_records_are_lost(tmp_path):
    run = write_run(tmp_path, 7, {"lost": 0})
    result = runner.invoke(app, ["verify", str(run)])
    assert result.exit_code == 1
    assert "lost = 3" in result.output and "seq 7-9" in result.output


def test_verify_of_a_folder_that_is_no_run_is_exit_2(tmp_path):
    result = runner.invoke(app, ["verify", str(tmp_path)])
    assert result.exit_code == 2 and "not a kchaos run directory" in result.output


def test_heal_needs_a_run_dir_or_all():
    result = runner.invoke(app, ["heal"])
    assert result.exit_code == 2 and "RUN_DIR or --all" in result.output


def test_cluster_command_with_a_missing_compose_file_is_exit_2(tmp_path):
    result = runner.invoke(app, ["cluster", "status", "--compose", str(tmp_path / "nope.yml")])
    assert result.exit_code == 2 and "does not exist" in result.output
