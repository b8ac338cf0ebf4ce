"""The exactly-once change under review: each test pins a wrong verdict or hostile input found by a review.

Each failed before its fix; its comment says what went wrong and where. No test talks to a cluster
or a database server (psycopg only parses a DSN; SQLite files live in tmp_path).
"""

import io
import json
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from typer.testing import CliRunner

from kafka_chaos import history, runner, scenario, semantics, store
from kafka_chaos.cli import app
from kafka_chaos.errors import UsageError
from kafka_chaos.history import ACK, LOG, OUTBOX, PROCESS, SEND, TXN_COMMITTED, events
from kafka_chaos.verify import verify_run_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_verify import OUT, clean, committed_and_aborted, copies, run, txn, txn_run  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SINK = {"stream": history.EFFECTS, "complete": True, "store": "sink's table"}


# ---- 1. verify: an outbox run whose outbox audit is missing PASSES with no effect checked at all ----------

def test_outbox_effects_without_any_outbox_row_are_not_passed():
    # verify.py:326 `promised = self._promised if promise is None else <outbox rows>`: the outbox rows
    # REPLACE the acked topic records. With no OUTBOX LOG rows (audit.json without "outbox", or a history
    # that lost audit rows) nothing is promised: 5 acked records, zero effects, lost_effects 0, PASSED.
    v = run(clean(5), effects={**SINK, "promise": history.OUTBOX}, expect={"lost_effects": 0})
    assert not v.passed, "5 acknowledged records have no effect, yet the verdict is PASSED"


def _run_dir(tmp_path, scen, audit, extra=()):
    w = history.HistoryWriter(tmp_path / "history" / "producer-0.bin")
    w.append_many(events(SEND, 1, np.arange(5), 100.0))
    w.append_many(events(ACK, 1, np.arange(5), 100.1, 0, np.arange(5)))
    w.close()
    c = history.HistoryWriter(tmp_path / "history" / "consumer-0.bin")
    c.append_many(events(PROCESS, 1, np.arange(5), 101.0, 0, np.arange(5)))
    c.close()
    a = history.HistoryWriter(tmp_path / "history" / "audit-0.bin")
    a.append_many(events(LOG, 1, np.arange(5), 160.0, 0, np.arange(5)))
    for e in extra:
        a.append_many(e)
    a.close()
    (tmp_path / "scenario.json").write_text(json.dumps(scen))
    (tmp_path / "meta.json").write_text(json.dumps({"t0": 100.0}))
    (tmp_path / "audit.json").write_text(json.dumps(audit))
    return tmp_path


EXPECT = {"lost": 0, "lost_effects": 0, "duplicate_effects": 0}


@pytest.mark.parametrize("outbox_audit", [None, {"complete": False}], ids=["absent", "incomplete"])
def test_verify_run_dir_outbox_run_needs_a_complete_outbox_audit(tmp_path, outbox_audit):
    # verify.py:100-101 sets effects["promise"] for semantic outbox without looking at audit["outbox"]:
    # absent or complete=false, the (empty) outbox stream is the whole promise and the run PASSES with
    # 5 acked records and no effect at all.
    audit = {"complete": True, "effects": {"complete": True}}
    if outbox_audit is not None:
        audit["outbox"] = outbox_audit
    d = _run_dir(tmp_path, {"expect": EXPECT, "producer": {"semantic": "outbox"}, "sink": {}}, audit)
    v = verify_run_dir(d)
    assert not v.passed


# ---- 2. verify_run_dir: a copier/sink section of the wrong type silently disables the effects check ------

@pytest.mark.parametrize("section, value", [("copier", "yes"), ("copier", [1]), ("copier", True),
                                            ("sink", []), ("sink", 1)])
def test_verify_run_dir_effects_section_of_wrong_type_is_refused_or_not_passed(tmp_path, section, value):
    # verify.py:95 `if isinstance(scenario.get(section), dict)`: anything else means "no effects store", so
    # lost_effects/duplicate_effects (bounded 0 in expect) are never measured and the verdict is PASSED.
    part = "output" if section == "copier" else "effects"
    d = _run_dir(tmp_path, {"expect": EXPECT, section: value}, {"complete": True, part: {"complete": True}})
    try:
        v = verify_run_dir(d)
    except UsageError:
        return
    assert not v.passed, f"{section}: {value!r} turned the effects check off and the run PASSED"


def test_kchaos_verify_with_unhashable_copier_fields_is_a_clean_error_not_an_internal_one(tmp_path):
    # report/__init__.py:92 COPIER_CLAIMS.get((on_abort, offsets)) and :96 SINK_CLAIMS.get(offsets) hash
    # values straight from scenario.json: a list there is "internal error: TypeError: unhashable type" and
    # no verdict is printed.
    d = _run_dir(tmp_path, {"expect": EXPECT, "copier": {"on_abort": ["seek"], "offsets": "transaction"}},
                 {"complete": True, "output": {"complete": True}},
                 extra=[copies(1, np.arange(5), np.arange(5))])
    result = CliRunner().invoke(app, ["verify", str(d)])
    assert "internal error" not in result.output, result.output


# ---- 3. verify: effects of records never promised (aborted, never sent) pass unnoticed ------------------

def test_copies_of_aborted_records_are_not_passed():
    # verify.py _Reconciler.effects: only promised-without-effect (lost) and effects past the first
    # (duplicate) are counted; an effect of an ABORTED record (a copier or sink that read uncommitted data,
    # the very thing exactly-once forbids) is counted in `effects` and nowhere else: PASSED.
    expect = {**semantics.documented_expect("transactional", "read-committed"),
              **scenario.copier_expect(scenario.CopierSpec(100, 0.1, 10.0, "seek", "transaction"))}
    v = txn_run(*committed_and_aborted(), copies(1, np.arange(10), np.arange(10)), effects=OUT, expect=expect)
    assert v.counts["aborted"] == 5 and v.counts["effects"] == 10
    assert not v.passed, "5 effects of aborted records, verdict PASSED"


def test_sink_reads_read_committed_even_when_the_consumer_mode_is_read_uncommitted(tmp_path, monkeypatch):
    # workload/sink.py:74-75: {"isolation_level": "read_committed", **s["consumer_config"], ...}: the
    # consumer's config carries the consumer MODE's isolation_level (semantics.consumer_settings), so with
    # consumer.mode read-uncommitted the sink applies aborted records too, and (test above) nothing counts it.
    from kafka_chaos.workload import sink as sink_mod

    s = scenario.loads((ROOT / "scenarios" / "sink-sqlite-crash.yaml").read_text()
                       .replace("semantic: idempotent", "semantic: transactional")
                       .replace("mode: commit-after-process", "mode: read-uncommitted"),
                       str(ROOT / "scenarios" / "x.yaml"))
    settings = {"topic": "t", "run_id": "r", "bootstrap": "h:1", "group": "g", "consumer_config": s.consumer.config,
                "idle": 1.0, "hard_deadline": 0, "sink": {"dsn": str(tmp_path / "db"), "prefix": "kchaos_x_",
                                                          "offsets": "database"}}
    (tmp_path / "workers.json").write_text(json.dumps(settings))
    seen = {}

    class Stop(Exception):
        pass

    def fake_bootstrapped(bootstrap, factory, timeout_ms):
        seen.update(factory.keywords)
        raise Stop

    monkeypatch.setattr(sink_mod, "bootstrapped", fake_bootstrapped)
    with pytest.raises(Stop):
        sink_mod.Sink(tmp_path, 0).run()
    assert seen["isolation_level"] == "read_committed"


# ---- 4. verify: effects judged per record identity, not per record in the input log -------------------

def _expect(producer: str, copier=True) -> dict:
    text = (f"duration: 10s\ncluster: {{compose: compose/kraft-3.yml}}\nproducer: {{semantic: {producer}, rate: 10}}\n"
            "consumer: {mode: commit-after-process}\n" + ("copier: {}\n" if copier else "sink: {}\n"))
    return scenario.loads(text, str(ROOT / "s.yaml")).expect


def test_a_log_duplicate_copied_once_per_copy_is_not_a_duplicate_effect():
    # at-least-once: seq 1 is in the input log twice (offsets 1 and 3, allowed: log_duplicates any). An
    # exactly-once copier copies each input record once: 4 copies. verify.py:341 counts every effect past the
    # first per (pid, seq), so duplicate_effects = 1 and the default expectation (copier_expect: 0) FAILS the
    # copier for the producer's documented duplicate.
    v = run(clean(3), events(LOG, 1, 1, 160.0, 0, 3), events(POLL_, 1, 1, 101.0, 0, 3),
            events(PROCESS, 1, 1, 101.1, 0, 3), copies(1, [0, 1, 2, 1], [0, 1, 2, 3]), effects=OUT,
            expect=_expect("at-least-once"))
    assert v.counts["log_duplicates"] == 1
    assert v.violations == [], v.violations


POLL_ = history.POLL


def test_a_record_the_broker_lost_is_not_also_blamed_on_the_sink():
    # no-guarantee (acks=1): the broker lost acked seq 2 (lost allowed: documented). The sink applied all
    # that the log holds. verify.py:326 promises every acked record downstream, so lost_effects = 1 and the
    # default sink expectation (sink_expect: lost_effects 0) FAILS the sink for the broker's documented loss.
    parts = clean(3)
    parts[4] = events(LOG, 1, [0, 1], 160.0, 0, [0, 1])
    v = run(parts, copies(1, [0, 1], [0, 1], stream=history.EFFECTS), effects=SINK, expect=_expect("no-guarantee", copier=False))
    assert v.counts["lost_from_log"] == 1
    assert v.violations == [], v.violations


# ---- 5. runner: effects judged "complete" although the copier / relay did not catch up -----------------

class FakeWorkers:
    def alive(self, role):
        return True

    def wait(self, role, timeout):
        return True

    def check(self, role, expected_dead=False):
        pass

    def start(self, role, count=None):
        return f"{role}-1"

    def current(self, role):
        return None


class FakeEngine:
    heals = []

    def heal_all(self):
        pass


def _finish(tmp_path, monkeypatch, s, statuses):
    @contextmanager
    def admin(bootstrap):
        yield None

    monkeypatch.setattr(runner.metadata, "wait_ready", lambda *a, **k: None)
    monkeypatch.setattr(runner.metadata, "admin", admin)
    monkeypatch.setattr(runner.metadata, "wait_topic_ready", lambda *a, **k: None)
    monkeypatch.setattr(runner.consumer, "record_committed", lambda *a, **k: None)
    monkeypatch.setattr(runner.consumer, "read_log", lambda *a, **k: {"records": 0, "ends": {}, "lso_wait_s": 0.0})
    (tmp_path / "status").mkdir()
    for name, counters in statuses.items():
        (tmp_path / "status" / f"{name}.json").write_text(json.dumps(counters))
    brokers = type("B", (), {"bootstrap": "h:1"})()
    runner._finish(Console(file=io.StringIO()), s, FakeEngine(), FakeWorkers(), brokers, tmp_path, "t", "g", "0123abcd")
    return json.loads((tmp_path / "audit.json").read_text())


def test_runner_copier_that_stopped_without_catching_up_leaves_the_output_unjudged(tmp_path, monkeypatch):
    # runner.py _finish: effects_done = True whenever the copier exited without drain_timed_out/hard_deadline.
    # The copier also exits (status 0) when a transaction outcome is unknown ("the copier stops",
    # copier.py:96-98) before it caught up: its counters then lack "caught_up", the output is judged
    # complete anyway, and every input it never reached is a (false) lost effect.
    s = scenario.load(ROOT / "scenarios" / "transform-copier-crash.yaml")
    audit = _finish(tmp_path, monkeypatch, s, {"consumer-0": {"processed": 10},
                                               "copier-0": {"polled": 10, "txn_unknown": 1}})
    assert audit["output"]["complete"] is False


def test_runner_relay_that_timed_out_does_not_make_unsent_rows_lost_effects(tmp_path, monkeypatch):
    # runner.py _finish: the relay is stopped after drain_timeout + 15 s, its drain_timed_out is never looked
    # at, no warning is written and audit.json says {"outbox": {"complete": True}}: rows it never published
    # are then lost effects (FAILED) although, like the consumer's unread records, they were never judged.
    s = scenario.load(ROOT / "scenarios" / "outbox-relay-crash.yaml")
    audit = _finish(tmp_path, monkeypatch, s, {"consumer-0": {}, "sink-0": {}, "relay-0": {"drain_timed_out": 1}})
    warned = (tmp_path / "warnings.txt").exists() and "relay" in (tmp_path / "warnings.txt").read_text()
    assert audit["outbox"]["complete"] is False or warned


# ---- 6. scenario: effects counts expected where no effects store runs ---------------------------------

def test_expecting_effects_counts_without_a_copier_or_sink_is_refused():
    # scenario.py: expect: {lost_effects: 0} is accepted without copier/sink; verify never measures it
    # (effects=None) and reports lost_effects 0 and PASSED: a bound on data nobody checked.
    text = ("duration: 10s\ncluster: {compose: compose/kraft-3.yml}\nproducer: {semantic: idempotent, rate: 10}\n"
            "consumer: {mode: commit-after-process}\nexpect: {lost_effects: 0, duplicate_effects: 0}\n")
    with pytest.raises(scenario.ScenarioError):
        scenario.loads(text, str(ROOT / "s.yaml"))


# ---- 7. store: DSN masking and error messages leak PostgreSQL passwords ----------------------------------

@pytest.mark.parametrize("dsn", ["postgresql://kchaos:se?cret@127.0.0.1:5432/kchaos",
                                 "postgresql://kchaos:se#cret@127.0.0.1:5432/kchaos"])
def test_safe_dsn_masks_passwords_libpq_accepts(dsn):
    # store.py safe_dsn uses urlsplit, which ends the netloc at '?' or '#'; libpq reads user:password up to
    # the '@' (psycopg.conninfo.conninfo_to_dict(dsn)["password"] == "se?cret"), so the password is shown
    # (whole after '?', its head before '#').
    assert "se" not in safe_part(store.safe_dsn(dsn))


def safe_part(text):
    return text.replace("postgresql://kchaos", "").replace("127.0.0.1", "").replace("5432/kchaos", "")


def test_open_store_error_does_not_echo_the_password():
    # store.py open_store: f"cannot connect to {safe_dsn(dsn)}: {_first_line(exc)}": libpq's parse errors
    # quote the whole URI ("... in IPv6 host address in URI: \"postgresql://u:s3cret@[::1/db\"").
    # Today it is worse: safe_dsn itself raises ValueError("Invalid IPv6 URL") from urlsplit inside the
    # `except psycopg.Error` block, so a raw ValueError escapes (internal error / worker traceback) with the
    # psycopg error, URI and password included, chained as "During handling of the above exception".
    pytest.importorskip("psycopg")
    with pytest.raises(Exception) as e:
        store.open_store("postgresql://u:s3cret@[::1/db", "kchaos_x_")
    assert isinstance(e.value, store.StoreError), f"{type(e.value).__name__}: {e.value}"
    chain = [str(e.value), str(e.value.__context__ or ""), str(e.value.__cause__ or "")]
    assert not any("s3cret" in text for text in chain) or e.value.__suppress_context__


@pytest.mark.parametrize("dsn", ["postgresql://u:s3cret@[::1/db"])
def test_safe_dsn_never_raises(dsn):
    # store.py safe_dsn: urlsplit raises ValueError on a malformed bracketed host (and .port is not even
    # read); safe_dsn runs inside error handlers, where a raise replaces the error being reported.
    assert "s3cret" not in store.safe_dsn(dsn)


def test_check_prefix_refuses_a_trailing_newline():
    # store.py _PREFIX_RE uses `$`, which matches before a final "\n": the prefix is spliced into SQL.
    with pytest.raises(UsageError):
        store.check_prefix("kchaos_abc\n")


# ---- 8. evidence: a dangling transaction with no ack says readers were blocked 0.0 s ----------------

def test_dangling_transaction_without_acks_does_not_claim_readers_waited_zero_seconds():
    # verify.py _Transactions.dangling: no acked record in the open range -> waits == [] ->
    # max([], default=0.0) -> "blocked 0.0 s": a measurement nobody made (the records may be in the log,
    # their acks lost with the SIGKILL). It should say unknown (blocked_s None).
    seqs = np.arange(6)
    v = txn_run(events(SEND, 1, seqs, 100.0), txn(1, 0, 2, TXN_COMMITTED), events(ACK, 1, seqs[:3], 100.1, 0, seqs[:3]),
                events(PROCESS, 1, seqs[:3], 101.0, 0, seqs[:3]), events(LOG, 1, seqs[:3], 160.0, 0, seqs[:3]))
    [d] = [a for a in v.anomalies if a["type"] == "dangling_transaction"]
    assert d["blocked_s"] is None and "0.0 s" not in d["detail"]


def test_lost_effect_evidence_of_an_unrelayed_outbox_row_has_a_real_time():
    # verify.py effects(): evidence time comes from the topic's send/ack times; an outbox row never relayed
    # has neither, so t = 0 - t0 (here -100.0 s) and each row is its own evidence item.
    prom = events(LOG, 7, np.arange(3), 150.0, -1, np.arange(3), stream=OUTBOX)
    v = run(clean(5), prom, copies(1, np.arange(5), np.arange(5), stream=history.EFFECTS),
            effects={**SINK, "promise": OUTBOX})
    lost = [a for a in v.anomalies if a["type"] == "lost_effect"]
    assert v.counts["lost_effects"] == 3
    assert all(a["t"] >= 0 for a in lost) and len(lost) == 1


def test_a_copier_whose_init_transactions_hangs_tries_again_with_a_new_client(monkeypatch):
    """ci23: restarted amid broker faults, the copier's init_transactions waited out kafka-python's 60 s and the
    run ended without a verdict. A client whose init does not finish within INIT_TRY is closed and a new one
    tries; after INIT_TRIES the copier gives up with the last reason."""
    import threading

    from kafka_chaos.workload import copier

    monkeypatch.setattr(copier, "INIT_TRY", 0.2)

    class Client:
        made: list = []

        def __init__(self, hangs):
            self.hangs, self.closed = hangs, False
            Client.made.append(self)

        def init_transactions(self):
            if self.hangs:
                threading.Event().wait(5)

        def close(self, timeout=None):
            self.closed = True

    class Drain:
        def out_of_time(self):
            return False

    worker = object.__new__(copier.Copier)
    worker.instance, worker.stopping = 1, False
    hangs = iter([True, False])
    producer, why = worker.initialized(lambda: Client(next(hangs)), Drain())
    assert why is None and producer is Client.made[1] and Client.made[0].closed and not producer.closed
    Client.made.clear()
    producer, why = worker.initialized(lambda: Client(True), Drain())
    assert producer is None and "init_transactions did not return within 0 s" in why
    assert len(Client.made) == copier.INIT_TRIES and all(c.closed for c in Client.made)
