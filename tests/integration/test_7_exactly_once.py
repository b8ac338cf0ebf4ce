"""The exactly-once family under broker faults: transactions read read_committed and copied by a copier while
the leader is killed, the copier crashes and a broker is paused (run on the second cluster in the background:
conftest's BESIDE); and the audit waiting for a transaction a killed producer left open. The scenarios that
fault only their own clients are in test_7_side_by_side.py.
"""

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kafka_chaos import history
from kafka_chaos.cluster import metadata
from kafka_chaos.errors import ClusterError
from kafka_chaos.faults import Ledger
from kafka_chaos.history import read_timeline
from kafka_chaos.workload import consumer

from .conftest import ROOT


def transactions(run_dir):
    """({outcome: set of (producer id, seq)}, {outcome: number of transactions}, processed (producer id, seq)),
    from the raw history, independently of the verifier."""
    events = history.read_dir(run_dir / "history")
    producer = events["producer"]
    records = {o: set() for o in history.TXN_OUTCOMES}
    count = dict.fromkeys(history.TXN_OUTCOMES, 0)
    for e in producer[producer["kind"] == history.TXN]:
        outcome = int(e["flags"])
        count[outcome] += 1
        records[outcome].update((int(e["pid"]), s) for s in range(int(e["seq"]), int(e["offset"]) + 1))
    consumer_ev = events["consumer"]
    processed = {(int(e["pid"]), int(e["seq"])) for e in consumer_ev[consumer_ev["kind"] == history.PROCESS]}
    return records, count, processed


def applied(timeline, action):
    return [e for e in timeline if e["event"] == "apply" and e["action"] == action and e["ok"]]


def test_read_committed_and_a_copier_under_broker_faults_see_every_committed_record_once(beside):
    """The shipped scenario ran on the second cluster in the background (conftest's BESIDE)."""
    report = beside("transactional-read-committed-broker-kill")["report"]
    run_dir = Path(report["run_dir"])
    assert Ledger(run_dir).entries() == [], "every fault must be healed"
    timeline = read_timeline(run_dir)
    assert applied(timeline, "kill") and applied(timeline, "pause"), timeline
    records, count, processed = transactions(run_dir)
    assert count[history.TXN_COMMITTED] > 2, count   # the producer stops at its first unknown outcome (a kill at 5 s)
    assert count[history.TXN_ABORTED] > 0, count
    assert not processed & records[history.TXN_ABORTED], "a read_committed consumer processed an aborted record"
    missing = records[history.TXN_COMMITTED] - processed
    assert not missing, f"{len(missing)} records of committed transactions never processed: {sorted(missing)[:5]}"
    c = report["counts"]
    assert report["passed"] and report["complete"] and c["aborted_reads"] == 0 and c["torn_transactions"] == 0, c
    # the copier, through the same faults and a crash of its own: one committed copy of each committed record
    assert applied(timeline, "crash"), timeline
    # a transaction whose commit the producer never heard back about may have committed (unacked_present)
    assert c["effects"] == c["acked"] + c["unacked_present"], c
    assert c["lost_effects"] == 0 and c["duplicate_effects"] == 0, c
    assert c["aborted_effects"] == 0, c
    copier = history.read_dir(run_dir / "history")["copier"]
    assert (copier["flags"][copier["kind"] == history.TXN] == history.TXN_ABORTED).any(), \
        "the copier's own aborts must run in every run"


DANGLING = """
import sys, time
from kafka import KafkaProducer
from kafka_chaos.history import encode_value
bootstrap, topic, run_id = sys.argv[1:4]
p = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=topic, enable_idempotence=True, acks="all",
                  transaction_timeout_ms=8000)
p.init_transactions()
for first, commit in ((0, True), (10, False)):
    p.begin_transaction()
    for seq in range(first, first + 10):
        p.send(topic, encode_value(run_id, 0, seq, 0, 20), partition=0)
    if commit:
        p.commit_transaction()
p.flush()
print("open", flush=True)
time.sleep(600)
"""


def test_the_audit_waits_for_a_transaction_a_killed_producer_left_open(healthy, tmp_path):
    """Seqs 0-9 committed, 10-19 in a transaction left open by a SIGKILLed producer: the audit refuses to
    read past the last stable offset while the transaction is open, then waits for the coordinator to abort
    it (transaction_timeout 8 s: the first read comes well before, even on a loaded machine) and reads only the
    committed records."""
    topic, run_id = f"dangling-{int(time.time())}", history.new_run_id()
    with metadata.admin(healthy.bootstrap) as client:
        metadata.create_topic(client, topic, 1, 3, {})
        metadata.wait_topic_ready(client, topic)
    proc = subprocess.Popen([sys.executable, "-c", DANGLING, healthy.bootstrap, topic, run_id], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout.readline().strip() == "open", proc.stdout.read()
    finally:
        proc.kill()
        proc.wait()
    writer = history.HistoryWriter(tmp_path / "audit-0.bin")
    try:
        with pytest.raises(ClusterError, match=r"open transaction still holds back the log \(partition 0: last "
                                               r"stable offset (\d+), high watermark (\d+)\)") as refused:
            consumer.read_log(healthy.bootstrap, topic, writer, 0.5, run_id)
        lso, hw = map(int, re.search(r"offset (\d+), high watermark (\d+)", str(refused.value)).groups())
        assert lso < hw, refused.value
        audit = consumer.read_log(healthy.bootstrap, topic, writer, 120, run_id)
    finally:
        writer.close()
    assert audit["lso_wait_s"] > 0 and audit["records"] == 10, audit
    assert audit["ends"]["0"] > hw, audit   # past the abort marker
    log = history.read_file(tmp_path / "audit-0.bin")
    assert sorted(log["seq"].tolist()) == list(range(10))
