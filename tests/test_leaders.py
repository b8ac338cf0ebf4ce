"""Leader samples (leaders.jsonl): read bounded and checked, turned into changes, drawn in the report."""

import json
import sys
import time
from pathlib import Path

from kafka_chaos import leaders
from kafka_chaos.report import html, series
from kafka_chaos.verify import verify_run_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_report_html import T0, write_run  # noqa: E402


def samples(run, lines):
    (run / leaders.FILE).write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n"
                                            for line in lines))


def test_only_a_differing_sample_is_a_change_and_malformed_lines_are_skipped(tmp_path):
    samples(tmp_path, [
        {"t": T0 + 0.9, "partition": 0, "leader": 1}, {"t": T0 + 0.9, "partition": 1, "leader": 2},
        "not json", [1, 2], {"t": "soon", "partition": 0, "leader": 3}, {"t": T0 + 1, "partition": -1, "leader": 3},
        {"t": 1e300, "partition": 0, "leader": 3}, {"t": T0 + 2.1, "partition": 0, "leader": -1},
        {"t": T0 + 4.0, "partition": 0, "leader": 2}, {"t": T0 + 4.0, "partition": 1, "leader": 2, "isr": [2]},
    ])
    read = leaders.read(tmp_path)
    assert len(read) == 5
    assert leaders.changes(read) == [(T0 + 2.1, 0, 1, -1), (T0 + 4.0, 0, -1, 2)]


def test_no_file_or_a_file_too_big_reads_as_nothing(tmp_path):
    assert leaders.read(tmp_path) == []
    (tmp_path / leaders.FILE).write_text("x" * (leaders.MAX_BYTES + 1))
    assert leaders.read(tmp_path) == []


def test_the_report_draws_each_leader_change_and_says_when_none_was_recorded(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    write_run(run)
    verdict = verify_run_dir(run)
    assert series.build(run, verdict).leaders == [] and "not recorded" in series.build(run, verdict).leader_changes
    samples(run, [{"t": T0 + 0.5, "partition": 0, "leader": 1}, {"t": T0 + 2.0, "partition": 0, "leader": 3}])
    tl = series.build(run, verdict)
    assert [c.text() for c in tl.leaders] == ["partition 0: broker 1 -> broker 3 at +2.0s"]
    assert tl.leader_changes.startswith("1 change(s), sampled once a second")
    page = html.page(verdict, run, tl)
    assert "partition 0: broker 1 -&gt; broker 3 at +2.0s" in page and '"leaders"' in page


class Fake:
    """An admin client whose partition 0 is led by broker 1, then no one, then broker 2; a failure in between."""
    def __init__(self, answers):
        self.answers = answers

    def describe_topics(self, names):
        answer = self.answers.pop(0) if self.answers else self.final
        if isinstance(answer, Exception):
            raise answer
        return [{"name": names[0], "partitions": [{"partition_index": 0, "leader_id": answer}]}]

    final = 2

    def close(self):
        pass


def test_the_watch_writes_a_line_only_when_a_leader_changes_and_skips_unanswered_samples(tmp_path, monkeypatch):
    from kafka_chaos.cluster import metadata

    made = []
    answers = [1, 1, OSError("broker down"), -1, -1, 2]
    monkeypatch.setattr(metadata, "admin", lambda *a, **k: made.append(1) or Fake(answers))
    monkeypatch.setattr(leaders, "INTERVAL", 0.01)
    watch = leaders.LeaderWatch("127.0.0.1:19092", "chaos", tmp_path)
    watch.start()
    deadline = time.time() + 10
    while len(leaders.read(tmp_path)) < 3 and time.time() < deadline:
        time.sleep(0.02)
    watch.stop()
    assert [e["leader"] for e in leaders.read(tmp_path)] == [1, -1, 2]
    assert len(made) == 2, "a client that failed is replaced"


def test_a_kill_the_scenario_undoes_with_its_own_start_ends_there_not_at_the_end_of_the_run():
    # at-least-once-leader-kill schedules `start killed` 10 s after the kill: its band once ran to the end
    kill = {"event": "apply", "seq": 0, "action": "kill", "target": "leader(chaos,0)", "resolved": "broker 2",
            "brokers": [2], "ok": True, "t_applied": T0 + 8}
    other = {"event": "apply", "seq": 1, "action": "start", "target": "broker(3)", "brokers": [3], "ok": True,
             "t_applied": T0 + 12}
    start = {"event": "apply", "seq": 2, "action": "start", "target": "killed", "resolved": "broker 2",
             "brokers": [2], "ok": True, "t_applied": T0 + 18}
    final = {"event": "heal", "action": "heal", "resolved": "nothing", "ok": True, "t_applied": T0 + 30, "final": True}
    bands = series.timeline({}, [kill, other, start, final], [], T0).bands
    assert (bands[0].label, bands[0].end, bands[0].note) == ("kill leader(chaos,0)", 18.0,
                                                             "ended by start: broker 2")
