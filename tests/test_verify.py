"""The verifier on histories written literally: each anomaly class, evidence ranges, expectations, run dirs."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kafka_chaos import history
from kafka_chaos.errors import UsageError
from kafka_chaos.history import (ACK, COMMIT, ERROR, FOREIGN_PID, LOG, POLL, PROCESS, SEND, TXN, TXN_ABORTED,
                                 TXN_COMMITTED, TXN_UNKNOWN, UNKNOWN_PID, events)
from kafka_chaos.verify import COUNT_NAMES, EVIDENCE_TYPES, Verdict, check_expect, verify, verify_run_dir

ANOMALIES = ("lost", "lost_in_log", "lost_from_log", "unread", "unaudited", "duplicates", "log_duplicates",
             "reprocessed", "reordered", "inconsistent_offsets", "phantoms", "foreign")


def clean(n, pid=1, partition=0, t0=100.0):
    """n records of one producer sent, acked, polled, processed and found by the audit, in order."""
    seqs = np.arange(n)
    t = t0 + seqs * 0.01
    return [events(SEND, pid, seqs, t), events(ACK, pid, seqs, t + 0.005, partition, seqs),
            events(POLL, pid, seqs, t + 1, partition, seqs), events(PROCESS, pid, seqs, t + 1.1, partition, seqs),
            events(LOG, pid, seqs, t + 60, partition, seqs)]


def run(*parts, timeline=(), expect=None, t0=100.0, audited=True, **kw) -> Verdict:   # kw: transactional, …
    ev = np.concatenate([p for group in parts for p in (group if isinstance(group, list) else [group])])
    return verify({"producer": ev}, list(timeline), expect or {}, t0=t0, audited=audited, **kw)


def nonzero(verdict):
    return {k: v for k, v in verdict.counts.items() if v and k in ANOMALIES}


def test_clean_history_reports_no_anomaly_and_passes():
    v = run(clean(50), expect={name: 0 for name in ANOMALIES})
    assert set(v.counts) == set(COUNT_NAMES)
    assert nonzero(v) == {}
    assert v.counts["sent"] == v.counts["acked"] == v.counts["consumed"] == 50
    assert v.anomalies == [] and v.violations == [] and v.passed


def test_empty_history_is_all_zero_and_incomplete_never_passed():
    v = verify({}, [], {"lost": 0}, audited=True)
    assert all(v.counts[k] == 0 for k in COUNT_NAMES)
    assert not v.passed and not v.complete and v.violations == []
    assert v.incomplete == ["no producer history: no record was sent, so nothing was checked"]


def test_lost_in_log_when_polled_but_never_processed():
    # consumer committed before processing and crashed: the record is in the log, the application never saw it
    v = run(events(SEND, 1, 0, 100.0), events(ACK, 1, 0, 100.1, 0, 5), events(POLL, 1, 0, 101.0, 0, 5),
            events(COMMIT, 0, -1, 101.0, 0, 6), events(LOG, 1, 0, 160.0, 0, 5), expect={"lost": 0})
    assert nonzero(v) == {"lost": 1, "lost_in_log": 1}
    [a] = v.anomalies
    assert a == {"type": "lost", "where": "in_log", "pid": 1, "seq_first": 0, "seq_last": 0, "records": 1,
                 "partition": 0, "offsets": [5, 5], "t": 0.0, "near_fault": None}
    assert v.violations == [{"count": "lost", "value": 1, "bound": 0}] and not v.passed


def test_lost_from_log_when_the_broker_dropped_it():
    v = run(events(SEND, 1, [0, 1], 100.0), events(ACK, 1, [0, 1], 100.1, 0, [0, 1]),
            events(PROCESS, 1, 0, 101.0, 0, 0), events(LOG, 1, 0, 160.0, 0, 0))
    assert nonzero(v) == {"lost": 1, "lost_from_log": 1}
    [a] = v.anomalies
    assert (a["where"], a["seq_first"], a["offsets"]) == ("from_log", 1, [1, 1])   # where it was acknowledged


def test_unacked_records_are_counted_but_never_lost():
    v = run(events(SEND, 1, [0, 1, 2], 100.0), events(ERROR, 1, [0, 1], 100.5, flags=1),
            events(LOG, 1, 0, 160.0, 0, 0), events(PROCESS, 1, 0, 101.0, 0, 0))
    assert nonzero(v) == {}
    assert (v.counts["unacked_present"], v.counts["unacked_missing"], v.counts["errors"]) == (1, 2, 2)
    assert v.anomalies == []


def test_an_error_followed_by_an_ack_is_not_an_error():
    v = run(clean(2), events(ERROR, 1, 0, 100.002, flags=2))
    assert v.counts["errors"] == 0 and nonzero(v) == {}


def test_log_duplicate_at_two_offsets():
    # a retried send without idempotence: the record is in the log twice
    v = run(clean(3), events(LOG, 1, 1, 160.0, 0, 3), events(POLL, 1, 1, 101.0, 0, 3),
            events(PROCESS, 1, 1, 101.1, 0, 3))
    assert nonzero(v) == {"duplicates": 1, "log_duplicates": 1}
    [a] = v.anomalies
    assert (a["type"], a["seq_first"], a["offsets"], a["copy_offsets"]) == ("log_duplicate", 1, [1, 1], [3, 3])


def test_reprocessed_same_offset_twice():
    v = run(clean(4), events(PROCESS, 1, [2, 3], [105.0, 105.1], 0, [2, 3]))
    assert nonzero(v) == {"duplicates": 2, "reprocessed": 2}
    assert v.counts["consumed"] == 4
    [a] = v.anomalies
    assert (a["type"], a["seq_first"], a["seq_last"], a["records"], a["offsets"]) == ("reprocessed", 2, 3, 2, [2, 3])
    assert a["t"] == pytest.approx(5.0)   # the first re-processing, not the original one


def test_the_fault_near_an_anomaly_says_what_happened_at_the_anomalys_time():
    """A re-delivery's time is its second processing, not a send: the text must not call it a send."""
    v = run(clean(4), events(PROCESS, 1, [2, 3], [106.0, 106.1], 0, [2, 3]), timeline=TIMELINE[:1])
    [a] = v.anomalies
    assert a["near_fault"] == "pause broker(1) -> broker 1 at +5.0s (record processed again 1.0s after it)"
    lost = run(events(SEND, 1, [0], 104.0), events(ACK, 1, [0], 104.1, 0, [0]), timeline=TIMELINE[:1])
    assert lost.anomalies[0]["near_fault"] == "pause broker(1) -> broker 1 at +5.0s (record sent 1.0s before it)"


def test_reordered_lower_seq_at_higher_offset():
    seqs, offsets = [0, 1, 2, 3, 4], [0, 1, 3, 2, 4]   # seq 3 landed before seq 2
    v = run(events(SEND, 1, seqs, 100.0), events(ACK, 1, seqs, 100.1, 0, offsets),
            events(PROCESS, 1, seqs, 101.0, 0, offsets), events(LOG, 1, seqs, 160.0, 0, offsets))
    assert nonzero(v) == {"reordered": 1}
    [a] = v.anomalies
    assert (a["type"], a["seq_first"], a["offsets"]) == ("reordered", 3, [2, 2])   # one of two minimal choices


def test_reordering_is_per_producer_and_partition():
    # producers interleave in partition 0; pid 1 continues in partition 1 at lower offsets: no reordering
    pid, seq, part, off = [1, 2, 1, 2, 1, 2, 1, 1], [0, 0, 1, 1, 2, 2, 3, 4], [0, 0, 0, 0, 0, 0, 1, 1], \
        [0, 1, 2, 3, 4, 5, 0, 1]
    v = run(events(SEND, pid, seq, 100.0), events(ACK, pid, seq, 100.1, part, off),
            events(PROCESS, pid, seq, 101.0, part, off), events(LOG, pid, seq, 160.0, part, off))
    assert nonzero(v) == {}


def test_phantoms_never_sent_and_unparseable():
    v = run(clean(2), events(PROCESS, 9, 0, 102.0, 0, 2), events(LOG, 9, 0, 160.0, 0, 2),
            events(LOG, UNKNOWN_PID, -1, 160.0, 0, 3), events(PROCESS, UNKNOWN_PID, -1, 102.5, 0, 3))
    assert nonzero(v) == {"phantoms": 2}
    phantoms = sorted((a["pid"], a["seq_first"], a["offsets"][0], a["t"]) for a in v.anomalies)
    assert phantoms == [(9, 0, 2, 2.0), (UNKNOWN_PID, -1, 3, 2.5)]
    assert {a["type"] for a in v.anomalies} == {"phantom"}


def test_evidence_groups_contiguous_runs_and_caps_items_not_counts():
    seqs = np.arange(1000)
    lost = (seqs >= 100) & (seqs < 600) | (seqs == 700) | (seqs == 702)
    v = run(events(SEND, 1, seqs, 100.0 + seqs * 0.01), events(ACK, 1, seqs, 100.5, 0, seqs),
            events(PROCESS, 1, seqs[~lost], 101.0, 0, seqs[~lost]), events(LOG, 1, seqs[~lost], 160.0, 0, seqs[~lost]))
    assert v.counts["lost"] == 502
    assert [(a["seq_first"], a["seq_last"], a["records"]) for a in v.anomalies] == [(100, 599, 500), (700, 700, 1),
                                                                                     (702, 702, 1)]
    assert v.anomalies[0]["t"] == pytest.approx(1.0)
    capped = run(events(SEND, 1, seqs, 100.0 + seqs * 0.01), events(ACK, 1, seqs, 100.5, 0, seqs),
                 events(PROCESS, 1, seqs[~lost], 101.0, 0, seqs[~lost]), events(LOG, 1, seqs[~lost], 160.0, 0, seqs[~lost]),
                 max_evidence=2)
    assert capped.counts["lost"] == 502 and [a["seq_first"] for a in capped.anomalies] == [100, 700]


def test_runs_split_by_partition_and_by_where():
    v = run(events(SEND, 1, [0, 1, 2, 3], 100.0), events(ACK, 1, [0, 1, 2, 3], 100.1, [0, 0, 1, 1], [0, 1, 0, 1]),
            events(POLL, 1, [2], 101.0, 1, 0), events(COMMIT, 0, -1, 101.0, 1, 1), events(LOG, 1, [2], 160.0, 1, 0))
    assert sorted((a["partition"], a["where"], a["records"]) for a in v.anomalies) == [
        (0, "from_log", 2), (1, "from_log", 1), (1, "in_log", 1)]


TIMELINE = [
    {"event": "apply", "action": "pause", "target": "broker(1)", "resolved": "broker 1",
     "t_scheduled": 105.0, "t_applied": 105.0, "ok": True},
    {"event": "heal", "action": "pause", "target": "broker(1)", "t_applied": 111.9, "ok": True},
    {"event": "apply", "action": "kill", "target": "leader(chaos,0)", "resolved": "broker 2",
     "t_scheduled": 111.9, "t_applied": 112.3, "ok": True},
    {"event": "apply", "action": "kill", "target": "broker(3)", "t_applied": 112.6, "ok": False},
]


def test_near_fault_names_the_nearest_applied_fault():
    v = run(events(SEND, 1, [0, 1], [112.7, 104.0]), events(ACK, 1, [0, 1], 113.0, [0, 1], 0), timeline=TIMELINE)
    assert [(a["t"], a["near_fault"]) for a in v.anomalies] == [
        (4.0, "pause broker(1) -> broker 1 at +5.0s (record sent 1.0s before it)"),
        (12.7, "kill leader(chaos,0) -> broker 2 at +12.3s (record sent 0.4s after it)"),
    ]


def test_check_expect_bounds():
    counts = dict.fromkeys(COUNT_NAMES, 0) | {"lost": 3, "duplicates": 2}
    assert check_expect(counts, {"lost": 0, "duplicates": 2, "reordered": None}) == [
        {"count": "lost", "value": 3, "bound": 0}]
    assert check_expect(counts, {"lost": 5, "duplicates": None}) == []
    assert check_expect(counts, {"lost": None}) == []
    with pytest.raises(ValueError, match="unknown count 'lossed'"):
        check_expect(counts, {"lossed": 0})


def test_verdict_to_dict_is_json():
    v = run(clean(3), events(PROCESS, 1, 0, 105.0, 0, 0), timeline=TIMELINE, expect={"reprocessed": 0})
    d = json.loads(json.dumps(v.to_dict()))
    assert d["passed"] is False and d["counts"]["reprocessed"] == 1 and d["anomalies"][0]["type"] == "reprocessed"


def write_run(run_dir, expect, meta=True, audited=True):
    prod = history.HistoryWriter(run_dir / "history" / "producer-0.bin")
    cons = history.HistoryWriter(run_dir / "history" / "consumer-0.bin")
    audit = history.HistoryWriter(run_dir / "history" / "audit-0.bin")
    for seq in range(10):
        prod.append(SEND, 4, seq, 1000.0 + seq)
        prod.append(ACK, 4, seq, 1000.5 + seq, partition=0, offset=seq)
        if seq != 7:
            cons.append(POLL, 4, seq, 1002.0 + seq, partition=0, offset=seq)
            cons.append(PROCESS, 4, seq, 1002.1 + seq, partition=0, offset=seq)
            audit.append(LOG, 4, seq, 1100.0, partition=0, offset=seq)
    for w in (prod, cons, audit):
        w.close()
    (run_dir / "scenario.json").write_text(json.dumps({"name": "t", "expect": expect}))
    if meta:
        (run_dir / "meta.json").write_text(json.dumps({"t0": 1000.0}))
    if audited:
        (run_dir / "audit.json").write_text(json.dumps({"complete": True, "records": 9}))
    (run_dir / "timeline.jsonl").write_text(json.dumps(TIMELINE[0] | {"t_applied": 1006.0}) + "\n{\"event\": \"ap")


def test_verify_run_dir(tmp_path):
    write_run(tmp_path, {"lost": 0, "duplicates": None})
    v = verify_run_dir(tmp_path)
    assert nonzero(v) == {"lost": 1, "lost_from_log": 1}
    assert v.violations == [{"count": "lost", "value": 1, "bound": 0}]
    [a] = v.anomalies
    assert (a["seq_first"], a["t"], a["near_fault"]) == (7, 7.0, "pause broker(1) -> broker 1 at +6.0s (record sent 1.0s after it)")


def test_verify_run_dir_without_meta_measures_from_the_first_event(tmp_path):
    write_run(tmp_path, {}, meta=False)
    assert verify_run_dir(tmp_path).anomalies[0]["t"] == 7.0


def test_verify_run_dir_rejects_other_dirs_and_unknown_counts(tmp_path):
    with pytest.raises(UsageError, match="not a kchaos run directory"):
        verify_run_dir(tmp_path)
    write_run(tmp_path, {"lossed": 0})
    with pytest.raises(UsageError, match="scenario.json: expect: unknown count"):
        verify_run_dir(tmp_path)


def history_of(n_per, partitions):
    """A clean history: producers 1..len(n_per) spread round-robin over partitions, consumed in log order."""
    parts, next_off = [], [0] * partitions
    for pid, n in enumerate(n_per, start=1):
        seqs = np.arange(n)
        part = seqs % partitions
        off = np.empty(n, dtype=np.int64)
        for p in range(partitions):
            mine = part == p
            off[mine] = next_off[p] + np.arange(mine.sum())
            next_off[p] += int(mine.sum())
        t = 100.0 + seqs * 0.001
        parts += [events(SEND, pid, seqs, t), events(ACK, pid, seqs, t + 0.01, part, off),
                  events(POLL, pid, seqs, t + 1, part, off), events(PROCESS, pid, seqs, t + 1.1, part, off),
                  events(LOG, pid, seqs, t + 60, part, off)]
    return np.concatenate(parts), next_off


@settings(max_examples=40, deadline=None)
@given(n_per=st.lists(st.integers(1, 60), min_size=1, max_size=4), partitions=st.integers(1, 3),
       data=st.data())
def test_injected_anomalies_are_counted_exactly(n_per, partitions, data):
    ev, next_off = history_of(n_per, partitions)
    assert nonzero(run(ev)) == {}
    acks = ev[ev["kind"] == ACK]
    order = data.draw(st.permutations(range(len(acks))))
    k_lost = data.draw(st.integers(0, len(acks) // 3))
    lost, rest = acks[order[:k_lost]], acks[order[k_lost:]]
    dup = rest[:data.draw(st.integers(0, len(rest) // 2))]
    again = rest[len(rest) - data.draw(st.integers(0, len(rest) // 2)):]

    def ids(e):
        return (e["pid"].astype(np.int64) << 40) | e["seq"]

    consumer_side = np.isin(ev["kind"], [POLL, PROCESS, LOG]) & np.isin(ids(ev), ids(lost))
    out = [ev[~consumer_side]]
    for e in dup:   # a second copy at the end of the record's partition, polled and processed
        p = int(e["partition"])
        out += [events(kind, e["pid"], e["seq"], 200.0, p, next_off[p]) for kind in (LOG, POLL, PROCESS)]
        next_off[p] += 1
    out.append(events(PROCESS, again["pid"], again["seq"], 300.0, again["partition"], again["offset"]))
    v = run(*out)
    assert v.counts["lost"] == v.counts["lost_from_log"] == len(lost)
    assert v.counts["log_duplicates"] == len(dup)
    assert v.counts["reprocessed"] == len(again)
    assert v.counts["duplicates"] == len(dup) + len(again)
    assert (v.counts["reordered"], v.counts["phantoms"], v.counts["lost_in_log"]) == (0, 0, 0)
    assert sum(a["records"] for a in v.anomalies if a["type"] == "lost") == len(lost)
    assert sum(a["records"] for a in v.anomalies if a["type"] == "log_duplicate") == len(dup)


def test_100k_records_with_a_lost_range_and_a_reprocessed_range():
    n = 100_000
    ev, _ = history_of([n // 2, n // 2], 2)
    gone = (ev["pid"] == 2) & (ev["seq"] >= 1000) & (ev["seq"] < 1500) & np.isin(ev["kind"], [POLL, PROCESS, LOG])
    again = ev[(ev["kind"] == PROCESS) & (ev["pid"] == 1) & (ev["seq"] < 300)]
    v = run(ev[~gone], again)
    assert v.counts["sent"] == v.counts["acked"] == v.counts["consumed"] + 500 == n
    assert nonzero(v) == {"lost": 500, "lost_from_log": 500, "reprocessed": 300, "duplicates": 300}
    # pid 2 spreads seqs over two partitions: the loss is one contiguous range in each
    assert sorted((a["type"], a["partition"], a["seq_first"], a["seq_last"], a["records"]) for a in v.anomalies) == [
        ("lost", 0, 1000, 1498, 250), ("lost", 1, 1001, 1499, 250),
        ("reprocessed", 0, 0, 298, 150), ("reprocessed", 1, 1, 299, 150)]


def lis(values):
    """Length of the longest strictly increasing subsequence, the quadratic way."""
    best = []
    for i, v in enumerate(values):
        best.append(1 + max([best[j] for j in range(i) if values[j] < v], default=0))
    return max(best, default=0)


def oracle(ev, audited=True):
    """The definitions, record by record in plain Python: what the array code must agree with."""
    rows = [(int(e["kind"]), int(e["pid"]), int(e["seq"]), int(e["partition"]), int(e["offset"])) for e in ev
            if audited or e["kind"] != LOG]
    is_known = lambda p, s: p not in (UNKNOWN_PID, FOREIGN_PID) and s >= 0  # noqa: E731
    known = [r for r in rows if is_known(r[1], r[2])]

    def ids(*kinds):
        return {(p, s) for k, p, s, _, _ in known if k in kinds}

    sent, acked, processed, in_log = ids(SEND), ids(ACK), ids(PROCESS), ids(LOG)
    reach = {}
    for k, _, _, part, off in rows:
        if k in (PROCESS, COMMIT) and off >= 0:
            reach[part] = max(reach.get(part, 0), off + 1 if k == PROCESS else off)
    first_pos = {}
    for k, p, s, part, off in known:
        if k == LOG:
            first_pos[(p, s)] = min(first_pos.get((p, s), (off, part)), (off, part))
    gone = acked - in_log
    stays = (acked & in_log) - processed
    unread = {r for r in stays if first_pos[r][0] >= reach.get(first_pos[r][1], 0)}
    unacked = sent - acked
    positions, per_partition = {}, {}
    for k, p, s, part, off in known:
        if k == LOG:
            positions.setdefault((p, s), set()).add((part, off))
            firsts = per_partition.setdefault((p, part), {})
            firsts[s] = min(firsts.get(s, off), off)
    reordered = sum(len(f) - lis([s for _, s in sorted((o, s) for s, o in f.items())])
                    for f in per_partition.values())
    processes, held = {}, {}
    for k, p, s, part, off in rows:
        if k == PROCESS and is_known(p, s):
            processes[(p, s, part, off)] = processes.get((p, s, part, off), 0) + 1
        if k in (ACK, POLL, PROCESS, LOG) and off >= 0:
            who = (p, s) if is_known(p, s) else ("foreign" if p == FOREIGN_PID else "unparsed")
            held.setdefault((part, off), set()).add(who)
    log_dups = sum(len(pos) - 1 for pos in positions.values())
    reprocessed = sum(n - 1 for n in processes.values())
    phantoms = len(ids(PROCESS, LOG) - sent) + len({(part, off) for k, p, s, part, off in rows
                                                    if not is_known(p, s) and p != FOREIGN_PID
                                                    and k in (PROCESS, LOG) and off >= 0})
    foreign = len({(part, off) for k, p, _, part, off in rows if p == FOREIGN_PID and k in (POLL, PROCESS, LOG)
                   and off >= 0})
    lost_from_log = len(gone) if audited else 0
    lost_in_log = len(stays - unread) if audited else 0
    return {"sent": len(sent), "acked": len(acked), "errors": len(ids(ERROR) - acked), "consumed": len(processed),
            "lost": lost_from_log + lost_in_log, "lost_in_log": lost_in_log, "lost_from_log": lost_from_log,
            "unread": len(unread) if audited else 0, "unaudited": 0 if audited else len(acked - processed),
            "unacked_present": len(unacked & (in_log | processed)),
            "unacked_missing": len(unacked - in_log - processed) if audited else 0, "log_duplicates": log_dups,
            "reprocessed": reprocessed, "duplicates": log_dups + reprocessed, "reordered": reordered,
            "inconsistent_offsets": sum(len(w) > 1 for w in held.values()), "phantoms": phantoms,
            "foreign": foreign, "aborted": 0, "aborted_reads": 0, "torn_transactions": 0,
            "effects": 0, "lost_effects": 0, "duplicate_effects": 0, "dangling_transactions": 0,
            "aborted_effects": 0}


EVENT_ROWS = st.lists(st.tuples(st.sampled_from([SEND, ACK, ERROR, POLL, PROCESS, COMMIT, LOG]),
                                st.sampled_from([1, 1, 1, 70_000_000, UNKNOWN_PID, FOREIGN_PID]), st.integers(0, 4),
                                st.integers(0, 1), st.integers(0, 12), st.floats(100, 120)), max_size=80)


@settings(max_examples=200, deadline=None)
@given(EVENT_ROWS, st.booleans())
def test_counts_agree_with_the_definitions_on_messy_histories(rows, audited):
    ev = np.zeros(len(rows), dtype=history.EVENT)
    for e, (kind, pid, seq, part, off, t) in zip(ev, rows):
        placed = kind not in (SEND, ERROR)
        e["kind"], e["pid"], e["seq"], e["t"] = kind, pid, -1 if pid in (UNKNOWN_PID, FOREIGN_PID) else seq, t
        e["partition"], e["offset"] = (part, off) if placed else (-1, -1)
    v = verify({"all": ev}, TIMELINE, {}, audited=audited)
    assert v.counts == oracle(ev, audited)
    for a in v.anomalies:   # evidence never claims more than the counts
        assert a["records"] >= 1 and a["type"] in EVIDENCE_TYPES
    evidenced = {t: sum(a["records"] for a in v.anomalies if a["type"] == t) for t in EVIDENCE_TYPES}
    for kind, count in [("lost", "lost"), ("unread", "unread"), ("unaudited", "unaudited"),
                        ("reordered", "reordered"), ("phantom", "phantoms"), ("foreign", "foreign"),
                        ("inconsistent_offset", "inconsistent_offsets")]:
        assert evidenced[kind] == v.counts[count], kind
    assert evidenced["log_duplicate"] <= v.counts["log_duplicates"]
    assert evidenced["reprocessed"] <= v.counts["reprocessed"]
    assert v.complete == (audited and v.counts["sent"] > 0 and v.counts["unread"] == 0
                          and v.counts["acked"] + v.counts["unacked_present"] > 0)


def test_acked_offsets_truncated_by_a_new_leader_are_loss_not_reordering():
    """acks=1 and an isolated leader: seq 5-6 acked at offsets 5-6, then the new leader wrote 7-8 there."""
    logged = [0, 1, 2, 3, 4, 7, 8]
    v = run(events(SEND, 1, range(9), 100.0), events(ACK, 1, range(9), 100.1, 0, [0, 1, 2, 3, 4, 5, 6, 5, 6]),
            events(LOG, 1, logged, 120.0, 0, range(7)), events(PROCESS, 1, logged, 110.0, 0, range(7)))
    assert v.counts["lost"] == v.counts["lost_from_log"] == 2
    assert v.counts["reordered"] == 0 and v.counts["log_duplicates"] == 0 and v.counts["reprocessed"] == 0
    assert v.counts["inconsistent_offsets"] == 2   # offsets 5 and 6 were acked for seq 5-6, now hold 7-8
    assert sorted((a["type"], a["seq_first"], a["seq_last"]) for a in v.anomalies) == [
        ("inconsistent_offset", 5, 6), ("lost", 5, 6)]


def test_evidence_line_reads_as_a_sentence():
    from kafka_chaos.report import evidence_line
    a = {"type": "lost", "where": "from_log", "pid": 0, "seq_first": 1589, "seq_last": 4637, "records": 1045,
         "partition": 0, "t": 8.3, "near_fault": "isolate leader(chaos,0) -> broker 2 at +8.3s (record sent 0.0s after it)"}
    assert evidence_line(a) == ("lost (from_log): producer 0 seq 1589-4637 (1045 records) p0 at +8.3s; "
                                "near isolate leader(chaos,0) -> broker 2 at +8.3s (record sent 0.0s after it)")
    one = dict(a, type="log_duplicate", where=None, seq_last=1589, records=1, offsets=[504, 504], near_fault=None)
    assert evidence_line(one) == "log_duplicate: producer 0 seq 1589 (1 record) p0 offsets 504 at +8.3s"


# ---- Wrong verdicts of issue 7, one test each (each failed on the verifier before the audit rework) ----

def test_1_without_an_audit_nothing_is_lost_from_the_log_and_the_verdict_is_incomplete(tmp_path):
    write_run(tmp_path, {"lost": 0}, audited=False)     # kchaos killed before the audit: no audit.json
    v = verify_run_dir(tmp_path)
    assert v.counts["lost_from_log"] == v.counts["lost"] == 0
    assert v.counts["unaudited"] == 1 and v.counts["consumed"] == 9
    assert not v.complete and not v.passed and v.violations == []
    assert "no complete audit" in v.incomplete[0]
    [a] = v.anomalies
    assert (a["type"], a["seq_first"], a["offsets"]) == ("unaudited", 7, [7, 7])


def test_1_a_partial_audit_file_is_not_an_audit(tmp_path):
    write_run(tmp_path, {}, audited=False)               # audit-0.bin exists (partial), audit.json does not
    assert verify_run_dir(tmp_path).counts["lost_from_log"] == 0
    (tmp_path / "audit.json").write_text(json.dumps({"complete": False}))
    assert not verify_run_dir(tmp_path).complete


def test_2_records_the_consumer_never_got_to_are_unread_not_skipped():
    # the drain deadline stopped a commit-after-process consumer mid-batch: it polled 0-7, processed 0-3,
    # had committed 2; 4-9 are pending (a restart would deliver them), not skipped by commit timing
    seqs = np.arange(10)
    v = run(events(SEND, 1, seqs, 100.0), events(ACK, 1, seqs, 100.1, 0, seqs),
            events(POLL, 1, seqs[:8], 101.0, 0, seqs[:8]), events(PROCESS, 1, seqs[:4], 101.1, 0, seqs[:4]),
            events(COMMIT, 0, -1, 101.2, 0, 2), events(LOG, 1, seqs, 160.0, 0, seqs), expect={"lost": 0})
    assert nonzero(v) == {"unread": 6}
    assert not v.complete and "never reached 6" in v.incomplete[0]
    assert not v.passed and v.violations == []


def test_2_records_below_what_the_group_committed_or_processed_are_skipped():
    # commit-before-process: committed 6 after polling 0-5, crashed having processed 0-1; the next consumer
    # processed 6-9. 2-5 are skipped for good (lost in the log); the group's final commit covers 9
    seqs = np.arange(10)
    done = np.r_[0, 1, 6, 7, 8, 9]
    v = run(events(SEND, 1, seqs, 100.0), events(ACK, 1, seqs, 100.1, 0, seqs),
            events(POLL, 1, seqs, 101.0, 0, seqs), events(COMMIT, 0, -1, 101.05, 0, 6),
            events(PROCESS, 1, done, 101.1, 0, done), events(LOG, 1, seqs, 160.0, 0, seqs))
    assert nonzero(v) == {"lost": 4, "lost_in_log": 4}
    # auto-commit leaves no COMMIT in the consumer's history: the audit's record of the group's offsets does
    tail = np.r_[0, 1]
    v = run(events(SEND, 1, seqs, 100.0), events(ACK, 1, seqs, 100.1, 0, seqs),
            events(PROCESS, 1, tail, 101.1, 0, tail), events(COMMIT, 0, -1, 159.0, 0, 10),
            events(LOG, 1, seqs, 160.0, 0, seqs))
    assert nonzero(v) == {"lost": 8, "lost_in_log": 8}


def test_2_warnings_of_the_run_reach_the_verdict_and_the_json(tmp_path):
    from kafka_chaos.report import to_dict
    write_run(tmp_path, {})
    (tmp_path / "warnings.txt").write_text("the consumer did not catch up within drain_timeout (60 s)\n")
    v = verify_run_dir(tmp_path)
    assert v.warnings == ["the consumer did not catch up within drain_timeout (60 s)"]
    d = json.loads(json.dumps(to_dict(v, tmp_path), default=str))
    assert d["warnings"] == v.warnings and d["complete"] is True and d["incomplete"] == []


def test_3_a_record_of_another_run_is_foreign_and_cannot_mask_a_loss():
    ours, theirs = history.new_run_id(), history.new_run_id()
    value = history.encode_value(theirs, 1, 0, 5, 100)
    assert history.decode_value(value, ours) == (FOREIGN_PID, -1)
    assert history.decode_value(history.encode_value(ours, 1, 0, 5, 100), ours) == (1, 0)
    assert history.decode_value(b"kc:1:0:1700000000000:....", ours) == (FOREIGN_PID, -1)   # the old format
    assert history.decode_value(b"kc:" + ours.encode() + b":x:y", ours) == (UNKNOWN_PID, -1)
    # our seq 0 was acked and vanished; another run's record with the same pid and seq sits in the topic
    v = run(events(SEND, 1, 0, 100.0), events(ACK, 1, 0, 100.1, 0, 0),
            events(POLL, FOREIGN_PID, -1, 101.0, 0, 1), events(PROCESS, FOREIGN_PID, -1, 101.1, 0, 1),
            events(LOG, FOREIGN_PID, -1, 160.0, 0, 1))
    assert nonzero(v) == {"lost": 1, "lost_from_log": 1, "foreign": 1}
    assert v.counts["phantoms"] == 0 and v.counts["consumed"] == 0


def test_4_a_different_record_at_a_reused_offset_is_not_reprocessing():
    v = run(events(SEND, 1, [0, 1], 100.0), events(ACK, 1, [0, 1], 100.1, 0, [5, 5]),
            events(PROCESS, 1, [0, 1], [101.0, 102.0], 0, [5, 5]), events(LOG, 1, 1, 160.0, 0, 5))
    assert v.counts["reprocessed"] == 0 and v.counts["inconsistent_offsets"] == 1
    assert v.counts["lost_from_log"] == 1 and v.counts["lost"] == 1   # seq 0 is gone from the log
    assert v.counts["reordered"] == 0


def test_4_the_same_record_processed_twice_is_reprocessing():
    v = run(clean(3), events(PROCESS, 1, 1, 105.0, 0, 1))
    assert nonzero(v) == {"reprocessed": 1, "duplicates": 1}


def test_5_records_processed_then_truncated_are_lost_from_the_log():
    """acks=all, min.insync=1, unclean election: the consumer processed 0-9 at offsets 0-9, then a stale
    follower took over at offset 5 and the producer's next records 10-14 landed at 5-9."""
    first, later = np.arange(10), np.arange(10, 15)
    v = run(events(SEND, 1, np.r_[first, later], 100.0), events(ACK, 1, first, 100.1, 0, first),
            events(ACK, 1, later, 110.0, 0, later - 5),
            events(POLL, 1, first, 101.0, 0, first), events(PROCESS, 1, first, 101.1, 0, first),
            events(POLL, 1, later, 111.0, 0, later - 5), events(PROCESS, 1, later, 111.1, 0, later - 5),
            events(LOG, 1, np.r_[first[:5], later], 160.0, 0, np.arange(10)), expect={"lost": 0})
    assert v.counts["lost_from_log"] == v.counts["lost"] == 5
    assert v.counts["inconsistent_offsets"] == 5
    assert v.counts["reprocessed"] == v.counts["reordered"] == v.counts["lost_in_log"] == 0
    assert v.violations == [{"count": "lost", "value": 5, "bound": 0}]


def test_6_a_polled_record_that_the_log_no_longer_holds_is_lost_from_the_log_not_in_it():
    v = run(events(SEND, 1, [0, 1], 100.0), events(ACK, 1, [0, 1], 100.1, 0, [0, 1]),
            events(POLL, 1, [0, 1], 101.0, 0, [0, 1]), events(PROCESS, 1, 0, 101.1, 0, 0),
            events(LOG, 1, 0, 160.0, 0, 0))
    assert nonzero(v) == {"lost": 1, "lost_from_log": 1}


@pytest.mark.parametrize("order", [[10, *range(10)], [*range(1, 11), 0]], ids=["one-ahead-of-ten", "one-behind-ten"])
def test_7_reordering_counts_the_same_in_both_directions(order):
    seqs = np.array(order)
    offs = np.arange(len(seqs))
    v = run(events(SEND, 1, seqs, 100.0), events(ACK, 1, seqs, 100.1, 0, offs),
            events(POLL, 1, seqs, 101.0, 0, offs), events(PROCESS, 1, seqs, 101.1, 0, offs),
            events(LOG, 1, seqs, 160.0, 0, offs))
    assert nonzero(v) == {"reordered": 1}


def test_7_reordering_is_the_fewest_records_to_remove():
    seqs = np.array([3, 4, 5, 0, 1, 2, 6, 9, 8, 7])      # keep 3 4 5 6 9 or 0 1 2 6 7: remove 5
    offs = np.arange(len(seqs))
    v = run(events(SEND, 1, seqs, 100.0), events(ACK, 1, seqs, 100.1, 0, offs),
            events(PROCESS, 1, seqs, 101.1, 0, offs), events(LOG, 1, seqs, 160.0, 0, offs))
    assert v.counts["reordered"] == 5 == len(seqs) - lis(seqs.tolist())


def test_8_an_expectation_nothing_measures_is_refused():
    counts = dict.fromkeys(COUNT_NAMES, 0)
    with pytest.raises(ValueError, match="unknown count 'exactly_once'"):
        check_expect(counts, {"exactly_once": 0})


@pytest.mark.parametrize("content", [b"", b"\x00" * 400, bytes(range(256)) * 4], ids=["empty", "zeros", "garbage"])
def test_9_empty_or_garbage_histories_never_pass(tmp_path, content):
    write_run(tmp_path, {})
    (tmp_path / "history" / "producer-0.bin").write_bytes(content)
    if content:
        with pytest.raises(UsageError, match="producer-0.bin: event 0 .* is not a kchaos event"):
            verify_run_dir(tmp_path)
    else:
        v = verify_run_dir(tmp_path)
        assert not v.passed and "no producer history" in v.incomplete[0]


def test_9_an_empty_history_folder_is_incomplete(tmp_path):
    write_run(tmp_path, {})
    for f in (tmp_path / "history").iterdir():
        f.unlink()
    v = verify_run_dir(tmp_path)
    assert not v.passed and not v.complete


def test_9_a_history_file_that_is_a_symlink_or_oddly_named_is_refused(tmp_path):
    write_run(tmp_path, {})
    hist = tmp_path / "history"
    (hist / "producer-1.bin").symlink_to(hist / "producer-0.bin")
    with pytest.raises(UsageError, match="symlink"):
        verify_run_dir(tmp_path)
    (hist / "producer-1.bin").unlink()
    (hist / "notes.txt").write_text("hi")
    with pytest.raises(UsageError, match="not a history file name"):
        verify_run_dir(tmp_path)


def test_10_a_failed_write_leaves_the_file_framed_and_stops_the_writer(tmp_path, monkeypatch):
    import errno
    import os
    w = history.HistoryWriter(tmp_path / "producer-0.bin")
    w.append(SEND, 1, 0, 100.0)
    real = os.write

    def disk_full(fd, data):   # the first 13 bytes go out, then the disk is full
        real(fd, bytes(data[:13]))
        monkeypatch.setattr(os, "write", real)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(history.HistoryError, match="No space left"):
        w.append(SEND, 1, 1, 100.1)
    with pytest.raises(history.HistoryError):
        w.append(SEND, 1, 2, 100.2)      # nothing may land behind a torn event
    with pytest.raises(history.HistoryError):
        w.check()
    w.close()
    ev = history.read_file(tmp_path / "producer-0.bin")
    assert ev["seq"].tolist() == [0]


def test_10_a_short_write_is_completed(tmp_path, monkeypatch):
    import os
    w = history.HistoryWriter(tmp_path / "producer-0.bin")
    real = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real(fd, bytes(data[:7])))
    w.append_many(events(SEND, 1, np.arange(3), 100.0))
    w.close()
    assert history.read_file(tmp_path / "producer-0.bin")["seq"].tolist() == [0, 1, 2]


def test_10_the_reader_detects_an_event_torn_in_the_middle(tmp_path):
    raw = events(SEND, 1, np.arange(4), 100.0).tobytes()
    (tmp_path / "producer-0.bin").write_bytes(raw[:40] + raw[40:57] + raw[80:])   # event 1 cut short
    with pytest.raises(UsageError, match="event 1 .*misframed"):
        history.read_file(tmp_path / "producer-0.bin")
    (tmp_path / "consumer-0.bin").write_bytes(raw + raw[:17])   # a torn *last* event is a SIGKILL: dropped
    assert len(history.read_file(tmp_path / "consumer-0.bin")) == 4


# ---- Transactions: a record is promised only when its transaction committed ----

def txn(pid, first, last, outcome, t=150.0):
    return events(TXN, pid, first, t, -1, last, flags=outcome)


def txn_run(*parts, **kw):
    return run(*parts, transactional=True, **kw)


def committed_and_aborted(consumer_sees_aborted=False):
    """seqs 0-4 committed, 5-9 aborted on purpose: all written at offsets 0-9 (aborted records stay in
    the log, skipped by read_committed readers and the audit)."""
    seqs = np.arange(10)
    shown = seqs if consumer_sees_aborted else seqs[:5]
    return [events(SEND, 1, seqs, 100.0), events(ACK, 1, seqs, 100.1, 0, seqs), txn(1, 0, 4, TXN_COMMITTED),
            txn(1, 5, 9, TXN_ABORTED), events(POLL, 1, shown, 101.0, 0, shown),
            events(PROCESS, 1, shown, 101.1, 0, shown), events(LOG, 1, seqs[:5], 160.0, 0, seqs[:5])]


def test_records_of_an_aborted_transaction_are_not_promised_and_not_lost():
    v = txn_run(*committed_and_aborted())
    assert v.counts["acked"] == 5 and v.counts["aborted"] == 5 and v.counts["lost"] == 0
    assert (v.counts["aborted_reads"], v.counts["torn_transactions"]) == (0, 0) and v.passed


def test_a_read_uncommitted_consumer_that_processes_aborted_records_is_counted():
    v = txn_run(*committed_and_aborted(consumer_sees_aborted=True), expect={"aborted_reads": 0})
    assert v.counts["aborted_reads"] == 5 and v.counts["lost"] == 0
    assert v.violations == [{"count": "aborted_reads", "value": 5, "bound": 0}]
    [a] = [a for a in v.anomalies if a["type"] == "aborted_read"]
    assert (a["seq_first"], a["seq_last"], a["offsets"]) == (5, 9, [5, 9])


def test_a_committed_transaction_seen_in_part_is_torn_and_its_missing_records_lost():
    seqs = np.arange(4)
    v = txn_run(events(SEND, 1, seqs, 100.0), events(ACK, 1, seqs, 100.1, 0, seqs), txn(1, 0, 3, TXN_COMMITTED),
                events(PROCESS, 1, seqs[:2], 101.0, 0, seqs[:2]), events(LOG, 1, seqs[:2], 160.0, 0, seqs[:2]))
    assert v.counts["torn_transactions"] == 1 and v.counts["lost_from_log"] == 2
    [torn] = [a for a in v.anomalies if a["type"] == "torn_transaction"]
    assert torn["detail"] == "committed, 2 of 4 in the log" and (torn["seq_first"], torn["seq_last"]) == (0, 3)


def test_an_aborted_transaction_visible_to_the_audit_is_torn():
    seqs = np.arange(3)
    v = txn_run(events(SEND, 1, seqs, 100.0), txn(1, 0, 2, TXN_ABORTED), events(LOG, 1, [1], 160.0, 0, 1))
    assert v.counts["torn_transactions"] == 1 and v.counts["acked"] == 0 and v.counts["lost"] == 0


def test_a_transaction_left_open_by_a_crash_must_be_all_or_nothing():
    # txn 0-2 committed; the producer died in 3-5 (no TXN event): acks came back, the coordinator aborted it
    seqs = np.arange(6)
    v = txn_run(events(SEND, 1, seqs, 100.0), events(ACK, 1, seqs, 100.1, 0, seqs), txn(1, 0, 2, TXN_COMMITTED),
                events(PROCESS, 1, seqs[:3], 101.0, 0, seqs[:3]), events(LOG, 1, seqs[:3], 160.0, 0, seqs[:3]))
    assert v.counts["acked"] == 3 and v.counts["lost"] == 0 and v.counts["torn_transactions"] == 0
    # ... but seen in part, it is torn
    v = txn_run(events(SEND, 1, seqs, 100.0), txn(1, 0, 2, TXN_COMMITTED),
                events(LOG, 1, [0, 1, 2, 4], 160.0, 0, [0, 1, 2, 4]))
    assert v.counts["torn_transactions"] == 1
    [torn] = [a for a in v.anomalies if a["type"] == "torn_transaction"]
    assert torn["detail"] == "unknown, 1 of 3 in the log"


def test_a_transaction_left_open_is_dangling_and_says_how_long_readers_waited():
    # txn 0-2 committed at offsets 0-2; the producer died in 3-5 (acked at 3-5, last send at t=100.5); the
    # coordinator aborted it and the consumer processed the next record (offset 6, another producer) at t=112
    seqs = np.arange(6)
    sends = events(SEND, 1, seqs, 100.0 + seqs * 0.1)
    v = txn_run(sends, events(ACK, 1, seqs, 100.6, 0, seqs), txn(1, 0, 2, TXN_COMMITTED),
                events(PROCESS, 1, seqs[:3], 101.0, 0, seqs[:3]), events(LOG, 1, seqs[:3], 160.0, 0, seqs[:3]),
                events(SEND, 2, [0], 111.0), events(ACK, 2, [0], 111.1, 0, 6), txn(2, 0, 0, TXN_COMMITTED),
                events(PROCESS, 2, [0], 112.0, 0, 6), events(LOG, 2, [0], 160.0, 0, 6))
    assert v.counts["dangling_transactions"] == 1 and v.counts["lost"] == 0 and v.counts["torn_transactions"] == 0
    [d] = [a for a in v.anomalies if a["type"] == "dangling_transaction"]
    assert (d["seq_first"], d["seq_last"], d["records"], d["blocked_s"]) == (3, 5, 3, 11.5)
    assert d["detail"] == "left open by its producer; read_committed readers blocked 11.5 s"


def test_an_unknown_outcome_may_go_either_way_but_whole():
    seqs = np.arange(4)
    for seen in ([], [0, 1, 2, 3]):
        v = txn_run(events(SEND, 1, seqs, 100.0), txn(1, 0, 3, TXN_UNKNOWN), events(LOG, 1, seen, 160.0, 0, seen))
        assert v.counts["torn_transactions"] == 0 and v.counts["lost"] == 0


def test_committed_records_count_as_acked_even_without_their_ack_event():
    seqs = np.arange(3)   # the callbacks were lost with a SIGKILL after the commit returned
    v = txn_run(events(SEND, 1, seqs, 100.0), txn(1, 0, 2, TXN_COMMITTED), events(LOG, 1, [0, 1], 160.0, 0, [0, 1]),
                events(PROCESS, 1, [0, 1], 101.0, 0, [0, 1]))
    assert v.counts["acked"] == 3 and v.counts["lost_from_log"] == 1 and v.counts["torn_transactions"] == 1


# ---- Effects downstream (copier output topic, sink table): exactly one per promised record ----

OUT = {"stream": history.OUTPUT, "complete": True, "store": "output topic"}


def copies(pid, seqs, offsets, stream=history.OUTPUT):
    return events(LOG, pid, seqs, 170.0, 0, offsets, stream=stream)


def test_each_committed_record_copied_once_is_clean():
    v = txn_run(*committed_and_aborted(), copies(1, np.arange(5), np.arange(5)), effects=OUT)
    assert (v.counts["effects"], v.counts["lost_effects"], v.counts["duplicate_effects"]) == (5, 0, 0)
    assert v.passed


def test_a_record_copied_twice_is_a_duplicate_effect_with_both_positions():
    v = txn_run(*committed_and_aborted(), copies(1, [0, 1, 2, 3, 4, 2], [0, 1, 2, 3, 4, 9]), effects=OUT,
                expect={"duplicate_effects": 0})
    assert v.counts["duplicate_effects"] == 1 and v.counts["effects"] == 5
    assert v.violations == [{"count": "duplicate_effects", "value": 1, "bound": 0}]
    [a] = [a for a in v.anomalies if a["type"] == "duplicate_effect"]
    assert (a["seq_first"], a["offsets"], a["effect_offsets"]) == (2, [2, 2], [9, 9])


def test_a_committed_record_never_copied_is_a_lost_effect_but_aborted_ones_need_none():
    v = txn_run(*committed_and_aborted(), copies(1, [0, 1, 4], [0, 1, 2]), effects=OUT, expect={"lost_effects": 0})
    assert v.counts["lost_effects"] == 2 and v.counts["lost"] == 0 and not v.passed
    [a] = [a for a in v.anomalies if a["type"] == "lost_effect"]
    assert (a["seq_first"], a["seq_last"], a["offsets"]) == (2, 3, [2, 3])


def test_effects_not_audited_after_the_copier_caught_up_are_not_judged():
    v = txn_run(*committed_and_aborted(), copies(1, [0], [0]), effects={**OUT, "complete": False})
    assert v.counts["lost_effects"] == 0 and not v.complete and not v.passed
    assert any("output topic was not audited" in why for why in v.incomplete)


def test_effects_of_other_streams_and_foreign_records_are_not_counted():
    other = copies(1, [0, 0], [0, 1], stream=history.EFFECTS)   # another store's rows
    foreign = events(LOG, FOREIGN_PID, -1, 170.0, 0, 5, stream=history.OUTPUT)
    v = txn_run(*committed_and_aborted(), copies(1, np.arange(5), np.arange(5)), other, foreign, effects=OUT)
    assert (v.counts["effects"], v.counts["duplicate_effects"], v.counts["lost"]) == (5, 0, 0)


def test_topic_checks_ignore_events_of_other_streams():
    v = run(clean(5), copies(1, [0, 0, 7], [0, 1, 2]))   # no effects store declared: output rows are not the log
    assert nonzero(v) == {} and v.passed
