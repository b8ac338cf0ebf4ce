"""The on-disk history of a run: fixed-width binary events, appended with one write() each, read as arrays.

Guarantee: an event is in the kernel's page cache as soon as `append` returns, so a worker killed with
SIGKILL loses nothing it had recorded. Cost: one system call per event (a few microseconds).

Layout of a run directory (everything the verifier needs; it never talks to the cluster):
    scenario.json        the validated scenario
    meta.json            run facts (physical topic name, start time, cluster bootstrap)
    timeline.jsonl       one JSON object per applied/healed fault (see faults.py)
    history/<role>-<n>.bin   events of one worker instance: producer-0, consumer-0, consumer-1, audit-0
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np

# Event kinds.
SEND = 1      # the producer is about to hand (pid, seq) to the client library
ACK = 2       # the broker acknowledged (pid, seq) at (partition, offset); offset >= 0
ERROR = 3     # the send of (pid, seq) failed for good; `flags` holds an ERROR_NAMES index
POLL = 4      # the consumer fetched (pid, seq) at (partition, offset) from the log
PROCESS = 5   # the consumer application finished processing (pid, seq) at (partition, offset)
COMMIT = 6    # the consumer committed `offset` (the next offset to read) for `partition`
LOG = 7       # the post-run audit read found (pid, seq) at (partition, offset) in the log

KIND_NAMES = {SEND: "send", ACK: "ack", ERROR: "error", POLL: "poll", PROCESS: "process",
              COMMIT: "commit", LOG: "log"}

# Error codes stored in `flags` of ERROR events.
ERROR_NAMES = ["other", "timeout", "not-leader", "not-enough-replicas", "network",
               "out-of-order", "producer-fenced", "record-too-large", "crashed"]

EVENT = np.dtype([
    ("kind", "u1"),
    ("worker", "u1"),      # worker instance number (producer-1 -> 1)
    ("flags", "u2"),
    ("pid", "u4"),         # producer id carried in the record value (UNKNOWN_PID if unparseable)
    ("seq", "i8"),         # sequence number carried in the record value (-1 if unparseable)
    ("partition", "i4"),
    ("_pad", "i4"),
    ("offset", "i8"),
    ("t", "f8"),           # wall-clock seconds (time.time()) when the event happened
])
assert EVENT.itemsize == 40

TIMELINE = "timeline.jsonl"
UNKNOWN_PID = 0xFFFFFFFF
_VALUE_PREFIX = b"kc:"


def encode_value(pid: int, seq: int, send_ms: int, size: int = 0) -> bytes:
    """Record value: b"kc:<pid>:<seq>:<send ms>:" padded with '.' to `size` bytes."""
    head = b"kc:%d:%d:%d:" % (pid, seq, send_ms)
    return head + b"." * max(0, size - len(head))


def decode_value(value: bytes | None) -> tuple[int, int]:
    """(pid, seq) of a record value written by encode_value; (UNKNOWN_PID, -1) for anything else."""
    if not value or not value.startswith(_VALUE_PREFIX):
        return UNKNOWN_PID, -1
    parts = value.split(b":", 4)
    try:
        return int(parts[1]), int(parts[2])
    except (IndexError, ValueError):
        return UNKNOWN_PID, -1


class HistoryWriter:
    """Appends events of one worker instance to its own file; thread-safe."""

    def __init__(self, path: Path, worker: int = 0):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.worker = worker
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._lock = threading.Lock()
        self._one = np.zeros(1, dtype=EVENT)

    def append(self, kind: int, pid: int, seq: int, t: float,
               partition: int = -1, offset: int = -1, flags: int = 0) -> None:
        with self._lock:
            e = self._one[0]
            e["kind"], e["worker"], e["flags"], e["pid"], e["seq"] = kind, self.worker, flags, pid, seq
            e["partition"], e["offset"], e["t"] = partition, offset, t
            os.write(self._fd, self._one.tobytes())

    def append_many(self, events: np.ndarray) -> None:
        """Write a prepared EVENT array in one system call."""
        with self._lock:
            os.write(self._fd, events.tobytes())

    def close(self) -> None:
        os.close(self._fd)


def events(kind: int, pids, seqs, t, partitions=-1, offsets=-1, worker: int = 0, flags=0) -> np.ndarray:
    """Build an EVENT array from columns (scalars broadcast); handy for tests and batch writes."""
    seqs = np.atleast_1d(np.asarray(seqs, dtype="i8"))
    out = np.zeros(len(seqs), dtype=EVENT)
    out["kind"], out["worker"], out["flags"] = kind, worker, flags
    out["pid"], out["seq"], out["t"] = pids, seqs, t
    out["partition"], out["offset"] = partitions, offsets
    return out


def read_file(path: Path) -> np.ndarray:
    """Events of one file; a torn last event (worker killed mid-write) is dropped."""
    raw = path.read_bytes()
    usable = len(raw) - len(raw) % EVENT.itemsize
    return np.frombuffer(raw[:usable], dtype=EVENT)


def read_dir(history_dir: Path) -> dict[str, np.ndarray]:
    """All events of a run, keyed by role ("producer", "consumer", "audit"), files concatenated."""
    by_role: dict[str, list[np.ndarray]] = {}
    for path in sorted(history_dir.glob("*.bin")):
        role = path.stem.rsplit("-", 1)[0]
        by_role.setdefault(role, []).append(read_file(path))
    return {role: np.concatenate(parts) for role, parts in by_role.items()}


def select(ev: np.ndarray, kind: int) -> np.ndarray:
    return ev[ev["kind"] == kind]


def read_timeline(run_dir: Path) -> list[dict]:
    """Timeline entries of a run; a torn last line (the run was killed mid-write) is skipped."""
    path = Path(run_dir) / TIMELINE
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out
