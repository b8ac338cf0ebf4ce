"""Shipped scenarios whose faults hit only their own clients (consumer and producer crashes, the exactly-once
family's crashes, crash points and fencing), run side by side on the shared cluster by conftest's
`side_by_side` fixture; each test asserts one run's report. Each correct configuration shows no anomaly of
its class, each broken one shows it, every time (the broken variants' crashes land at a crash point, not at
a random moment).
"""

from pathlib import Path

import pytest

from kafka_chaos import history

from .conftest import applied as reported
from .conftest import result


def test_auto_commit_consumer_crash_redelivers_what_was_processed_after_the_last_commit(side_by_side):
    code, c, report = result(side_by_side, "auto-commit-consumer-crash")
    assert len(reported(report["faults"], "crash")) == 2
    assert c["reprocessed"] > 0, "records processed after the last auto-commit are delivered again"
    assert code == 0 and report["passed"] and c["phantoms"] == 0


def test_commit_after_process_consumer_crash_reprocesses_but_loses_nothing(side_by_side):
    code, c, report = result(side_by_side, "commit-after-process-consumer-crash")
    assert len(reported(report["faults"], "crash")) == 2
    assert c["lost"] == 0
    assert c["reprocessed"] > 0, "a crash mid-batch must re-deliver the uncommitted records"
    assert code == 0 and report["passed"]


def test_commit_before_process_consumer_crash_loses_records_that_stay_in_the_log(side_by_side):
    code, c, report = result(side_by_side, "commit-before-process-consumer-crash")
    assert c["lost"] > 0, "the verifier must find the committed-but-unprocessed records"
    assert c["lost_in_log"] == c["lost"] and c["lost_from_log"] == 0
    assert c["reprocessed"] == 0
    lost = [a for a in report["anomalies"] if a["type"] == "lost"]
    assert lost and all(a["where"] == "in_log" and a["near_fault"].startswith("crash") for a in lost)
    assert code == 0 and report["passed"]


def test_producer_crash_loses_nothing_acknowledged(side_by_side):
    code, c, report = result(side_by_side, "idempotent-producer-crash")
    assert len(reported(report["faults"], "crash")) == 2
    restarts = [e["resolved"] for e in report["faults"] if e["action"] == "restart-worker"]
    assert any("producer-1" in r for r in restarts) and any("producer-2" in r for r in restarts)
    assert c["acked"] > 1000 and c["lost"] == 0 and c["phantoms"] == 0
    assert code == 0 and report["passed"]


def evidence(report, kind):
    return [a for a in report["anomalies"] if a["type"] == kind]


def test_read_uncommitted_reads_aborted_records_and_loses_nothing(side_by_side):
    code, c, _ = result(side_by_side, "transactional-read-uncommitted")
    assert code == 0 and c["aborted"] > 0 and c["aborted_reads"] > 0, c
    assert c["lost"] == 0 and c["torn_transactions"] == 0 and c["acked"] > 200, c


def test_a_producer_killed_mid_transaction_leaves_it_dangling_then_aborted_whole(side_by_side):
    code, c, report = result(side_by_side, "transactional-producer-crash")
    assert code == 0, c
    assert c["dangling_transactions"] >= 1 and c["torn_transactions"] == 0 and c["aborted_reads"] == 0, c
    assert c["lost"] == 0 and c["acked"] > 200, c
    [d, *_] = evidence(report, "dangling_transaction")
    assert "read_committed readers blocked" in d["detail"], d


def test_a_fenced_producer_stops_and_only_committed_transactions_are_visible(side_by_side):
    code, c, report = result(side_by_side, "transactional-fence-producer")
    assert code == 0, c
    fenced = [f for f in report["faults"] if f.get("action") == "fence-producer" and f.get("event") == "apply"]
    assert fenced and "started producer-1" in fenced[0]["resolved"], report["faults"]
    assert c["lost"] == 0 and c["torn_transactions"] == 0 and c["aborted_reads"] == 0 and c["acked"] > 200, c
    run_dir = Path(report["run_dir"])
    # the first producer's last transaction call failed (ProducerFencedError, or kafka-python's "invalid
    # transition" when the fence came while it bumped its epoch to abort): outcome unknown, and it stopped
    log = (run_dir / "logs" / "producer-0.log").read_text()
    assert "outcome unknown, sending stops" in log, log
    first = history.read_file(run_dir / "history" / "producer-0.bin")
    second = history.read_file(run_dir / "history" / "producer-1.bin")
    outcomes = first["flags"][first["kind"] == history.TXN]
    assert len(outcomes) and outcomes[-1] == history.TXN_UNKNOWN, outcomes
    assert second["t"].max() > first["t"].max(), "the second producer carries on after the first is fenced"


def test_copier_without_a_rewind_after_abort_loses_the_aborted_inputs(side_by_side):
    code, c, report = result(side_by_side, "transform-no-seek")
    assert code == 0 and c["lost_effects"] > 0 and c["duplicate_effects"] == 0, c
    # every lost one is an input of an aborted copy (a record in the log whose ack never came may be copied too)
    assert c["acked"] <= c["effects"] + c["lost_effects"] <= c["acked"] + c["unacked_present"], c
    assert evidence(report, "lost_effect")


def test_copier_committing_offsets_after_the_transaction_copies_twice(side_by_side):
    code, c, report = result(side_by_side, "transform-offsets-after-commit")
    assert code == 0 and c["duplicate_effects"] > 0 and c["lost_effects"] == 0, c
    assert evidence(report, "duplicate_effect")[0]["near_fault"].startswith("crash copier"), report["anomalies"][:2]


def test_copier_survives_its_crashes_with_exactly_one_copy_each(side_by_side):
    code, c, report = result(side_by_side, "transform-copier-crash")
    assert code == 0 and len(reported(report["faults"], "crash")) == 2, report["faults"]
    assert c["acked"] > 1000 and c["lost_effects"] == 0 and c["duplicate_effects"] == 0, c
    assert c["acked"] <= c["effects"] <= c["acked"] + c["unacked_present"], c   # unacked, in the log: copied too
    copier = history.read_dir(Path(report["run_dir"]) / "history")["copier"]
    outcomes = copier["flags"][copier["kind"] == history.TXN]
    assert (outcomes == history.TXN_ABORTED).any(), "the copier's own aborts must run in every run"


@pytest.mark.parametrize("name", ["sink-sqlite-crash", "sink-postgresql-crash"])
def test_inbox_sink_applies_each_record_once_across_crashes(side_by_side, name):
    code, c, _ = result(side_by_side, name)
    assert code == 0, c
    assert c["acked"] > 1000 and c["lost_effects"] == 0 and c["duplicate_effects"] == 0, c
    assert c["acked"] <= c["effects"] <= c["acked"] + c["unacked_present"], c   # unacked, in the log: applied too


@pytest.mark.parametrize("name", ["sink-offsets-kafka", "sink-postgresql-offsets-kafka"])
def test_sink_committing_offsets_to_kafka_after_the_database_applies_twice(side_by_side, name):
    code, c, _ = result(side_by_side, name)
    assert code == 0 and c["duplicate_effects"] > 0 and c["lost_effects"] == 0, c


def test_outbox_relay_crash_duplicates_in_the_topic_but_not_in_the_effects(side_by_side):
    code, c, _ = result(side_by_side, "outbox-relay-crash")
    assert code == 0, c
    assert c["log_duplicates"] > 0, c   # republished after the crash between the ack and the mark
    assert c["effects"] > 1000 and c["lost_effects"] == 0 and c["duplicate_effects"] == 0, c
