"""Run directories that must never give PASSED nor a traceback: nothing promised, counts nothing measures, hostile
history files (a directory or a misnamed file in history/, a time that is not a number, more producer ids than
a key holds, a history that changes between the loader's passes)."""

import json
import os

import numpy as np
import pytest

from kafka_chaos import columns, history
from kafka_chaos.errors import UsageError
from kafka_chaos.history import ACK, LOG, POLL, PROCESS, SEND, TXN, TXN_COMMITTED, events
from kafka_chaos.verify import verify_run_dir


def clean(n=10, pid=1):
    """producer, consumer and audit events of `n` records delivered once, in order, at offsets 0..n-1."""
    s = np.arange(n)
    return {"producer-1.bin": np.concatenate([events(SEND, pid, s, 100.0), events(ACK, pid, s, 100.1, 0, s)]),
            "consumer-1.bin": np.concatenate([events(POLL, pid, s, 101.0, 0, s), events(PROCESS, pid, s, 101.1, 0, s)]),
            "audit-1.bin": events(LOG, pid, s, 160.0, 0, s)}


def run_dir(tmp_path, files, expect=None, **scenario):
    (tmp_path / "history").mkdir()
    for name, ev in files.items():
        ev.tofile(tmp_path / "history" / name)
    (tmp_path / "scenario.json").write_text(json.dumps({"name": "t", "expect": expect or {"lost": 0}, **scenario}))
    (tmp_path / "meta.json").write_text(json.dumps({"t0": 100.0}))
    (tmp_path / "audit.json").write_text(json.dumps({"complete": True}))
    return tmp_path


def test_a_clean_run_passes(tmp_path):
    assert verify_run_dir(run_dir(tmp_path, clean())).passed


@pytest.mark.parametrize("keep", [("producer-1.bin",), ("producer-1.bin", "consumer-1.bin", "audit-1.bin")])
def test_nothing_acknowledged_is_nothing_checked_never_passed(tmp_path, keep):
    files = {name: ev[ev["kind"] == SEND] if name.startswith("producer") else ev[:0]
             for name, ev in clean().items() if name in keep}
    v = verify_run_dir(run_dir(tmp_path, files))
    assert not v.passed and not v.complete
    assert any("none was seen in the log or by the consumer: nothing was checked" in why for why in v.incomplete)


def test_acks_0_promises_nothing_and_what_it_wrote_is_still_checked(tmp_path):
    """No ACK event (acks=0 gets no offset back), every record consumed once and in the audited log: the
    duplicates, phantoms and reordering were checked, so the verdict is complete."""
    files = clean()
    files["producer-1.bin"] = files["producer-1.bin"][files["producer-1.bin"]["kind"] == SEND]
    v = verify_run_dir(run_dir(tmp_path, files, expect={"lost": 0, "duplicates": 0, "phantoms": 0}))
    assert v.passed and v.complete and v.counts["acked"] == 0 and v.counts["unacked_present"] == 10


def test_an_effects_count_without_a_copier_or_sink_is_refused_not_passed(tmp_path):
    with pytest.raises(UsageError, match="lost_effects is measured only with a copier or a sink"):
        verify_run_dir(run_dir(tmp_path, clean(), expect={"lost": 0, "lost_effects": 0}))
    (tmp_path / "scenario.json").write_text(json.dumps({"name": "t", "expect": {"lost_effects": None}}))
    assert verify_run_dir(tmp_path).passed   # `any` asks nothing of it


@pytest.mark.parametrize("name", ["aborted_reads", "torn_transactions", "dangling_transactions", "aborted"])
def test_a_transaction_count_without_a_transactional_producer_is_refused_not_passed(tmp_path, name):
    with pytest.raises(UsageError, match=f"{name} is measured only with a transactional producer"):
        verify_run_dir(run_dir(tmp_path, clean(), expect={"lost": 0, name: 0},
                               producer={"semantic": "idempotent"}))


def test_a_transaction_count_behind_a_transactional_producer_is_checked(tmp_path):
    files = clean()   # one committed transaction of the ten records
    files["producer-1.bin"] = np.concatenate([files["producer-1.bin"],
                                              events(TXN, 1, [0], 100.2, -1, [9], flags=TXN_COMMITTED)])
    v = verify_run_dir(run_dir(tmp_path, files, expect={"lost": 0, "aborted_reads": 0, "torn_transactions": 0},
                               producer={"semantic": "transactional"}))
    assert v.passed and v.complete and v.counts["acked"] == 10


def test_a_directory_named_like_a_history_file_is_refused_in_one_line(tmp_path):
    d = run_dir(tmp_path, clean())
    (d / "history" / "audit-2.bin").mkdir()
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        with pytest.raises(UsageError, match="audit-2.bin: history file is not a regular file"):
            verify_run_dir(d)
    assert len(os.listdir("/proc/self/fd")) == before   # no descriptor left open


@pytest.mark.parametrize("name", ["audit-1.bin\n", "consumer-\u0661.bin", "consumer-01.bin", "consumer-1.bin.bak"])
def test_only_exact_history_file_names_are_read(tmp_path, name):
    d = run_dir(tmp_path, clean())
    clean()["audit-1.bin"].tofile(d / "history" / name)
    with pytest.raises(UsageError, match="not a history file name"):
        verify_run_dir(d)
    with pytest.raises(UsageError, match="not a history file name"):
        history.read_dir(d / "history")


@pytest.mark.parametrize("t", [float("nan"), float("inf"), float("-inf")])
def test_a_time_that_is_not_a_number_is_a_corrupt_event(tmp_path, t):
    files = clean()
    files["consumer-1.bin"]["t"][3] = t
    d = run_dir(tmp_path, files)
    with pytest.raises(UsageError, match="consumer-1.bin: event 3 .* is not a kchaos event"):
        verify_run_dir(d)
    with pytest.raises(UsageError, match="event 3"):
        history.read_file(d / "history" / "consumer-1.bin")


def test_more_producer_ids_than_a_key_holds_are_refused_not_dropped(tmp_path, monkeypatch):
    """Codes past MAX_PIDS would overflow the int64 key into 'no key' and drop those records from every
    check (a record lost from the log was PASSED); the loader refuses such a history instead."""
    monkeypatch.setattr(columns, "MAX_PIDS", 4)
    big = columns.SMALL_PIDS
    files = clean(pid=big)
    files["producer-2.bin"] = events(SEND, np.arange(big + 1, big + 5), [0, 0, 0, 0], 100.0)
    with pytest.raises(UsageError, match="distinct producer ids; at most 4"):
        verify_run_dir(run_dir(tmp_path, files))


def test_a_history_that_changes_between_the_loaders_passes_is_refused(tmp_path):
    """A large pid makes the loader read the files again after building its pid table: a pid that appears
    in between must not take a neighbour's code (or index past the table)."""
    big = columns.SMALL_PIDS + 5
    first = clean(pid=big)["producer-1.bin"]
    later = np.concatenate([first, events(SEND, [7, big + 9], [0, 0], 100.0)])
    reads = []

    def chunks():
        reads.append(1)
        yield "producer-1.bin", 0, first if len(reads) < 3 else later
    with pytest.raises(UsageError, match="the history changed while it was read"):
        columns.load(chunks, audited=True)
    assert len(reads) == 3
