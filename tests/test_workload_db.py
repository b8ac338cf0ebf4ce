"""The database-side workers without a broker: the outbox application step on SQLite writes every record's
business and outbox rows in one transaction and records SEND before, ACK (outbox id) after, ERROR when the
database refused; the shared drain helper reads the runner's deadline and stops on time."""

import json
import time

from kafka_chaos import history, store
from kafka_chaos.workload import DRAIN_FLAG, SETTINGS
from kafka_chaos.workload import outbox as outbox_worker
from kafka_chaos.workload.drain import Drain


def run_outbox(run_dir, dsn, count=25, batch=10, **extra):
    prefix = store.table_prefix("ab12")
    settings = {"run_id": "ab12", "deadline": time.time() + 30,
                "outbox": {"dsn": dsn, "prefix": prefix, "count": count, "rate": 0, "batch": batch,
                           "payload_size": 32, **extra}}
    (run_dir / SETTINGS).write_text(json.dumps(settings))
    outbox_worker.Outbox(run_dir, 1).run()
    return prefix, history.read_file(run_dir / "history" / "outbox-1.bin")


def test_the_outbox_step_records_send_then_ack_with_the_outbox_id(tmp_path):
    dsn = str(tmp_path / "app.db")
    prefix, ev = run_outbox(tmp_path, dsn, pid_base=100)
    assert set(ev["stream"]) == {history.OUTBOX} and set(ev["worker"]) == {1}
    sends, acks = ev[ev["kind"] == history.SEND], ev[ev["kind"] == history.ACK]
    assert list(sends["seq"]) == list(range(25)) == list(acks["seq"]) and set(acks["pid"]) == {101}
    db = store.open_store(dsn, prefix)
    rows = store.outbox_unsent(db, 100)
    assert [(i, pid, seq) for i, pid, seq, _ in rows] == [(int(a["offset"]), 101, int(a["seq"])) for a in acks]
    assert store._query(db, f"SELECT COUNT(*) FROM {prefix}business")[0][0] == 25
    first_ack = list(ev["kind"]).index(history.ACK)
    assert list(ev["kind"][:first_ack]) == [history.SEND] * 10   # the first batch: all SENDs, then its ACKs


def test_a_refused_transaction_is_recorded_as_errors_and_its_seqs_are_not_written_again(tmp_path, monkeypatch):
    monkeypatch.setattr(outbox_worker, "RETRY_PAUSE", 0.0)
    (tmp_path / "not-a-db").mkdir()   # a directory: SQLite cannot open it
    _, ev = run_outbox(tmp_path, str(tmp_path / "not-a-db"), count=20, batch=10)
    assert list(ev["kind"]) == [history.SEND] * 10 + [history.ERROR] * 10 + [history.SEND] * 10 + [history.ERROR] * 10
    assert list(ev["seq"][ev["kind"] == history.ERROR]) == list(range(20))
    status = json.loads((tmp_path / "status" / "outbox-1.json").read_text())
    assert status["errors"] == 20 and status["acked"] == 0


def test_drain_reads_the_runners_deadline_and_says_which_deadline_ended_the_work(tmp_path):
    counters = {}
    drain = Drain(tmp_path, {"idle": 1.0, "hard_deadline": time.time() + 60}, counters)
    assert drain.deadline() is None and not drain.out_of_time()
    (tmp_path / DRAIN_FLAG).write_text(str(time.time() - 1))
    drain._next_look = 0.0   # looked for at most twice a second: look now
    assert drain.out_of_time() and counters == {"drain_timed_out": 1}
    late = Drain(tmp_path / "elsewhere", {"idle": 1.0, "hard_deadline": time.time() - 1}, counters := {})
    assert late.out_of_time() and counters == {"hard_deadline": 1}
