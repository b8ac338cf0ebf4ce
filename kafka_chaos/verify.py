"""Reconcile a run's recorded history into a Verdict: what was lost, duplicated, reordered or made up.

A pure function over arrays (the verifier never talks to the cluster): every count is a sort, a
distinct or a binary-search membership over whole columns, so 1M records (5M events) reconcile in
about 2 s on one core; Python loops run only over the evidence emitted (`max_evidence` per type).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kafka_chaos import history
from kafka_chaos.errors import UsageError

COUNT_NAMES = ("sent", "acked", "errors", "consumed", "lost", "lost_in_log", "lost_from_log",
               "unacked_present", "unacked_missing", "duplicates", "log_duplicates", "reprocessed",
               "reordered", "phantoms", "aborted_reads", "torn_transactions")
EVIDENCE_TYPES = ("lost", "log_duplicate", "reprocessed", "reordered", "phantom")

# A record's key is (compact pid code << _SEQ_BITS) | seq: one int64 that sorts by pid, then seq.
_SEQ_BITS = 40
_SEQ_MASK = (1 << _SEQ_BITS) - 1


@dataclass(frozen=True)
class Verdict:
    counts: dict[str, int]      # every COUNT_NAMES key
    anomalies: list[dict]       # evidence ranges, sorted by t
    violations: list[dict]      # [{"count": "lost", "value": 12, "bound": 0}]
    passed: bool                # no violations

    def to_dict(self) -> dict:
        return {"passed": self.passed, "counts": dict(self.counts),
                "violations": [dict(v) for v in self.violations],
                "anomalies": [dict(a) for a in self.anomalies]}


def check_expect(counts: dict[str, int], expect: dict[str, int | None]) -> list[dict]:
    """Violations of `expect` (count name -> upper bound, None = any value); unknown names raise ValueError."""
    violations = []
    for name, bound in expect.items():
        if name not in COUNT_NAMES:
            raise ValueError(f"expect: unknown count {name!r} (known: {', '.join(COUNT_NAMES)})")
        if bound is None:
            continue
        if isinstance(bound, bool) or not isinstance(bound, (int, np.integer)) or bound < 0:
            raise ValueError(f"expect: bound of {name!r} must be a non-negative integer or null, not {bound!r}")
        if counts[name] > bound:
            violations.append({"count": name, "value": int(counts[name]), "bound": int(bound)})
    return violations


def verify_run_dir(run_dir: Path, max_evidence: int = 200) -> Verdict:
    """Verdict of a run directory: history/, timeline.jsonl, scenario.json's "expect", meta.json's "t0"."""
    run_dir = Path(run_dir)
    if not (run_dir / "history").is_dir():
        raise UsageError(f"{run_dir}: not a kchaos run directory (no history/)")
    histories = history.read_dir(run_dir / "history")
    timeline = history.read_timeline(run_dir)
    expect = _read_json(run_dir / "scenario.json").get("expect") or {}
    if not isinstance(expect, dict):
        raise UsageError(f"{run_dir / 'scenario.json'}: expect must be a mapping of count name to bound")
    t0 = _read_json(run_dir / "meta.json").get("t0")
    if t0 is None:  # meta.json lost: measure from the first recorded event
        ts = [h["t"].min() for h in histories.values() if len(h)]
        t0 = float(min(ts)) if ts else 0.0
    try:
        return verify(histories, timeline, expect, t0=float(t0), max_evidence=max_evidence)
    except ValueError as e:
        raise UsageError(f"{run_dir / 'scenario.json'}: {e}") from None


def verify(histories: dict[str, np.ndarray], timeline: list[dict], expect: dict[str, int | None],
           t0: float = 0.0, max_evidence: int = 200) -> Verdict:
    """Reconcile all events (any role) against `expect`; times in evidence are seconds since t0."""
    parts = [h for h in histories.values() if len(h)]
    ev = np.concatenate(parts) if parts else np.zeros(0, dtype=history.EVENT)
    r = _Reconciler(ev)
    counts = {name: 0 for name in COUNT_NAMES}
    counts.update(r.counts)
    faults = _faults(timeline)
    anomalies = []
    for kind in EVIDENCE_TYPES:
        found = [a for cols in r.evidence[kind] for a in _runs(kind, *cols)]
        found.sort(key=lambda a: a["t"])
        anomalies.extend(found[:max_evidence])
    for a in anomalies:
        a["near_fault"] = _near_fault(faults, a["t"], t0)
        a["t"] = round(a["t"] - t0, 3)
    anomalies.sort(key=lambda a: a["t"])
    violations = check_expect(counts, expect)
    return Verdict(counts=counts, anomalies=anomalies, violations=violations, passed=not violations)


class _Reconciler:
    """Computes `counts` and the per-record columns of `evidence` over one concatenated event array."""

    def __init__(self, ev: np.ndarray):
        self._groups = self._roster = np.zeros(0, dtype=np.int64)
        kind, t = ev["kind"], ev["t"]
        part, off = ev["partition"].astype(np.int64), ev["offset"]
        seq = ev["seq"]
        known = (ev["pid"] != history.UNKNOWN_PID) & (seq >= 0) & (seq <= _SEQ_MASK)
        self.pids, code = _codes(np.where(known, ev["pid"], np.uint32(0)))
        key = np.where(known, (code << _SEQ_BITS) | (seq & _SEQ_MASK), -1)
        is_ = {k: kind == k for k in history.KIND_NAMES}

        m = known & is_[history.SEND]
        sent, (sent_t,) = _first(key[m], (t[m],), t[m])
        m = known & is_[history.ACK]
        acked, (ack_t, ack_part, ack_off) = _first(key[m], (t[m],), t[m], part[m], off[m])
        errored = _distinct(key[known & is_[history.ERROR]])
        processed = _distinct(key[known & is_[history.PROCESS]])
        m = known & (is_[history.LOG] | is_[history.POLL]) & (off >= 0)
        in_log, (log_part, log_off) = _first(key[m], (off[m],), part[m], off[m])

        # lost: acked, never processed; the log (audit or poll) tells a consumer loss from a broker loss
        lost = acked[~_member(acked, processed)]
        li = np.searchsorted(acked, lost)
        lost_seen = _member(lost, in_log)
        lost_t = _lookup(sent, sent_t, lost, default=ack_t[li])
        unacked = sent[~_member(sent, acked)]
        present = _member(unacked, in_log) | _member(unacked, processed)

        # evidence runs group records by every position known for them, acknowledged ones included ...
        m = known & (is_[history.ACK] | is_[history.POLL] | is_[history.PROCESS] | is_[history.LOG]) & (off >= 0)
        self._set_roster(key[m], part[m], off[m])
        # ... but copies and order are properties of the log: an acked offset that the log no longer
        # holds (truncated after a leader change) is neither a copy nor a place in the order
        m = known & (is_[history.POLL] | is_[history.PROCESS] | is_[history.LOG]) & (off >= 0)
        dups, reordered = self._positions(key[m], part[m], off[m], sent, sent_t, acked, ack_t)
        reprocessed = self._reprocessed(ev, key, is_[history.PROCESS] & (off >= 0))
        phantoms = self._phantoms(ev, key, known, is_, sent)

        lk, lp = lost[lost_seen], np.searchsorted(in_log, lost[lost_seen])
        self.evidence = {
            "lost": [self._cols(lk, log_part[lp], log_off[lp], lost_t[lost_seen], where="in_log"),
                     self._cols(lost[~lost_seen], ack_part[li][~lost_seen], -1, lost_t[~lost_seen],
                                where="from_log")],
            "log_duplicate": [dups[1]], "reprocessed": [reprocessed[1]],
            "reordered": [reordered[1]], "phantom": [phantoms[1]],
        }
        self.counts = {
            "sent": len(sent), "acked": len(acked), "errors": int((~_member(errored, acked)).sum()),
            "consumed": len(processed), "lost": len(lost), "lost_in_log": int(lost_seen.sum()),
            "lost_from_log": int((~lost_seen).sum()), "unacked_present": int(present.sum()),
            "unacked_missing": int((~present).sum()), "log_duplicates": dups[0],
            "reprocessed": reprocessed[0], "duplicates": dups[0] + reprocessed[0],
            "reordered": reordered[0], "phantoms": phantoms[0],
        }

    @staticmethod
    def _distinct_positions(key, part, off):
        """Distinct (record, partition, offset) sorted, and each record's first offset per partition."""
        o = np.lexsort((off, part, key))
        key, part, off = key[o], part[o], off[o]
        new = _changes(key, part, off)
        key, part, off = key[new], part[new], off[new]
        head = _changes(key, part)
        return (key, part, off), (key[head], part[head], off[head])

    def _set_roster(self, key, part, off):
        """Rank of each record among its producer's records in a partition: evidence runs are contiguous
        in that order, so a range survives a producer spreading seqs over partitions."""
        _, (k2, p2, _f2) = self._distinct_positions(key, part, off)
        self._groups, g = _codes(_group(k2, p2))
        self._roster = np.sort((g << _SEQ_BITS) | (k2 & _SEQ_MASK))

    def _positions(self, key, part, off, sent, sent_t, acked, ack_t):
        """(log_duplicates, evidence), (reordered, evidence) from distinct (record, partition, offset)."""
        (key, part, off), (k2, p2, f2) = self._distinct_positions(key, part, off)
        _, g = _codes(_group(k2, p2))

        # log duplicates: a record's copies, first and second by offset
        o = np.lexsort((part, off, key))
        key, part, off = key[o], part[o], off[o]
        starts = np.flatnonzero(_changes(key))
        d = starts[np.diff(np.r_[starts, len(key)]) > 1]
        dk = key[d]
        dup_t = _lookup(sent, sent_t, dk, default=_lookup(acked, ack_t, dk, default=0.0))
        dups = (len(key) - len(starts), self._cols(dk, part[d], off[d], dup_t, copy_offsets=off[d + 1]))

        # reordered: walk each (pid, partition) by first offset; one array-wide running max of seq works
        # per group because the group number sits above the seq bits
        o = np.lexsort((f2, g))
        val = (g[o] << _SEQ_BITS) | (k2[o] & _SEQ_MASK)
        prior = np.r_[np.int64(-1), np.maximum.accumulate(val)[:-1]] if len(val) else val
        late = o[val < prior]
        rk = k2[late]
        r_t = _lookup(sent, sent_t, rk, default=_lookup(acked, ack_t, rk, default=0.0))
        return dups, (len(late), self._cols(rk, p2[late], f2[late], r_t))

    def _reprocessed(self, ev, key, m):
        """Same (partition, offset) processed more than once; t is the first re-processing."""
        part, off, t = ev["partition"][m].astype(np.int64), ev["offset"][m], ev["t"][m]
        o = np.lexsort((t, off, part))
        part, off, t, k = part[o], off[o], t[o], key[m][o]
        starts = np.flatnonzero(_changes(part, off))
        n = np.diff(np.r_[starts, len(part)])
        r = starts[n > 1]
        return (len(part) - len(starts), self._cols(k[r], part[r], off[r], t[r + 1]))

    def _phantoms(self, ev, key, known, is_, sent):
        """Processed or in the log, never sent; unparseable records are counted per position."""
        part, off, t = ev["partition"].astype(np.int64), ev["offset"], ev["t"]
        is_log = is_[history.LOG].astype(np.int8)
        pl = (is_[history.PROCESS] | is_[history.LOG]) & (off >= 0)
        m = np.flatnonzero(pl & known)
        m = m[~_member(key[m], sent)]
        # prefer the earliest PROCESS (when the application saw it) over the audit's LOG event
        kk, (pp, oo, tt) = _first(key[m], (t[m], is_log[m]), part[m], off[m], t[m])
        m = pl & ~known
        pos = (part[m] << _SEQ_BITS) | off[m]
        upos, (up, uo, ut) = _first(pos, (t[m], is_log[m]), part[m], off[m], t[m])
        cols = self._cols(np.r_[kk, np.full(len(upos), -1, np.int64)], np.r_[pp, up], np.r_[oo, uo],
                          np.r_[tt, ut])
        return len(kk) + len(upos), cols

    def _cols(self, keys, part, off, t, **extra):
        """Per-record columns for _runs: pid, seq (-1 unparseable), partition, offset (-1 none), t, extras."""
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
        ordinal = np.where(hit, rank, np.where(unknown, off, -2 * np.arange(n) - 2))
        return (pid.astype(np.int64), seq, ordinal, part, off, t, extra)


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


def _first(keys: np.ndarray, by: tuple, *cols: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Sorted distinct keys and, for each, `cols` at its row ordered first by `by` (last = primary)."""
    o = np.lexsort(tuple(by) + (keys,))
    rows = o[_changes(keys[o])]
    return keys[rows], [c[rows] for c in cols]


def _group(keys: np.ndarray, part: np.ndarray) -> np.ndarray:
    """(pid code, partition) of records as one int64."""
    return ((keys >> _SEQ_BITS) << 32) | (part & 0xFFFFFFFF)


def _distinct(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique's hash path is many times slower than a sort here)."""
    s = np.sort(a)
    return s[_changes(s)]


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
    if not len(keys):
        return np.zeros(len(query), dtype=bool)
    return keys[np.minimum(np.searchsorted(keys, query), len(keys) - 1)] == query


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
        if e.get("event") == "apply" and e.get("ok", True) is not False and at is not None:
            applied.append((float(at), e))
    applied.sort(key=lambda p: p[0])
    return np.array([a for a, _ in applied], dtype=np.float64), [e for _, e in applied]


def _near_fault(faults: tuple[np.ndarray, list[dict]], t: float, t0: float) -> str | None:
    """'kill leader(chaos,0) -> broker 2 at +12.3s (record sent 0.4s after it)': the applied fault
    nearest to t, the send time of the anomaly's first record."""
    times, entries = faults
    if not len(times):
        return None
    i = int(np.searchsorted(times, t))
    i = min((j for j in (i - 1, i) if 0 <= j < len(times)), key=lambda j: abs(times[j] - t))
    e, at = entries[i], float(times[i])
    what = f"{e.get('action', '?')} {e.get('target', '?')}"
    if e.get("resolved"):
        what += f" -> {e['resolved']}"
    return f"{what} at +{at - t0:.1f}s (record sent {abs(t - at):.1f}s {'after' if t >= at else 'before'} it)"


def _read_json(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise UsageError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None
    return data if isinstance(data, dict) else {}
