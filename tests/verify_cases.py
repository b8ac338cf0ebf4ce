"""Seeded synthetic histories with anomalies of every class the verifier counts, for the equivalence test.

`cases()` returns name -> keyword arguments of `verify.verify`; `write_golden()` stores the verdicts of
today's verifier in tests/data/verify_golden.json (run `python tests/verify_cases.py` once, then commit),
so a rewrite of the verifier is proven to give the same counts and evidence on the same histories.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from kafka_chaos.history import (ACK, COMMIT, ERROR, FOREIGN_PID, LOG, OUTBOX, OUTPUT, EFFECTS, POLL, PROCESS,
                                 SEND, TXN, TXN_ABORTED, TXN_COMMITTED, TXN_UNKNOWN, UNKNOWN_PID, events)

GOLDEN = Path(__file__).parent / "data" / "verify_golden.json"
TIMELINE = [{"event": "apply", "action": "kill", "target": "leader(chaos,0)", "resolved": "broker 2",
             "t_applied": 100.4},
            {"event": "apply", "action": "pause", "target": "broker 1", "t_scheduled": 101.0},
            {"event": "apply", "action": "isolate", "target": "broker 3", "t_applied": 100.9, "ok": False}]


def _producer(rng, pid: int, n: int, parts: int, next_off: list[int], out: list, txn: bool, tie: bool):
    """One producer's records: sends, acks, errors, the consumer's view and the audit, with anomalies."""
    seqs = np.arange(n)
    t = 100.0 + (np.zeros(n) if tie else seqs * 0.01 + rng.random(n) * 0.001)
    part = rng.integers(0, parts, n)
    off = np.zeros(n, dtype=np.int64)
    order = seqs.copy()
    if n > 6 and rng.random() < 0.7:   # reordered: a few records written out of seq order
        for _ in range(rng.integers(1, 4)):
            i, j = rng.integers(0, n, 2)
            order[[i, j]] = order[[j, i]]
    for s in order:
        off[s] = next_off[part[s]]
        next_off[part[s]] += 1
    errored = rng.random(n) < 0.05
    unacked = errored | (rng.random(n) < 0.03)
    acked = ~unacked
    out.append(events(SEND, pid, seqs, t))
    out.append(events(ERROR, pid, seqs[errored], t[errored] + 0.5, flags=1))
    late = acked & (rng.random(n) < 0.05)   # an error that an ack follows
    out.append(events(ERROR, pid, seqs[late], t[late] + 0.2, flags=2))
    out.append(events(ACK, pid, seqs[acked], t[acked] + 0.005, part[acked], off[acked]))
    twice = acked & (rng.random(n) < 0.03)   # acked twice (the later one elsewhere)
    out.append(events(ACK, pid, seqs[twice], t[twice] + 0.007, part[twice], off[twice] + 1000))
    in_log = (acked & (rng.random(n) > 0.04)) | (unacked & (rng.random(n) < 0.5))   # lost_from_log, unacked_present
    out.append(events(LOG, pid, seqs[in_log], t[in_log] + 60, part[in_log], off[in_log]))
    dup = in_log & (rng.random(n) < 0.04)   # log duplicates at fresh offsets
    for s in np.flatnonzero(dup):
        out.append(events(LOG, pid, s, t[s] + 60, part[s], next_off[part[s]]))
        next_off[part[s]] += 1
    polled = rng.random(n) > 0.05
    processed = polled & (rng.random(n) > 0.05)   # lost_in_log / unread
    out.append(events(POLL, pid, seqs[polled], t[polled] + 1, part[polled], off[polled]))
    out.append(events(PROCESS, pid, seqs[processed], t[processed] + 1.1, part[processed], off[processed]))
    again = processed & (rng.random(n) < 0.05)   # reprocessed
    out.append(events(PROCESS, pid, seqs[again], t[again] + 2.2, part[again], off[again]))
    unplaced = rng.random(n) < 0.02   # processed without a position
    out.append(events(PROCESS, pid, seqs[unplaced], t[unplaced] + 1.3, -1, -1))
    if txn:
        edges = np.unique(np.r_[0, rng.integers(1, n, 4), n])
        last = len(edges) - 2 if rng.random() < 0.5 else len(edges) - 1   # the last one left open (dangling)
        for a, b in zip(edges[:last], edges[1:last + 1]):
            outcome = rng.choice([TXN_COMMITTED, TXN_COMMITTED, TXN_ABORTED, TXN_UNKNOWN])
            out.append(events(TXN, pid, a, 100.0 + b * 0.01, -1, b - 1, flags=outcome))
    return seqs, part, off, acked, in_log


def case(seed: int) -> dict:
    """verify() keyword arguments of one seeded history (mixed over several role files)."""
    rng = np.random.default_rng(seed)
    parts = int(rng.integers(1, 5))
    next_off = [int(rng.integers(0, 5)) for _ in range(parts)]
    out: list[np.ndarray] = []
    txn = bool(rng.random() < 0.4)
    pids = [1, 2, 7][:int(rng.integers(1, 4))]
    if seed % 7 == 3:
        pids = [5, (1 << 30) + 3]   # large producer ids: the code table path
    made = []
    for pid in pids:
        made.append((pid,) + _producer(rng, pid, int(rng.integers(5, 80)), parts, next_off, out, txn,
                                        tie=seed % 5 == 4))
    for p in range(parts):   # the consumer's commits, sometimes past what it processed
        out.append(events(COMMIT, 0, -1, 150.0, p, next_off[p] - int(rng.integers(0, 6))))
    p = int(rng.integers(0, parts))
    # inconsistent offsets: a poll or an ack saw another record at a position the audit read
    pid, seqs, part, off, acked, in_log = made[0]
    for s in rng.choice(np.flatnonzero(in_log), min(2, int(in_log.sum())), replace=False):
        out.append(events(POLL, pid, 10_000 + s, 101.5, part[s], off[s]))
    # phantoms (never sent), unparsed and foreign records, in the log and processed
    out.append(events(LOG, pid, [900, 901], 160.0, p, [next_off[p], next_off[p] + 1]))
    out.append(events(PROCESS, pid, [900, 905], 101.0, p, [next_off[p], next_off[p] + 7]))
    out.append(events(LOG, UNKNOWN_PID, -1, 160.5, p, next_off[p] + 2))
    out.append(events(PROCESS, UNKNOWN_PID, -1, 103.5, p, next_off[p] + 2))
    out.append(events(LOG, FOREIGN_PID, [-1, -1], 161.0, p, [next_off[p] + 3, next_off[p] + 4]))
    out.append(events(POLL, FOREIGN_PID, -1, 102.0, p, next_off[p] + 3))
    out.append(events(POLL, pid, 1 << 41, 102.0, p, next_off[p] + 5))   # seq out of range: unparsed
    effects = None
    kind = seed % 4
    if kind:   # effects of the acked records: copies, sink rows or outbox-relayed records
        stream = {1: OUTPUT, 2: EFFECTS, 3: EFFECTS}[kind]
        effects = {"stream": stream, "complete": bool(rng.random() < 0.85),
                   "store": {1: "output topic", 2: "sink's table", 3: "sink's table"}[kind],
                   "per_id": bool(kind != 1)}
        for pid, seqs, part, off, acked, in_log in made:
            done = (in_log | acked) & (rng.random(len(seqs)) > 0.08)   # lost effects
            twice = done & (rng.random(len(seqs)) < 0.06)             # duplicate effects
            keep = np.r_[seqs[done], seqs[twice]]
            out.append(events(LOG, pid, keep, 170.0 + keep * 0.01, 0, np.arange(len(keep)), stream=stream))
        out.append(events(LOG, FOREIGN_PID, -1, 171.0, 0, 999, stream=stream))
        if kind == 3:   # outbox: rows the application committed, some never relayed
            effects["promise"] = OUTBOX
            pid = made[-1][0]
            out.append(events(LOG, pid, [0, 1, 500, 501], 99.0, -1, -1, stream=OUTBOX))
    roles = ["producer", "consumer", "audit", "copier"]
    rng.shuffle(roles)
    mixed = np.concatenate(out)
    mixed = mixed[rng.permutation(len(mixed))] if seed % 3 == 0 else mixed
    which = rng.integers(0, len(roles), len(mixed))
    histories = {r: mixed[which == i] for i, r in enumerate(roles) if (which == i).any()}
    audited = bool(rng.random() < 0.75)
    return {"histories": histories, "timeline": TIMELINE, "expect": {"lost": 0, "duplicates": 1, "phantoms": None},
            "audited": audited, "t0": 100.0, "max_evidence": [200, 3][seed % 2], "warnings": ["w"],
            "transactional": txn, "effects": effects}


def cases() -> dict[str, dict]:
    """The named histories of the equivalence test, with edge cases beside the seeded ones."""
    out = {f"seed-{s}": case(s) for s in range(40)}
    out["empty"] = {"histories": {}, "timeline": [], "expect": {}, "audited": True}
    one = events(SEND, 1, [0, 1], 100.0)
    out["sends-only-unaudited"] = {"histories": {"producer": one}, "timeline": [], "expect": {}, "audited": False}
    return out


def write_golden() -> None:
    from kafka_chaos.verify import verify
    golden = {name: verify(**kw).to_dict() for name, kw in cases().items()}
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(json.dumps(golden, indent=0, sort_keys=True) + "\n")
    print(f"wrote {len(golden)} verdicts to {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    write_golden()
