"""The exactly-once family under broker faults: the audit waiting for a transaction a killed producer left open.
Transactions read read_committed and copied by a copier while the leader is killed are asserted in
test_6_beside.py (that scenario runs on the second cluster in the background); the scenarios that fault only
their own clients are in test_7_side_by_side.py.
"""

import re
import subprocess
import sys
import time

import pytest

from kafka_chaos import history
from kafka_chaos.cluster import metadata
from kafka_chaos.errors import ClusterError
from kafka_chaos.workload import consumer

from .conftest import ROOT


DANGLING = """
import sys, time
from kafka import KafkaProducer
from kafka_chaos.history import encode_value
bootstrap, topic, run_id = sys.argv[1:4]
p = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=topic, enable_idempotence=True, acks="all",
                  transaction_timeout_ms=3000)
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
    it (transaction_timeout 3 s) and reads only the committed records."""
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
