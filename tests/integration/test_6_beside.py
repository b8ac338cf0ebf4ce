"""Shipped scenarios that fault brokers, asserted here after they ran on the second cluster in the background
(conftest's `beside`: one `kchaos matrix` on its own compose project and ports, started with the session), side
by side with the tests on the first cluster: no loss where Kafka guarantees none, and loss where the configuration
allows it. (The read_committed copier under broker faults runs there too; test_7_exactly_once.py asserts on it. It
once ran alone because its restarted copier had waited out init_transactions' 60 s; the copier now tries a fresh
client after 20 s.)
"""

import json
from pathlib import Path

from kafka_chaos import leaders
from kafka_chaos.faults import Ledger
from kafka_chaos.history import read_timeline

from .conftest import SECOND


def ran_beside(beside, name):
    """(report, timeline) of a shipped scenario that ran on the second cluster (conftest's BESIDE)."""
    cell = beside(name)
    run_dir = Path(cell["report"]["run_dir"])
    assert Ledger(run_dir).entries() == [], "every fault must be healed"
    assert json.loads((run_dir / "meta.json").read_text())["project"] == SECOND[0]
    return cell["report"], read_timeline(run_dir)


def applied(timeline, action):
    return [e for e in timeline if e["event"] == "apply" and e["action"] == action and e["ok"]]


def test_acks_all_min_isr_2_loses_nothing_when_the_leader_is_killed(beside):
    report, timeline = ran_beside(beside, "at-least-once-leader-kill")
    [kill] = applied(timeline, "kill")
    c = report["counts"]
    assert c["acked"] > 1000   # a real workload ran (about 6000 at this rate)
    assert c["lost"] == 0 and c["phantoms"] == 0
    assert report["passed"] and report["complete"], report["incomplete"]
    # the run sampled partition leadership: partition 0 moved away from the broker the fault killed
    moves = leaders.changes(leaders.read(Path(report["run_dir"])))
    assert any(p == 0 and old in kill["brokers"] and new not in kill["brokers"] for _, p, old, new in moves), \
        (moves, kill)


def test_acks0_to_a_paused_leader_is_never_acked_lost(beside):
    report, timeline = ran_beside(beside, "at-most-once-broker-pause")
    assert applied(timeline, "pause")
    c = report["counts"]
    assert c["sent"] > 1000
    assert c["acked"] == 0 and c["lost"] == 0
    assert c["unacked_present"] + c["unacked_missing"] == c["sent"]
    assert c["log_duplicates"] == 0
    assert report["passed"] and report["complete"], report["incomplete"]


def test_acks1_leader_cut_off_from_its_followers_loses_acknowledged_records(beside):
    report, timeline = ran_beside(beside, "acks1-isolate-leader")
    assert applied(timeline, "isolate")
    c = report["counts"]
    assert c["lost_from_log"] > 0, "the isolated leader's acks=1 writes are truncated when it rejoins"
    assert c["lost"] == c["lost_from_log"] and c["phantoms"] == 0
    lost = [a for a in report["anomalies"] if a["type"] == "lost"]
    assert all(a["where"] == "from_log" and a["near_fault"].startswith("isolate") for a in lost)
