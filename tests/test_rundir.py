"""Reading a run directory back as untrusted input: bounded regular files, errors naming file and line."""

import json
import os

import pytest

from kafka_chaos import files
from kafka_chaos.errors import UsageError
from kafka_chaos import scenario
from kafka_chaos.history import new_run_id
from kafka_chaos.runner import _clean_up, replay_plan, run_names

SPEC = {"action": "pause", "target": "broker(1)", "at": 1.0, "every": None, "count": None, "jitter": 0.0,
        "duration": 2.0, "line": 9}
APPLY = {"event": "apply", "seq": 0, "action": "pause", "target": "broker(1)", "spec": SPEC,
         "t_started": 101.0, "t_applied": 101.2, "brokers": [1]}
HEAL = {"event": "heal", "seq": 1, "heal_of": 0, "action": "unpause", "t_started": 103.0, "t_applied": 103.1}


def write(run, *entries, tail: str = ""):
    run.mkdir(exist_ok=True)
    (run / "meta.json").write_text(json.dumps({"t0": 100.0}))
    (run / "timeline.jsonl").write_text("".join(json.dumps(e) + "\n" for e in entries) + tail)
    return run


def test_read_bounded_reads_a_regular_file_and_refuses_what_is_not_one(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"12345")
    assert files.read_bounded(path, 5, "f") == b"12345"
    with pytest.raises(UsageError, match=r"f: f is larger than 4 bytes"):
        files.read_bounded(path, 4, "f")
    link = tmp_path / "zero"
    link.symlink_to("/dev/zero")
    with pytest.raises(UsageError, match="symlink"):
        files.read_bounded(link, 10, "f")
    with pytest.raises(UsageError, match="not a regular file"):
        files.read_bounded(tmp_path, 10, "f")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(UsageError, match="not a regular file"):
        files.read_bounded(fifo, 10, "f")
    with pytest.raises(UsageError, match="not found"):
        files.read_bounded(tmp_path / "none", 10, "f")


def test_read_json_names_the_file_and_line(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{\n  "a": 1,\n}')
    with pytest.raises(UsageError, match=r"x.json:3: thing is not valid JSON"):
        files.read_json(path, 100, "thing")
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(UsageError, match="not UTF-8"):
        files.read_json(path, 100, "thing")


def test_a_recorded_timeline_replays_at_the_same_offsets_on_the_same_brokers(tmp_path):
    run = write(tmp_path / "run", APPLY, HEAL, {"event": "heal", "action": "heal", "final": True, "t_applied": 1})
    plan = replay_plan(run)
    assert [(p.action, p.t, p.fixed, p.heal_of) for p in plan] == [("pause", 1.0, (1,), -1), ("unpause", 3.0, None, 0)]


def test_a_torn_last_line_is_skipped_but_a_broken_middle_line_is_an_error(tmp_path):
    run = write(tmp_path / "run", APPLY, tail='{"event": "heal", "se')
    assert [p.action for p in replay_plan(run)] == ["pause"]
    write(run, APPLY, tail='{"event": "heal", "se\n' + json.dumps(HEAL) + "\n")
    with pytest.raises(UsageError, match=r"timeline.jsonl:2: not a JSON line"):
        replay_plan(run)


@pytest.mark.parametrize("change, why", [
    ({"seq": True}, "seq must be an integer"),
    ({"t_started": "soon"}, "must be numbers"),
    ({"action": "format-disk"}, "not a fault action"),
    ({"spec": None}, "spec must be"),
    ({"spec": {**SPEC, "bogus": 1}}, "spec"),
    ({"brokers": ["1"]}, "brokers must be a list of broker ids"),
    ({"groups": [[1], "2"]}, "groups must be lists"),
    ({"event": "rewind"}, "event must be apply or heal"),
    ({"action": "crash", "target": "sh", "spec": {**SPEC, "action": "crash", "target": "sh"}}, "crash targets"),
])
def test_a_timeline_entry_a_replay_would_misread_is_an_error_naming_its_line(tmp_path, change, why):
    run = write(tmp_path / "run", {"event": "apply", "seq": 5, "action": "kill", "target": "random", "spec": SPEC,
                                   "t_applied": 100.5}, {**APPLY, **change})
    with pytest.raises(UsageError, match=r"timeline.jsonl:2: ") as exc:
        replay_plan(run)
    assert why in str(exc.value)


def test_a_heal_that_does_not_undo_its_fault_is_refused(tmp_path):
    run = write(tmp_path / "run", APPLY, {**HEAL, "action": "restart-worker"})
    with pytest.raises(UsageError, match=r"timeline.jsonl:2: action 'restart-worker' does not heal a pause fault"):
        replay_plan(run)


def test_meta_json_t0_must_be_a_number(tmp_path):
    run = write(tmp_path / "run", APPLY)
    for meta in ('{"t0": true}', '{"t0": NaN}', '["t0"]'):
        (run / "meta.json").write_text(meta)
        with pytest.raises(UsageError, match=r"meta.json: t0 must be a number"):
            replay_plan(run)


def test_clean_up_prints_error_messages_with_markup_characters_as_they_are(tmp_path):
    from io import StringIO

    from rich.console import Console

    class Workers:
        def stop_all(self):
            raise RuntimeError("worker [/x] gone [bold]")

    out = StringIO()
    run_dir = tmp_path / "[red]run"
    run_dir.mkdir()
    assert _clean_up(Console(file=out, width=300), run_dir, Workers(), None, None, False, failing=True) == []
    text = out.getvalue()
    assert "could not stop workers: worker [/x] gone [bold]" in text
    assert f"history kept: kchaos verify {run_dir}" in text


def test_two_runs_started_in_the_same_second_never_share_a_topic_or_group(tmp_path):
    # side by side, transform-no-seek and transform-copier-crash (both topic "chaos") started in the same second
    # shared "chaos-<stamp>": each counted the other's 3,800 records as foreign and 2,379 copies as duplicates
    p = tmp_path / "s.yaml"
    p.write_text("name: s\nduration: 5s\ncluster: {compose: compose/kraft-3.yml}\nproducer: {semantic: idempotent}\n"
                 "consumer: {mode: commit-after-process}\n")
    s = scenario.load(p)
    first, second = run_names(s, "20261126-144207", new_run_id()), run_names(s, "20261126-144207", new_run_id())
    assert first[0] != second[0] and first[1] != second[1]
    assert first[0].startswith("chaos-20261126-144207-") and s.name in first[1]
