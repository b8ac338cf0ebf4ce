"""Reconcile a run's recorded history into a Verdict: what was lost, duplicated, reordered or made up.

A pure function over arrays (the verifier never talks to the cluster): every count is a sort, a
distinct or a binary-search membership over whole columns; Python loops run only over the evidence
emitted (`max_evidence` per type) and over the records out of order (reordering).

What the log holds is known only from the final audit (a full read of every partition after the
workload, `audit.json` marks it complete): polls and acknowledgements say where a record *was*, and a
truncation after a leader change can replace it. So loss from the log, log duplicates and reordering
are judged on the audit alone; without a complete audit the acknowledged, unprocessed records are
`unaudited` and the verdict is incomplete, never PASSED.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kafka_chaos import columns, files, history, rundir
from kafka_chaos.counts import COUNT_NAMES, RESERVED, unmeasured
from kafka_chaos.errors import UsageError

EVIDENCE_TYPES = ("lost", "unread", "unaudited", "log_duplicate", "reprocessed", "reordered",
                  "inconsistent_offset", "phantom", "foreign", "aborted_read", "lost_effect",
                  "duplicate_effect", "aborted_effect")   # + torn_transaction
# What an anomaly's time is, per evidence type, where it is not its first record's send time (the report names
# the fault nearest to that time, and how far from it)
EVIDENCE_TIME = {"reprocessed": "record processed again", "aborted_read": "record processed",
                 "inconsistent_offset": "offset first read", "phantom": "record first seen",
                 "foreign": "record first seen", "torn_transaction": "transaction ended",
                 "dangling_transaction": "last record sent"}
AUDIT = "audit.json"
WARNINGS = "warnings.txt"

# A record's key is (compact pid code << _SEQ_BITS) | seq: one int64 that sorts by pid, then seq.
_SEQ_BITS = 40
_SEQ_MASK = (1 << _SEQ_BITS) - 1
_FOREIGN_ID, _UNPARSED_ID = -2, -1   # identities of records without a key, for inconsistent offsets


@dataclass(frozen=True)
class Verdict:
    counts: dict[str, int]      # every COUNT_NAMES key
    anomalies: list[dict]       # evidence ranges, sorted by t
    violations: list[dict]      # [{"count": "lost", "value": 12, "bound": 0}]
    passed: bool                # complete and no violations
    complete: bool = True       # every count was measured (producer history, full audit, consumer reached the end)
    incomplete: list[str] = field(default_factory=list)   # why not, one sentence each
    warnings: list[str] = field(default_factory=list)     # from the run (e.g. the drain timed out)

    def to_dict(self) -> dict:
        return {"passed": self.passed, "complete": self.complete, "incomplete": list(self.incomplete),
                "warnings": list(self.warnings), "counts": dict(self.counts),
                "violations": [dict(v) for v in self.violations],
                "anomalies": [dict(a) for a in self.anomalies]}


def check_expect(counts: dict[str, int], expect: dict[str, int | None],
                 unmeasured: dict[str, str] | None = None) -> list[dict]:
    """Violations of `expect` (count name -> upper bound, None = any value); a name no run measures, or one in
    `unmeasured` (this run has nothing that counts it: name -> what would) given a bound, raises ValueError."""
    violations = []
    for name, bound in expect.items():
        if name in (unmeasured or {}) and bound is not None:
            raise ValueError(f"expect: {name} is measured only with {unmeasured[name]}, and this run has none")
        if name in RESERVED:
            raise ValueError(f"expect: {name} is not measured yet ({RESERVED[name]})")
        if name not in COUNT_NAMES:
            raise ValueError(f"expect: unknown count {name!r} (known: {', '.join(COUNT_NAMES)})")
        if bound is None:
            continue
        if isinstance(bound, bool) or not isinstance(bound, (int, np.integer)) or bound < 0:
            raise ValueError(f"expect: bound of {name!r} must be a non-negative integer or null, not {bound!r}")
        if counts[name] > bound:
            violations.append({"count": name, "value": int(counts[name]), "bound": int(bound)})
    return violations


def read_warnings(run_dir: Path) -> list[str]:
    path = Path(run_dir) / WARNINGS
    if not path.exists() and not path.is_symlink():
        return []
    text = files.read_bounded(path, 1 << 20, "warnings file").decode("utf-8", "replace")
    return [line for line in text.splitlines() if line.strip()]


def verify_run_dir(run_dir: Path, max_evidence: int = 200) -> Verdict:
    """Verdict of a run directory: history/, audit.json, timeline.jsonl, warnings.txt, scenario.json's
    "expect" and meta.json's "t0"."""
    run_dir = Path(run_dir)
    if not (run_dir / "history").is_dir() or (run_dir / "history").is_symlink():
        raise UsageError(f"{run_dir}: not a kchaos run directory (no history/)")
    scenario_path = run_dir / "scenario.json"
    scenario = rundir.read_object(scenario_path, "scenario")
    expect = scenario.get("expect") or {}
    producer = scenario.get("producer")
    transactional = isinstance(producer, dict) and producer.get("semantic") == "transactional"
    if not isinstance(expect, dict):
        raise UsageError(f"{scenario_path}: expect must be a mapping of count name to bound")
    meta_path = run_dir / "meta.json"
    t0 = rundir.read_object(meta_path, "run facts", required=False).get("t0")
    if t0 is not None and not _seconds(t0):
        raise UsageError(f"{meta_path}: t0 must be a number of seconds, not {t0!r}")
    timeline = history.read_timeline(run_dir)
    audit = rundir.read_object(run_dir / AUDIT, "audit record", required=False)
    effects = None
    for section, stream, store in (("copier", history.OUTPUT, "output topic"), ("sink", history.EFFECTS, "sink's table")):
        value = scenario.get(section)
        if value is not None and not isinstance(value, dict):
            raise UsageError(f"{scenario_path}: {section} must be a mapping or null, not {type(value).__name__}")
        if value is not None:   # where the effects are
            part = audit.get("output" if section == "copier" else "effects")
            done = audit.get("complete") is True and isinstance(part, dict) and part.get("complete") is True
            effects = {"stream": stream, "complete": done, "store": store, "per_id": value.get("dedup") is True}
    if effects and isinstance(producer, dict) and producer.get("semantic") == "outbox":
        outbox = audit.get("outbox")   # every row the application committed, found by the audit, needs an effect
        effects.update(promise=history.OUTBOX, per_id=True,
                       complete=effects["complete"] and isinstance(outbox, dict) and outbox.get("complete") is True)
    try:
        audited = audit.get("complete") is True
        rows = columns.load(lambda: columns.file_chunks(run_dir / "history"), audited)
        return reconcile(rows, timeline, expect, audited=audited, t0=None if t0 is None else float(t0),
                      max_evidence=max_evidence, warnings=read_warnings(run_dir), transactional=transactional,
                      effects=effects)
    except ValueError as e:
        raise UsageError(f"{scenario_path}: {e}") from None


def verify(histories: dict[str, np.ndarray], timeline: list[dict], expect: dict[str, int | None], *,
           audited: bool, t0: float = 0.0, max_evidence: int = 200, warnings: list[str] = (),
           transactional: bool = False, effects: dict | None = None) -> Verdict:
    """Reconcile all events (any role) against `expect`; times in evidence are seconds since t0.
    `audited`: the LOG events are a complete read of the log (without it they are not used at all).
    `transactional`: the producers wrote in transactions (TXN events say how each ended); a record is then
    promised (acked) only when its transaction committed.
    `effects`: {"stream": the stream whose LOG events are the effects (output topic, sink table), "complete":
    the effects were audited after the copier or sink caught up, "store": its name for messages}."""
    return reconcile(columns.load(lambda: columns.memory_chunks(histories), audited), timeline, expect, audited=audited, t0=t0, max_evidence=max_evidence,
                     warnings=warnings, transactional=transactional, effects=effects)


def reconcile(rows: columns.Rows, timeline: list[dict], expect: dict[str, int | None], *, audited: bool,
              t0: float | None = 0.0, max_evidence: int = 200, warnings: list[str] = (),
              transactional: bool = False, effects: dict | None = None) -> Verdict:
    """verify() over a history already read into columns; t0 None: the earliest event's time."""
    if t0 is None:   # meta.json lost: measure from the first recorded event
        t0 = rows.t_min if rows.t_min is not None else 0.0
    logged = rows.other
    r = _Reconciler(rows, audited, transactional)
    del rows
    counts = {name: 0 for name in COUNT_NAMES}
    counts.update(r.counts)
    if effects is not None:
        rows = logged[logged["stream"] == effects["stream"]]
        promise = logged[logged["stream"] == effects["promise"]] if effects.get("promise") is not None else None
        counts.update(r.effects(rows, effects["complete"] and audited, promise, effects["store"],
                                effects.get("per_id", False)))
    faults = _faults(timeline)
    anomalies = []
    for kind in EVIDENCE_TYPES:
        found = [a for cols in r.evidence.get(kind, []) for a in _runs(kind, *cols)]
        found.sort(key=lambda a: a["t"])
        anomalies.extend(found[:max_evidence])
    anomalies.extend(r.txn_evidence[:max_evidence])
    for a in anomalies:
        a["near_fault"] = _near_fault(faults, a["t"], t0, EVIDENCE_TIME.get(a["type"], "record sent"))
        a["t"] = round(a["t"] - t0, 3)
    anomalies.sort(key=lambda a: a["t"])
    violations = check_expect(counts, expect, unmeasured(effects is not None, transactional))
    incomplete = _incomplete(counts, audited)
    if effects is not None and not (effects["complete"] and audited):
        incomplete.append(f"the {effects['store']} was not audited after everything was copied or applied (the "
                          "copier or sink did not catch up, or no audit): lost and duplicate effects were not checked")
    return Verdict(counts=counts, anomalies=anomalies, violations=violations,
                   passed=not violations and not incomplete, complete=not incomplete,
                   incomplete=incomplete, warnings=list(warnings))


def _incomplete(counts: dict[str, int], audited: bool) -> list[str]:
    """Why some counts could not be measured: a verdict on data nobody checked is never PASSED."""
    out = []
    if not counts["sent"]:
        out.append("no producer history: no record was sent, so nothing was checked")
    elif not counts["acked"] and not counts["unacked_present"]:   # acks=0 promises nothing; what it wrote is checked
        out.append("no record was acknowledged (or committed, in transactions) and none was seen in the log or by "
                   "the consumer: nothing was checked")
    if not audited:
        out.append(f"no complete audit of the log (no {AUDIT}): {counts['unaudited']} acknowledged, unprocessed "
                   "records are unaudited, and loss from the log, log duplicates and reordering were not checked")
    if counts["unread"]:
        out.append(f"the consumer never reached {counts['unread']} acknowledged records that are in the log "
                   "(it stopped before their offsets; raise drain_timeout?): they are unread, not judged")
    return out


class _Reconciler:
    """Computes `counts` and the per-record columns of `evidence` over one concatenated event array.
    Consumes `rows`: the SEND columns are dropped from it once `sent` is known, the ACK and POLL columns
    once the checks that read their rows ran (memory)."""

    def __init__(self, rows: columns.Rows, audited: bool, transactional: bool = False):
        self._groups = self._roster = np.zeros(0, dtype=np.int64)
        self.txn_evidence: list[dict] = []
        self.pids = rows.pids
        S, A, E, R, C = (rows[k] for k in (history.SEND, history.ACK, history.ERROR, history.PROCESS, history.COMMIT))
        L = rows[history.LOG]   # empty without an audit
        ak, rk, lk = A["key"] >= 0, R["key"] >= 0, L["key"] >= 0
        done = R["pos"] >= 0   # processed at a position

        sent, (sent_t,) = _first(S["key"], (S["t"],), S["t"])
        del S, rows.cols[history.SEND]
        akey, at_ = _sel(A["key"], ak), _sel(A["t"], ak)
        acked, (ack_t, ack_pos) = _first(akey, (at_,), at_, _sel(A["pos"], ak))
        del akey, at_
        errored = _distinct(E["key"])
        processed = _distinct(_sel(R["key"], rk))
        lkey, lpos = _sel(L["key"], lk), _sel(L["pos"], lk)
        in_log, (log_pos,) = _first(lkey, (_swap(lpos),), lpos)   # lowest offset, then partition
        txn_counts = {}
        if transactional:   # promised = in a committed transaction, acknowledged one by one or not
            ack_part, ack_off = columns.part_of(ack_pos), columns.off_of(ack_pos)
            ack_pos = None   # replaced by the promised records' ack_part and ack_off below
            X = rows[history.TXN]
            txns = _Transactions(X["key"], X["last"], X["flags"], X["t"], sent, self.pids)
            dpos = R["pos"][done]
            dangling = txns.dangling(acked, ack_part, ack_off, sent, sent_t, columns.part_of(dpos),
                                     columns.off_of(dpos), R["t"][done])
            out_acked, out_sent = txns.outcome(acked), txns.outcome(sent)
            promised = _distinct(np.r_[acked[out_acked == history.TXN_COMMITTED],
                                       sent[out_sent == history.TXN_COMMITTED]])
            ack_t = _lookup(acked, ack_t, promised, default=_lookup(sent, sent_t, promised, default=0.0))
            ack_part = _lookup(acked, ack_part, promised, default=-1).astype(np.int64)
            ack_off = _lookup(acked, ack_off, promised, default=-1).astype(np.int64)
            acked = promised
            aborted = sent[out_sent == history.TXN_ABORTED]
            seen_aborted = processed[_member(processed, aborted)]
            self.txn_evidence = txns.torn(in_log, audited)
            txn_counts = {"aborted": len(aborted), "aborted_reads": len(seen_aborted),
                          "torn_transactions": len(self.txn_evidence), "dangling_transactions": len(dangling)}
            self.txn_evidence += dangling

        # lost: acked, then absent from the audit (processed or not), or present and never processed
        ai = np.flatnonzero(~_member(acked, processed))
        unprocessed = acked[ai]
        if audited:
            gone = ~_member(acked, in_log)
            stays = unprocessed[_member(unprocessed, in_log)]
            si = np.searchsorted(in_log, stays)
            reach = _Reach(_sel(R["pos"], done), C["pos"])
            stay_part, stay_off = columns.part_of(log_pos[si]), columns.off_of(log_pos[si])
            beyond = stay_off >= reach.of(stay_part)
            skipped, unread = ~beyond, beyond
        else:
            gone = np.zeros(len(acked), dtype=bool)
            stays = stay_part = stay_off = np.zeros(0, dtype=np.int64)
            skipped = unread = np.zeros(0, dtype=bool)
        del log_pos, ak, lk   # their last use: not held through the checks below

        # evidence runs group records by every position known for them, acknowledged ones included
        seen = [rows[k] for k in (history.ACK, history.POLL, history.PROCESS, history.LOG)]
        self._set_roster([(c["key"], c["pos"]) for c in seen])
        inconsistent = self._inconsistent(seen)
        foreigners = self._foreign(seen[1:])   # polled, processed or in the log
        processed_or_logged = seen[2:]
        # no check below reads the acknowledgements' or polls' rows: freed before the log's checks (memory)
        del A, seen, rows.cols[history.ACK], rows.cols[history.POLL]
        if ack_pos is not None:   # derived only now: two whole columns less during the checks above
            ack_part, ack_off = columns.part_of(ack_pos), columns.off_of(ack_pos)
        del ack_pos
        send_time = _SendTime(sent, sent_t, acked, ack_t)
        self._promised, self._ack_part, self._ack_off, self._send_time = acked, ack_part, ack_off, send_time
        self._audited = audited
        self._log_keys = in_log   # the records in the audited log (none without an audit)
        self._log_copied = self._log_copies = np.zeros(0, dtype=np.int64)   # set by _log_duplicates (audited)
        self._aborted = aborted if transactional else np.zeros(0, dtype=np.int64)

        if audited:
            dups = self._log_duplicates(lkey, lpos, send_time)
            reordered = self._reordered(lkey, lpos, send_time)
            del lkey, lpos
        else:
            dups = reordered = (0, self._cols([], -1, -1, 0.0))
        ui = ai if not audited else ai[:0]      # without an audit, unprocessed means unknown, not lost
        unaudited = acked[ui]
        gk = acked[gone]
        unacked = sent[~_member(sent, acked)]
        present = _member(unacked, in_log) | _member(unacked, processed)
        missing = int((~present).sum()) if audited else 0   # absent from the log: only an audit can say
        rd = rk & done
        reprocessed = self._reprocessed(_sel(R["key"], rd), _sel(R["pos"], rd), _sel(R["t"], rd))
        del rd
        phantoms = self._phantoms(processed_or_logged, sent)

        self.evidence = {
            "lost": [self._cols(gk, ack_part[gone], ack_off[gone], send_time.of(gk), where="from_log"),
                     self._cols(stays[skipped], stay_part[skipped], stay_off[skipped],
                                send_time.of(stays[skipped]), where="in_log")],
            "unread": [self._cols(stays[unread], stay_part[unread], stay_off[unread],
                                  send_time.of(stays[unread]))],
            "unaudited": [self._cols(unaudited, ack_part[ui], ack_off[ui], send_time.of(unaudited))],
            "log_duplicate": [dups[1]], "reprocessed": [reprocessed[1]], "reordered": [reordered[1]],
            "inconsistent_offset": [inconsistent[1]], "phantom": [phantoms[1]], "foreign": [foreigners[1]],
        }
        if transactional:
            pm = rk & done
            pm[pm] = _member(R["key"][pm], seen_aborted)
            ak_, (ap, at) = _first(R["key"][pm], (R["t"][pm],), R["pos"][pm], R["t"][pm])
            self.evidence["aborted_read"] = [self._cols(ak_, columns.part_of(ap), columns.off_of(ap), at)]
        self.counts = {
            "sent": len(sent), "acked": len(acked), "errors": int((~_member(errored, acked)).sum()),
            "consumed": len(processed), "lost": int(gone.sum() + skipped.sum()),
            "lost_from_log": int(gone.sum()), "lost_in_log": int(skipped.sum()), "unread": int(unread.sum()),
            "unaudited": len(unaudited), "unacked_present": int(present.sum()),
            "unacked_missing": missing, "log_duplicates": dups[0],
            "reprocessed": reprocessed[0], "duplicates": dups[0] + reprocessed[0], "reordered": reordered[0],
            "inconsistent_offsets": inconsistent[0], "phantoms": phantoms[0], "foreign": foreigners[0],
            **txn_counts,
        }

    def _keys(self, rows: np.ndarray):
        """(keys, mask of rows kept): the rows of this run's records, keyed as the topic's records are."""
        pid, seq = rows["pid"], rows["seq"]
        ours = (pid != history.FOREIGN_PID) & (pid != history.UNKNOWN_PID) & (seq >= 0) & (seq <= _SEQ_MASK)
        code = np.minimum(np.searchsorted(self.pids, pid), max(len(self.pids) - 1, 0)) if len(self.pids) \
            else np.zeros(len(pid), dtype=np.int64)
        ours &= (self.pids[code] == pid) if len(self.pids) else False
        return (code[ours].astype(np.int64) << _SEQ_BITS) | (seq[ours] & _SEQ_MASK), ours

    def effects(self, rows: np.ndarray, judged: bool, promise: np.ndarray | None = None,
                store: str = "output topic", per_id: bool = False) -> dict[str, int]:
        """Effects downstream (LOG events of the effects stream: the output topic's read_committed audit, or the
        sink table's rows). Each acknowledged (committed) record in the audited log needs one effect per copy
        of it in the log (a log duplicate is two inputs; one loss from the log is `lost`, not blamed on the
        copier or sink again); with `per_id` (a deduplicating sink, an outbox) exactly one per record. With
        `promise` (outbox rows the application committed) those records need one too, in the log or not.
        Evidence is placed at the record's position in the topic, the effects' positions beside it."""
        zero = {"effects": 0, "lost_effects": 0, "duplicate_effects": 0, "aborted_effects": 0}
        if not judged:
            return zero
        key, ours = self._keys(rows)
        part, off = rows["partition"][ours].astype(np.int64), rows["offset"][ours]
        needed = self._promised[_member(self._promised, self._log_keys)] if self._audited else self._promised
        promise_t = (np.zeros(0, dtype=np.int64), np.zeros(0))
        if promise is not None:
            pk, pm = self._keys(promise)
            pk, (pt,) = _first(pk, (promise["t"][pm],), promise["t"][pm])
            needed, promise_t = _distinct(np.r_[needed, pk]), (pk, pt)
        o = np.lexsort((off, part, key))
        key, part, off = key[o], part[o], off[o]
        starts = np.flatnonzero(_changes(key))
        applied, n = key[starts], np.diff(np.r_[starts, len(key)])
        allowed = np.ones(len(applied), dtype=np.int64) if per_id else \
            np.maximum(1, _lookup(self._log_copied, self._log_copies, applied, default=1).astype(np.int64))
        extra = n - allowed
        d = starts[extra > 0] + allowed[extra > 0]   # the first effect past the allowed ones
        dk = key[d]
        lk = needed[~_member(needed, applied)]
        ak = applied[_member(applied, self._aborted)]
        at = lambda k, cols: _lookup(self._promised, cols, k, default=-1).astype(np.int64)  # noqa: E731
        sent_t = self._send_time.of(lk)
        lost_t = np.where(sent_t > 0, sent_t, _lookup(promise_t[0], promise_t[1], lk, default=0.0))
        self.evidence["lost_effect"] = [self._cols(lk, at(lk, self._ack_part), at(lk, self._ack_off), lost_t,
                                                   by_seq=True)]
        self.evidence["duplicate_effect"] = [self._cols(dk, at(dk, self._ack_part), at(dk, self._ack_off),
                                                        self._send_time.of(dk), effect_offsets=off[d],
                                                        effect_partition=part[d], store=store)]
        ai = starts[_member(applied, self._aborted)]
        self.evidence["aborted_effect"] = [self._cols(ak, part[ai], off[ai], self._send_time.of(ak), store=store)]
        return {"effects": len(applied), "lost_effects": len(lk), "duplicate_effects": int(extra[extra > 0].sum()),
                "aborted_effects": len(ak)}

    def _set_roster(self, seen):
        """Rank of each record among its producer's records in a partition: evidence runs are contiguous
        in that order, so a range survives a producer spreading seqs over partitions. Built kind by kind
        from the distinct (record, partition) pairs of every placed row (no array of all rows at once)."""
        none = np.zeros(0, dtype=np.int64)
        pairs = [_distinct(_group(k, p >> columns.POS_BITS)) for key, pos in seen for k, p in _placed(key, pos)]
        self._groups = _distinct(np.concatenate(pairs + [none]))
        roster = np.zeros(0, dtype=np.int64)
        for key, pos in seen:
            ranks = _distinct(np.concatenate([self._ranks(k, p) for k, p in _placed(key, pos)] + [none]))
            if len(roster):   # kinds mostly repeat the records of the kinds before: add only the new ones
                ranks = ranks[~_member(ranks, roster)]
                roster = _distinct(np.r_[roster, ranks]) if len(ranks) else roster
            else:
                roster = ranks
        self._roster = roster

    def _ranks(self, key, pos):
        """(group index << _SEQ_BITS) | seq of placed records: where _set_roster ranks them."""
        gi = np.searchsorted(self._groups, _group(key, pos >> columns.POS_BITS)).astype(np.int64, copy=False)
        return (gi << _SEQ_BITS) | (key & _SEQ_MASK)

    def _log_duplicates(self, key, pos, send_time):
        """A record at more than one offset of the audited log: each copy past the first, and evidence. Keeps each
        record's number of positions for `effects`."""
        key, pos = _pairs(key, pos)
        starts = np.flatnonzero(_changes(key))
        copies = np.diff(np.r_[starts, len(key)])
        several = copies > 1   # records at several positions, and how many (effects may have as many inputs)
        self._log_copied, self._log_copies = key[starts[several]], copies[several]
        many = np.repeat(copies > 1, copies)   # the few records at several positions: order them by offset
        if many.any():
            i = np.flatnonzero(many)
            sub = i[np.lexsort((_swap(pos[i]), key[i]))]
            key[i], pos[i] = key[sub], pos[sub]
        d = starts[copies > 1]
        dk = key[d]
        part, off = columns.part_of(pos[d]), columns.off_of(pos[d])
        return len(key) - len(starts), self._cols(dk, part, off, send_time.of(dk),
                                                  copy_offsets=columns.off_of(pos[d + 1]))

    def _reordered(self, key, pos, send_time):
        """Per producer and partition, walking the audited log by each record's first offset: the fewest
        records to remove so that seqs rise (n minus the longest increasing subsequence). The count does
        not depend on direction: one record ahead of ten and one behind ten both count 1."""
        key, pos = _pairs(key, pos)
        head = _changes(key, pos >> columns.POS_BITS)
        k2, f2 = _sel(key, head), _sel(pos, head)
        del key, pos, head
        g = self._group_codes(_group(k2, f2 >> columns.POS_BITS))
        o = _by_group_then_offset(g, f2)
        val = g[o]   # group above the seq bits: one array-wide pass (built in place: no whole-column temporaries)
        del g
        val <<= _SEQ_BITS
        seq = k2[o]
        seq &= _SEQ_MASK
        val |= seq
        del seq
        if not len(val):
            return 0, self._cols([], -1, -1, 0.0)
        # a record above all before it and below all after it is in every longest increasing
        # subsequence's company: only the others need the (Python) patience sort
        sure = np.empty(len(val), dtype=bool)
        sure[0] = True
        np.greater(val[1:], np.maximum.accumulate(val)[:-1], out=sure[1:])
        sure[:-1] &= val[:-1] < np.minimum.accumulate(val[::-1])[::-1][1:]
        sure[-1] &= val[-1] < np.iinfo(np.int64).max
        doubtful = np.flatnonzero(~sure)
        del sure
        removed = o[doubtful[~_increasing_members(val[doubtful])]] if len(doubtful) else doubtful
        rk = k2[removed]
        return len(removed), self._cols(rk, f2[removed] >> columns.POS_BITS, columns.off_of(f2[removed]),
                                        send_time.of(rk))

    def _group_codes(self, groups: np.ndarray) -> np.ndarray:
        """Codes of groups that order as the groups do: their index in the roster's sorted groups (which
        hold every placed row's group: every log row is, the loader refusing an offset without a partition),
        sparing the sort of _codes; _codes when they could pass the 23 bits that _reordered packs them in."""
        if len(self._groups) >= columns.MAX_PARTITION:
            return _codes(groups)[1]
        return np.searchsorted(self._groups, groups).astype(np.int64, copy=False)

    def _reprocessed(self, key, pos, t):
        """The same record at the same offset processed more than once; t is the first re-processing.
        (Keyed by record and offset: a different record at a reused offset is not a re-delivery.)"""
        s = np.sort(key, kind="stable")
        again = s[1:][s[1:] == s[:-1]]   # records processed more than once: only they need the full sort
        m = _member(key, _distinct(again))
        key, pos, t = key[m], pos[m], t[m]
        o = np.lexsort((t, pos, key))
        key, pos, t = key[o], pos[o], t[o]
        starts = np.flatnonzero(_changes(key, pos))
        r = starts[np.diff(np.r_[starts, len(key)]) > 1]
        return len(key) - len(starts), self._cols(key[r], columns.part_of(pos[r]), columns.off_of(pos[r]), t[r + 1])

    def _inconsistent(self, seen):
        """Offsets that held different records during the run (acknowledged or polled as one record, read by
        the audit as another): the sign of a truncation. Evidence names the record seen there first (ties in
        time: acknowledgements, polls, processing, the audit, in that order). Kind by kind: each kind's
        positions and the record there are merged into one table, so no array holds every row."""
        at, ident, bad = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), []
        for c in seen:
            m = c["pos"] >= 0
            pos, who = _sel(c["pos"], m), _sel(c["key"], m)
            if not len(at):   # the first kind's positions are the table
                at, ident = _by_position(pos, who, bad)
                continue
            # a row at a position of the table holding another record is inconsistent, whether its kind holds
            # one record there or several (they cannot all be the table's); only the rest are sorted
            hit = _found(at, ident, pos, who, bad)
            if hit.all():   # the usual case: every position was seen by a kind before (no merge, no sort)
                continue
            pos, who = _by_position(pos[~hit], who[~hit], bad)   # the new positions, none in the table
            at_, ident_ = at, ident
            del at, ident, hit
            where = np.searchsorted(at_, pos)   # the table stays sorted: insert them in place of a re-sort
            at, ident = np.insert(at_, where, pos), np.insert(ident_, where, who)
            del at_, ident_, where
        del at, ident, pos, who
        bad = _distinct(np.concatenate(bad))
        rows = [(c["pos"][h], c["key"][h], c["t"][h]) for c in seen for h in [_member(c["pos"], bad) & (c["pos"] >= 0)]]
        pos, who, t = (np.concatenate([r[i] for r in rows]) for i in range(3))
        pos, (first, first_t) = _first(pos, (t,), who, t)
        keys = np.maximum(first, -1)   # a foreign record shows as an unparseable one
        return len(bad), self._cols(keys, columns.part_of(pos), columns.off_of(pos), first_t)

    @staticmethod
    def _first_at(kinds, which):
        """Distinct positions of the rows `which(key)` of `kinds`, each with its earliest time."""
        rows = [(c["pos"][m], c["t"][m]) for c in kinds for m in [which(c["key"]) & (c["pos"] >= 0)]]
        pos = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, dtype=np.int64)
        t = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0)
        pos, (tt,) = _first(pos, (t,), t)
        return columns.part_of(pos), columns.off_of(pos), tt

    def _foreign(self, in_topic):
        """Offsets holding records of another run or tool: counted apart, never as ours."""
        pp, oo, tt = self._first_at(in_topic, lambda k: k == columns.FOREIGN)
        return len(pp), self._cols(np.full(len(pp), -1, np.int64), pp, oo, tt)

    def _phantoms(self, kinds, sent):
        """This run's records processed or in the audited log, never sent; unparseable ones per position."""
        rows = [(c["key"][m], c["pos"][m], c["t"][m]) for c in kinds
                for m in [(c["key"] >= 0) & (c["pos"] >= 0)] for m in [_unsent(m, c["key"], sent)]]
        key, pos, t = (np.concatenate([r[i] for r in rows]) for i in range(3))
        kk, (pk, tt) = _first(key, (t,), pos, t)
        up, uo, ut = self._first_at(kinds, lambda k: k == columns.UNPARSED)
        cols = self._cols(np.r_[kk, np.full(len(up), -1, np.int64)], np.r_[columns.part_of(pk), up],
                          np.r_[columns.off_of(pk), uo], np.r_[tt, ut])
        return len(kk) + len(up), cols

    def _cols(self, keys, part, off, t, by_seq: bool = False, **extra):
        """Per-record columns for _runs: pid, seq (-1 unparseable), partition, offset (-1 none), t, extras.
        `by_seq`: records missing from the roster run along their seqs (outbox rows never published)."""
        keys = np.asarray(keys, dtype=np.int64)
        unknown = keys < 0
        pid = np.where(unknown, history.UNKNOWN_PID,
                       self.pids[np.where(unknown, 0, keys >> _SEQ_BITS)] if len(self.pids) else 0)
        seq = np.where(unknown, -1, keys & _SEQ_MASK)
        n = len(keys)
        part, off, t = np.broadcast_to(part, n), np.broadcast_to(off, n), np.broadcast_to(t, n)
        group = _group(keys, part)
        gi = np.minimum(np.searchsorted(self._groups, group), max(len(self._groups) - 1, 0))
        hit = ~unknown & (self._groups[gi] == group) if len(self._groups) else np.zeros(n, dtype=bool)
        rank = np.searchsorted(self._roster, (gi.astype(np.int64) << _SEQ_BITS) | seq)
        # unparseable records run along offsets; a record missing from the roster stands alone
        alone = seq - (1 << 42) if by_seq else -2 * np.arange(n) - 2   # below every rank: never joins one
        ordinal = np.where(hit, rank, np.where(unknown, off, alone))
        return (pid.astype(np.int64), seq, ordinal, part, off, t, extra)


class _Transactions:
    """The transactions of a run: for each, its producer's seq range and outcome (a TXN event each; the
    records a producer sent after its last TXN event form one open transaction, outcome unknown: the
    producer died in it and the coordinator decides)."""

    def __init__(self, first_keys, last_seqs, outcomes, times, sent, pids):
        code = first_keys >> _SEQ_BITS
        starts, ends = first_keys, (code << _SEQ_BITS) | (last_seqs & _SEQ_MASK)
        # per producer: records sent past the last range that a TXN event closed
        sent_code = sent >> _SEQ_BITS
        open_starts, open_ends = [], []
        for c in np.unique(sent_code).tolist():
            mine = sent[sent_code == c]
            closed = ends[code == c]
            after = int(closed.max()) + 1 if len(closed) else (c << _SEQ_BITS)
            if mine[-1] >= after:
                open_starts.append(after)
                open_ends.append(int(mine[-1]))
        self.starts = np.r_[starts, np.array(open_starts, dtype=np.int64)]
        self.ends = np.r_[ends, np.array(open_ends, dtype=np.int64)]
        self.outcomes = np.r_[outcomes.astype(np.int64), np.full(len(open_starts), history.TXN_UNKNOWN)]
        self.opened = np.r_[np.zeros(len(starts), dtype=bool), np.ones(len(open_starts), dtype=bool)]
        self.times = np.r_[times, np.full(len(open_starts), np.nan)]
        o = np.argsort(self.starts, kind="stable")
        self.starts, self.ends, self.outcomes, self.times = self.starts[o], self.ends[o], self.outcomes[o], self.times[o]
        self.opened = self.opened[o]
        self.sent, self.pids = sent, pids

    def outcome(self, keys: np.ndarray) -> np.ndarray:
        """Outcome of each record's transaction (TXN_UNKNOWN where no transaction covers it)."""
        i = np.searchsorted(self.starts, keys, side="right") - 1
        inside = (i >= 0) & (keys <= self.ends[np.maximum(i, 0)]) if len(self.starts) else np.zeros(len(keys), bool)
        return np.where(inside, self.outcomes[np.maximum(i, 0)] if len(self.starts) else 0, history.TXN_UNKNOWN)

    def dangling(self, acked, ack_part, ack_off, sent, sent_t, proc_part, proc_off, proc_t) -> list[dict]:
        """Transactions a producer left open (it died in them; no TXN event): the partitions' last stable offset
        stays behind them until the coordinator aborts them after transaction_timeout, and read_committed
        readers wait. Evidence says how long: from the transaction's last send to the first record processed
        past its last acknowledged offset, on the partition that waited longest (none: until the run ended)."""
        out = []
        for i in np.flatnonzero(self.opened).tolist():
            lo, hi = self.starts[i], self.ends[i]
            mine = (acked >= lo) & (acked <= hi)
            last_send = float(_lookup(sent, sent_t, np.array([hi]), default=np.nan)[0])
            waits = []
            for p in np.unique(ack_part[mine]).tolist():
                top = int(ack_off[mine][ack_part[mine] == p].max())
                later = proc_t[(proc_part == p) & (proc_off > top)]
                waits.append(float(later.min()) - last_send if len(later) else None)
            longest = None if None in waits or not waits else max(waits)   # no ack: not measured
            blocked = (f"{longest:.1f} s" if longest is not None else "until the end of the run" if waits
                       else "for an unmeasured time (none of its records was acknowledged)")
            first = int(np.searchsorted(sent, lo))
            last = int(np.searchsorted(sent, hi, "right"))
            out.append({"type": "dangling_transaction", "pid": int(self.pids[lo >> _SEQ_BITS]),
                        "seq_first": int(lo & _SEQ_MASK), "seq_last": int(hi & _SEQ_MASK), "records": last - first,
                        "partition": -1, "offsets": None, "t": last_send if np.isfinite(last_send) else 0.0,
                        "blocked_s": None if longest is None else round(longest, 3),
                        "detail": f"left open by its producer; read_committed readers blocked {blocked}"})
        return out

    def torn(self, in_log: np.ndarray, audited: bool) -> list[dict]:
        """Transactions whose visibility in the read_committed audit disagrees with how they ended:
        committed and not whole, aborted and seen at all, unknown and seen in part."""
        if not audited or not len(self.starts):
            return []
        sent_n = np.searchsorted(self.sent, self.ends, "right") - np.searchsorted(self.sent, self.starts, "left")
        seen_n = np.searchsorted(in_log, self.ends, "right") - np.searchsorted(in_log, self.starts, "left")
        bad = np.where(self.outcomes == history.TXN_COMMITTED, seen_n < sent_n,
                       np.where(self.outcomes == history.TXN_ABORTED, seen_n > 0, (seen_n > 0) & (seen_n < sent_n)))
        out = []
        for i in np.flatnonzero(bad & (sent_n > 0)).tolist():
            outcome = history.TXN_OUTCOMES.get(int(self.outcomes[i]), "unknown")
            t = self.times[i]
            out.append({"type": "torn_transaction", "pid": int(self.pids[self.starts[i] >> _SEQ_BITS]),
                        "seq_first": int(self.starts[i] & _SEQ_MASK), "seq_last": int(self.ends[i] & _SEQ_MASK),
                        "records": int(sent_n[i]), "partition": -1, "offsets": None,
                        "t": float(t) if np.isfinite(t) else 0.0,
                        "detail": f"{outcome}, {int(seen_n[i])} of {int(sent_n[i])} in the log"})
        return out


class _SendTime:
    """When a record was sent (its ack time where the SEND is missing): the time evidence is shown at."""

    def __init__(self, sent, sent_t, acked, ack_t):
        self.sent, self.sent_t, self.acked, self.ack_t = sent, sent_t, acked, ack_t

    def of(self, keys: np.ndarray) -> np.ndarray:
        keys = np.asarray(keys, dtype=np.int64)
        return _lookup(self.sent, self.sent_t, keys, default=_lookup(self.acked, self.ack_t, keys, default=0.0))


class _Reach:
    """How far the application's group got in each partition: past the highest offset it processed, or its
    highest commit (the audit records the group's final committed offsets too, for auto-commit). An
    unprocessed record below is skipped for good (the group will not deliver it again); at or above, the
    group simply never got there (polled, not processed, not committed: a restart would deliver it)."""

    def __init__(self, done_pos, commit_pos):
        # past the highest offset processed (a position + 1 stays in its partition), or the highest commit
        ends = np.sort(np.r_[done_pos + 1, commit_pos], kind="stable")
        part = ends >> columns.POS_BITS
        last = np.r_[part[1:] != part[:-1], True] if len(part) else np.zeros(0, dtype=bool)
        self.parts, self.ends = part[last], columns.off_of(ends[last])

    def of(self, part: np.ndarray) -> np.ndarray:
        if not len(self.parts):
            return np.zeros(len(part), dtype=np.int64)
        i = np.minimum(np.searchsorted(self.parts, part), len(self.parts) - 1)
        return np.where(self.parts[i] == part, self.ends[i], 0)


def _increasing_members(vals: np.ndarray) -> np.ndarray:
    """Which elements of `vals` (distinct) form one longest strictly increasing subsequence (patience sort)."""
    tails, tail_at, parent = [], [], [-1] * len(vals)
    for i, v in enumerate(vals.tolist()):
        j = bisect.bisect_left(tails, v)
        parent[i] = tail_at[j - 1] if j else -1
        if j == len(tails):
            tails.append(v)
            tail_at.append(i)
        else:
            tails[j], tail_at[j] = v, i
    keep = np.zeros(len(vals), dtype=bool)
    i = tail_at[-1] if tail_at else -1
    while i >= 0:
        keep[i] = True
        i = parent[i]
    return keep


def _runs(kind: str, pid, seq, ordinal, part, off, t, extra: dict) -> list[dict]:
    """One item per contiguous run: same pid and partition, consecutive ordinals (see _Reconciler._cols)."""
    n = len(pid)
    if n == 0:
        return []
    o = np.lexsort((ordinal, part, pid))
    pid, seq, part, off, t, ordinal = pid[o], seq[o], part[o], off[o], t[o], ordinal[o]
    arrays = {name: np.asarray(v)[o] for name, v in extra.items() if not isinstance(v, str)}
    brk = np.r_[True, (pid[1:] != pid[:-1]) | (part[1:] != part[:-1]) | (ordinal[1:] != ordinal[:-1] + 1)]
    starts = np.flatnonzero(brk)
    ends = np.r_[starts[1:], n] - 1
    out = []
    for s, e in zip(starts.tolist(), ends.tolist()):
        a = {"type": kind, "pid": int(pid[s]), "seq_first": int(seq[s]), "seq_last": int(seq[e]),
             "records": e - s + 1, "partition": int(part[s]),
             "offsets": [int(off[s]), int(off[e])] if off[s] >= 0 and off[e] >= 0 else None,
             "t": float(t[s])}
        a.update({k: v for k, v in extra.items() if isinstance(v, str)})
        a.update({k: [int(v[s]), int(v[e])] for k, v in arrays.items()})
        out.append(a)
    return out


def _order(keys: np.ndarray, by: tuple) -> np.ndarray:
    """Row order by keys, then by `by` (last = primary; ties keep row order). Only the rows of keys that
    occur more than once are ordered by `by`: most keys occur once, and a stable sort of nearly sorted
    keys is fast where a lexsort of every row is not."""
    o = np.argsort(keys, kind="stable")
    sk = keys[o]
    same = sk[1:] == sk[:-1]
    if same.any():
        i = np.flatnonzero(np.r_[same, False] | np.r_[False, same])
        sub = o[i]
        o[i] = sub[np.lexsort(tuple(b[sub] for b in by) + (keys[sub],))]
    return o


def _first(keys: np.ndarray, by: tuple, *cols: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sorted distinct keys and, for each, `cols` at its row ordered first by `by` (last = primary)."""
    o = _order(keys, by)
    rows = o[_changes(keys[o])]
    return keys[rows], [c[rows] for c in cols]


def _pairs(key: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (record, position) pairs sorted by record, then position."""
    if _ascending(key):   # each record once, in order
        return key, pos
    o = _order(key, (pos,))
    key, pos = key[o], pos[o]
    del o
    new = _changes(key, pos)
    return _sel(key, new), _sel(pos, new)


def _by_group_then_offset(g: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Row order by group code, then position (ties keep row order). A group is one partition, so the
    position orders as its offset: packed as (group << POS_BITS) | offset, one stable argsort replaces a
    two-column lexsort, exactly, while the group codes fit the 23 bits left."""
    if len(g) and int(g.max()) >= columns.MAX_PARTITION:
        return np.lexsort((pos, g))
    return np.argsort((g << columns.POS_BITS) | (pos & ((1 << columns.POS_BITS) - 1)), kind="stable")


def _by_position(pos: np.ndarray, who: np.ndarray, bad: list) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct positions and the record of each one's first row; appends to `bad` the positions
    whose rows hold more than one record."""
    o = np.argsort(pos, kind="stable")
    pos, who = pos[o], who[o]
    del o
    new = _changes(pos)
    again = np.flatnonzero(~new)   # rows at the position of the row before (never the first row)
    bad.append(pos[again[who[again] != who[again - 1]]])
    return _sel(pos, new), _sel(who, new)


def _found(at: np.ndarray, ident: np.ndarray, pos: np.ndarray, who: np.ndarray, bad: list) -> np.ndarray:
    """Which positions `pos` are in the sorted distinct `at`; appends to `bad` those where `ident` (the record
    at `at`) is not `who`. A slice at a time, so the index arrays stay small beside whole columns."""
    hit = np.empty(len(pos), dtype=bool)
    for s in range(0, len(pos), columns.CHUNK):
        p, w = pos[s:s + columns.CHUNK], who[s:s + columns.CHUNK]
        j = np.minimum(np.searchsorted(at, p), len(at) - 1)
        h = hit[s:s + columns.CHUNK]
        np.equal(at[j], p, out=h)
        bad.append(p[h & (ident[j] != w)])
    return hit


def _placed(key: np.ndarray, pos: np.ndarray):
    """(key, pos) of the rows of this run's records at a position, columns.CHUNK rows at a time: the
    temporaries of a whole-column expression over them would be as long as the columns."""
    for s in range(0, len(key), columns.CHUNK):
        k, p = key[s:s + columns.CHUNK], pos[s:s + columns.CHUNK]
        m = (k >= 0) & (p >= 0)
        yield _sel(k, m), _sel(p, m)


def _sel(a: np.ndarray, m: np.ndarray) -> np.ndarray:
    """a[m], without the copy when m keeps every row (the usual case: most rows are this run's records)."""
    return a if m.all() else a[m]


def _ascending(a: np.ndarray) -> bool:
    """Strictly increasing (a cheap test that spares a sort)."""
    return bool((a[1:] > a[:-1]).all())


def _swap(pos: np.ndarray) -> np.ndarray:
    """Positions as one int64 that orders by offset, then partition."""
    return (columns.off_of(pos) << 23) | columns.part_of(pos)


def _unsent(m: np.ndarray, key: np.ndarray, sent: np.ndarray) -> np.ndarray:
    """Mask `m` narrowed to the records never sent."""
    m = m.copy()
    m[m] = ~_member(key[m], sent)
    return m


def _group(keys: np.ndarray, part: np.ndarray) -> np.ndarray:
    """(pid code, partition) of records as one int64."""
    return ((keys >> _SEQ_BITS) << 32) | (part & 0xFFFFFFFF)


def _distinct(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique's hash path is many times slower than a sort here)."""
    s = np.sort(a, kind="stable")   # timsort: fast on the nearly sorted columns of a history
    return _sel(s, _changes(s))      # s is our own copy: returned as is when already distinct


def _codes(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and, for each element, the int64 index of its value among them."""
    if len(a) and a.dtype.kind == "u" and int(a.max()) < 1 << 22:   # small ids: use them as codes
        codes = a.astype(np.int64)
        return np.arange(int(a.max()) + 1, dtype=a.dtype), codes
    o = np.argsort(a, kind="stable")
    head = _changes(a[o])
    codes = np.empty(len(a), dtype=np.int64)
    codes[o] = np.cumsum(head) - 1
    return a[o][head], codes


def _changes(*cols: np.ndarray) -> np.ndarray:
    """True where a sorted row differs from the one before it (and at the first row)."""
    n = len(cols[0])
    if n == 0:
        return np.zeros(0, dtype=bool)
    out = np.zeros(n, dtype=bool)
    out[0] = True
    for c in cols:
        out[1:] |= c[1:] != c[:-1]
    return out


def _member(query: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """query in keys, for sorted distinct `keys` (np.isin would first np.unique the query)."""
    out = np.zeros(len(query), dtype=bool)
    if not len(keys):
        return out
    for s in range(0, len(query), columns.CHUNK):   # a slice at a time: no index array as long as the query
        q = query[s:s + columns.CHUNK]
        np.equal(keys[np.minimum(np.searchsorted(keys, q), len(keys) - 1)], q, out=out[s:s + columns.CHUNK])
    return out


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray, default) -> np.ndarray:
    """values[keys == query] for sorted distinct `keys`; `default` (scalar or per query) where absent."""
    i = np.minimum(np.searchsorted(keys, query), max(len(keys) - 1, 0))
    hit = keys[i] == query if len(keys) else np.zeros(len(query), dtype=bool)
    return np.where(hit, values[i] if len(keys) else 0, default).astype(np.float64)


def _faults(timeline: list[dict]) -> tuple[np.ndarray, list[dict]]:
    """Applied faults sorted by time (an apply that reported ok=false injected nothing)."""
    applied = []
    for e in timeline:
        at = e.get("t_applied", e.get("t_scheduled"))
        if e.get("event") == "apply" and e.get("ok", True) is not False and _seconds(at):
            applied.append((float(at), e))
    applied.sort(key=lambda p: p[0])
    return np.array([a for a, _ in applied], dtype=np.float64), [e for _, e in applied]


def _seconds(value) -> bool:
    """A time a run directory may hold: a number (never a bool) below 1e15, so NaN, infinities and integers too
    large for a float are refused (np.isfinite and math.isfinite raise on those integers)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) < 1e15


def _near_fault(faults: tuple[np.ndarray, list[dict]], t: float, t0: float, when: str = "record sent") -> str | None:
    """'kill leader(chaos,0) -> broker 2 at +12.3s (record sent 0.4s after it)': the applied fault
    nearest to t, the anomaly's time (`when` says what happened then: EVIDENCE_TIME)."""
    times, entries = faults
    if not len(times):
        return None
    i = int(np.searchsorted(times, t))
    i = min((j for j in (i - 1, i) if 0 <= j < len(times)), key=lambda j: abs(times[j] - t))
    e, at = entries[i], float(times[i])
    what = f"{e.get('action', '?')} {e.get('target', '?')}"
    if e.get("resolved"):
        what += f" -> {e['resolved']}"
    return f"{what} at +{at - t0:.1f}s ({when} {abs(t - at):.1f}s {'after' if t >= at else 'before'} it)"


