"""The command line: help that teaches, one-line errors with exit code 2, verify's exit codes."""

import json

import pytest
from typer.testing import CliRunner

from kafka_chaos import __version__, history
from kafka_chaos.cli import app
from kafka_chaos.history import ACK, LOG, PROCESS, SEND, HistoryWriter

runner = CliRunner()
COMMANDS = [["run"], ["validate"], ["verify"], ["report"], ["matrix"], ["heal"], ["faults"], ["schema"], ["init"], ["image", "build"],
            ["cluster", "up"], ["cluster", "status"], ["cluster", "down"]]
GROUPS = [[], ["image"], ["cluster"]]


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


@pytest.mark.parametrize("command", GROUPS + COMMANDS, ids=lambda c: " ".join(c) or "kchaos")
def test_flags_show_as_plain_flags_in_every_help(command):
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    assert "<bool>" not in result.output and "--no-" not in result.output


def test_boolean_options_are_plain_flags():
    assert "  --debug " in runner.invoke(app, ["--help"]).output
    assert "  --keep-cluster " in runner.invoke(app, ["run", "--help"]).output
    assert "  --force " in runner.invoke(app, ["image", "build", "--help"]).output
    assert "  --all " in runner.invoke(app, ["heal", "--help"]).output
    assert "  --force " in runner.invoke(app, ["init", "--help"]).output


@pytest.mark.parametrize("command, example", [("init", "kchaos init --semantic at-least-once --out my.yaml"),
                                              ("schema", "kchaos schema --out kchaos.schema.json")])
def test_new_commands_teach_by_example(command, example):
    out = " ".join(runner.invoke(app, [command, "--help"]).output.split())
    assert f"Example: {example}" in out


def test_init_writes_a_scenario_validate_accepts_and_never_overwrites_without_force(tmp_path):
    out = tmp_path / "my.yaml"
    result = runner.invoke(app, ["init", "--semantic", "at-least-once", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["validate", str(out)]).exit_code == 0
    out.write_text("mine\n")
    result = runner.invoke(app, ["init", "--semantic", "idempotent", "--out", str(out)])
    assert result.exit_code == 2 and "exists (pass --force" in result.output and "Traceback" not in result.output
    assert out.read_text() == "mine\n"
    result = runner.invoke(app, ["init", "--semantic", "idempotent", "--out", str(out), "--force"])
    assert result.exit_code == 0 and "semantic: idempotent" in out.read_text()


def test_init_prints_to_stdout_and_refuses_an_unknown_semantic_in_one_line():
    result = runner.invoke(app, ["init", "--semantic", "transactional"])
    assert result.exit_code == 0 and "semantic: transactional" in result.output
    result = runner.invoke(app, ["init", "--semantic", "exactly-once-ish[/x]"])
    assert result.exit_code == 2 and "is not a semantic" in result.output and "[/x]" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_schema_writes_the_built_schema(tmp_path):
    from kafka_chaos import schema
    out = tmp_path / "kchaos.schema.json"
    result = runner.invoke(app, ["schema", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == schema.build()
    assert json.loads(runner.invoke(app, ["schema"]).output) == schema.build()


@pytest.mark.parametrize("command", ["run", "verify"])
def test_run_and_verify_help_list_every_exit_code_and_incomplete_is_3(command):
    out = " ".join(runner.invoke(app, [command, "--help"]).output.split())
    for code in ("0 ", "1 ", "2 ", "3 ", "130 "):
        assert f" {code}" in out.split("Exit codes:")[1]
    assert "incomplete verdict" in out and "no complete audit" in out and "drain timed out" in out


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


def write_run(tmp_path, processed, expect: dict, audited: bool = True, logged=range(10)):
    """A hand-built run: seqs 0-9 sent and acked at offsets 0-9, the seqs in `processed` processed; with
    `audited`, a complete audit that found the seqs in `logged` in the log."""
    run = tmp_path / "run"
    w = HistoryWriter(run / "history" / "producer-0.bin")
    w.append_many(history.events(SEND, 0, range(10), 1.0))
    w.append_many(history.events(ACK, 0, range(10), 1.1, 0, range(10)))
    c = HistoryWriter(run / "history" / "consumer-0.bin")
    c.append_many(history.events(PROCESS, 0, list(processed), 2.0, 0, list(processed)))
    for writer in (w, c):
        writer.close()
    if audited:
        a = HistoryWriter(run / "history" / "audit-0.bin")
        a.append_many(history.events(LOG, 0, list(logged), 3.0, 0, list(logged)))
        a.close()
        (run / "audit.json").write_text(json.dumps({"complete": True}))
    (run / "scenario.json").write_text(json.dumps({"name": "hand-built", "expect": expect}))
    (run / "meta.json").write_text(json.dumps({"t0": 0.0}))
    return run


def test_verify_passes_a_clean_run_and_writes_json(tmp_path):
    run = write_run(tmp_path, range(10), {"lost": 0})
    out = tmp_path / "r.json"
    result = runner.invoke(app, ["verify", str(run), "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["passed"] is True and report["counts"]["lost"] == 0 and report["scenario"] == "hand-built"


def test_report_writes_the_page_and_the_picture_and_exits_0_whatever_the_verdict(tmp_path):
    run = write_run(tmp_path, range(10), {"lost": 0}, logged=[0, 1, 2, 6, 7, 8, 9])
    page, picture = tmp_path / "r.html", tmp_path / "r.png"
    result = runner.invoke(app, ["report", str(run), "--html", str(page), "--png", str(picture)])
    assert result.exit_code == 0, result.output
    assert f"wrote {page}" in result.output and "FAILED" in result.output
    assert "kchaos-ready" in page.read_text() and picture.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("args, why", [
    ([], "give --html FILE, --png FILE or both"),
    (["--png", "/no/such/folder/r.png"], "--png: /no/such/folder/r.png: its folder does not exist")])
def test_report_without_an_output_or_into_a_missing_folder_is_exit_2(tmp_path, args, why):
    result = runner.invoke(app, ["report", str(write_run(tmp_path, range(10), {})), *args])
    assert result.exit_code == 2 and why in result.output


def test_run_refuses_an_html_page_into_a_missing_folder_before_it_starts():
    result = runner.invoke(app, ["run", "scenarios/commit-before-process-consumer-crash.yaml", "--html", "/no/x.html"])
    assert result.exit_code == 2 and "--html: /no/x.html: its folder does not exist" in result.output


def test_verify_html_writes_the_page_and_keeps_the_verdicts_exit_code(tmp_path):
    run = write_run(tmp_path, range(10), {"lost": 0}, logged=[0, 1, 2, 6, 7, 8, 9])
    result = runner.invoke(app, ["verify", str(run), "--html", str(tmp_path / "v.html")])
    assert result.exit_code == 1 and "lost = 3" in result.output
    assert "seq 3-5" in (tmp_path / "v.html").read_text()


def test_verify_fails_with_exit_1_and_evidence_when_acked_records_are_lost(tmp_path):
    run = write_run(tmp_path, range(10), {"lost": 0}, logged=[0, 1, 2, 6, 7, 8, 9])
    result = runner.invoke(app, ["verify", str(run)])
    assert result.exit_code == 1
    assert "lost = 3" in result.output and "seq 3-5" in result.output


def test_verify_of_a_run_without_a_complete_audit_is_incomplete_exit_3_with_each_reason_once(tmp_path):
    run = write_run(tmp_path, range(10), {"lost": 0}, audited=False)
    result = runner.invoke(app, ["verify", str(run)])
    assert result.exit_code == 3, result.output
    reasons = [line for line in result.output.splitlines() if line.startswith("incomplete:")]
    assert reasons and any("audit" in line for line in reasons)
    assert len(reasons) == len(set(reasons)), "each reason is printed once"


def test_verify_with_a_violation_and_no_audit_is_still_exit_1(tmp_path):
    run = write_run(tmp_path, range(10), {"sent": 5}, audited=False)
    assert runner.invoke(app, ["verify", str(run)]).exit_code == 1


@pytest.mark.parametrize("name, content, why", [
    ("scenario.json", b"\xff\xfe{}", "UTF-8"),
    ("scenario.json", b"[1, 2]", "object"),
    ("scenario.json", b'{"expect": [1]}', "expect"),
    ("meta.json", b"\xff", "UTF-8"),
    ("meta.json", b"[]", "object"),
    ("meta.json", b'{"t0": "soon"}', "t0"),
])
def test_verify_of_a_run_dir_with_a_bad_file_is_exit_2_naming_that_file(tmp_path, name, content, why):
    run = write_run(tmp_path, range(10), {"lost": 0})
    (run / name).write_bytes(content)
    result = runner.invoke(app, ["verify", str(run)])
    out = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert str(run / name) in out and why in out and "internal error" not in out


def test_verify_refuses_a_scenario_json_that_is_a_symlink_to_dev_zero(tmp_path):
    run = write_run(tmp_path, range(10), {"lost": 0})
    (run / "scenario.json").unlink()
    (run / "scenario.json").symlink_to("/dev/zero")
    result = runner.invoke(app, ["verify", str(run)])
    assert result.exit_code == 2 and "scenario.json" in result.output


def test_verify_of_a_folder_that_is_no_run_is_exit_2(tmp_path):
    result = runner.invoke(app, ["verify", str(tmp_path)])
    assert result.exit_code == 2 and "not a kchaos run directory" in result.output


def test_heal_needs_a_run_dir_or_all():
    result = runner.invoke(app, ["heal"])
    assert result.exit_code == 2 and "RUN_DIR or --all" in result.output


def test_cluster_command_with_a_missing_compose_file_is_exit_2(tmp_path):
    result = runner.invoke(app, ["cluster", "status", "--compose", str(tmp_path / "nope.yml")])
    assert result.exit_code == 2 and "does not exist" in result.output


LIVE = ("name: {name}\ncluster: {{bootstrap: '127.0.0.1:19092', containers: {{1: kafka-1}}}}\n"
        "topic: {{name: chaos, partitions: 1, replication_factor: 1}}\n"
        "producer: {{semantic: at-least-once}}\nconsumer: {{mode: auto-commit}}\nduration: 10s\n")


def test_validate_prints_paths_with_markup_characters_as_they_are(tmp_path):
    folder = tmp_path / "[bold]" / "[" / "x]"   # the path reads .../[bold]/[/x]/s.yaml
    folder.mkdir(parents=True)
    path = folder / "s.yaml"
    path.write_text(LIVE.format(name="plain"))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert f"ok {path}: plain" in " ".join(result.output.split())


def test_a_scenario_named_with_markup_is_refused_in_one_line_not_a_traceback(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(LIVE.format(name='"[/x]"'))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    assert "[/x]" in result.output and "Traceback" not in result.output


def test_fail_prints_an_error_message_with_markup_characters_as_it_is(capsys):
    from kafka_chaos.cli import fail
    from kafka_chaos.errors import ClusterError, UsageError

    assert fail(UsageError("bad [/x] and [red]not red[/]")).exit_code == 2
    assert fail(RuntimeError("[/x]")).exit_code == 3
    err = capsys.readouterr().err
    assert "bad [/x] and [red]not red[/]" in err and "internal error: RuntimeError: [/x]" in err
    assert fail(ClusterError("[/]")).exit_code == 3


def write_replayable(tmp_path):
    """A run directory `kchaos run --replay` accepts: scenario.json, meta.json, one fault in the timeline."""
    from kafka_chaos import scenario
    run = tmp_path / "old-run"
    run.mkdir()
    (run / "scenario.json").write_text(json.dumps(scenario.loads(LIVE.format(name="old")).to_dict()))
    (run / "meta.json").write_text(json.dumps({"t0": 100.0}))
    spec = {"action": "pause", "target": "broker(1)", "at": 1.0, "every": None, "count": None, "jitter": 0.0,
            "duration": None, "line": 9}
    entry = {"event": "apply", "seq": 0, "action": "pause", "target": "broker(1)", "spec": spec,
             "t_started": 101.0, "t_applied": 101.2}
    (run / "timeline.jsonl").write_text(json.dumps(entry) + "\n")
    return run


@pytest.mark.parametrize("name, content, why", [
    ("scenario.json", "{not json", "scenario.json:1"),
    ("scenario.json", '{"name": "x"}', "not a scenario kchaos wrote"),
    ("scenario.json", "[]", "JSON object"),
    ("meta.json", "{not json", "meta.json:1"),
    ("meta.json", "{}", "t0"),
    ("meta.json", '{"t0": "yesterday"}', "t0"),
    ("timeline.jsonl", '{"event": "apply", "seq": 0, "action": "pause", "t_applied": "late"}\n', "timeline.jsonl:1"),
    ("timeline.jsonl", '\n{"event": "apply", "seq": "one", "t_applied": 1.0}\n', "timeline.jsonl:2"),
    ("timeline.jsonl", '{"event": "apply", "seq": 0, "action": "pause", "t_applied": 1.0, "spec": {"x": 1}}\n',
     "timeline.jsonl:1"),
])
def test_replay_of_a_run_dir_with_a_bad_file_is_exit_2_naming_that_file(tmp_path, name, content, why):
    run = write_replayable(tmp_path)
    (run / name).write_text(content)
    result = runner.invoke(app, ["run", "--replay", str(run), "--runs", str(tmp_path / "runs")])
    out = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert f"{run / name.split(':')[0]}" in out and why in out and "internal error" not in out
    if name != "scenario.json":
        assert "scenario.json" not in out
    assert not (tmp_path / "runs").exists(), "nothing started"


@pytest.mark.parametrize("name", ["scenario.json", "meta.json", "timeline.jsonl"])
def test_replay_refuses_run_dir_files_that_are_not_regular_files(tmp_path, name):
    import os
    run = write_replayable(tmp_path)
    (run / name).unlink()
    (run / name).symlink_to("/dev/zero")
    result = runner.invoke(app, ["run", "--replay", str(run), "--runs", str(tmp_path / "runs")])
    assert result.exit_code == 2 and name in result.output and "symlink" in result.output, result.output
    (run / name).unlink()
    os.mkfifo(run / name)   # opening a FIFO for reading would block without O_NONBLOCK
    result = runner.invoke(app, ["run", "--replay", str(run), "--runs", str(tmp_path / "runs")])
    assert result.exit_code == 2 and "not a regular file" in result.output, result.output


def test_exit_code_of_a_verdict_violated_beats_incomplete_and_incomplete_is_never_a_pass():
    from types import SimpleNamespace

    from kafka_chaos.cli import verdict_exit
    assert verdict_exit(SimpleNamespace(violations=[{"count": "lost"}], complete=False)) == 1
    assert verdict_exit(SimpleNamespace(violations=[], complete=False)) == 3
    assert verdict_exit(SimpleNamespace(violations=[], complete=True)) == 0
    assert verdict_exit(SimpleNamespace(violations=[])) == 0   # a Verdict from before `complete` existed


@pytest.mark.parametrize("timeline", ['{"event": "apply", "action": "pause", "t_applied": "x", "ok": true}\n',
                                      '[1]\n{"event": "apply", "t_applied": [1], "ok": true, "seq": 0}\n'])
def test_verify_of_a_run_with_a_malformed_timeline_is_no_internal_error_and_no_scenario_error(tmp_path, timeline):
    run = write_run(tmp_path, range(10), {"lost": 0}, logged=[0, 1, 2, 6, 7, 8, 9])
    (run / "timeline.jsonl").write_text(timeline)
    result = runner.invoke(app, ["verify", str(run)])
    assert result.exit_code in (1, 2), result.output
    assert "internal error" not in result.output and "scenario.json:" not in result.output


def test_the_readme_documents_every_command():
    from pathlib import Path
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for command in COMMANDS:
        assert f"`kchaos {command[0]}" in readme, f"README.md does not document kchaos {' '.join(command)}"
