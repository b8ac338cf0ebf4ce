"""The on-disk history of a run: fixed-width binary events, appended with one write() each, read as arrays.

Guarantee: an event is in the kernel's page cache as soon as `append` returns, so a worker killed with
SIGKILL loses nothing it had recorded. Cost: one system call per event (~2 us here, most of it the call itself;
benchmarks/history_bench.py).

Layout of a run directory (everything the verifier needs; it never talks to the cluster):
    scenario.json        the validated scenario
    meta.json            run facts (physical topic name, start time, cluster bootstrap)
    timeline.jsonl       one JSON object per applied/healed fault (see faults.py)
    history/<role>-<n>.bin   events of one worker instance: producer-0, consumer-0, consumer-1, audit-0
    audit.json           written only once the audit read every partition to its end: without it the
                         log was not checked, and the verdict says so (unaudited, incomplete)
    warnings.txt         what went wrong but did not stop the run (e.g. the drain timed out)
"""

from __future__ import annotations

import json
import os
import re
import secrets
import struct
import threading
from pathlib import Path

import numpy as np

from kafka_chaos.errors import KchaosError, UsageError
from kafka_chaos.files import read_bounded

# Event kinds.
SEND = 1      # the producer is about to hand (pid, seq) to the client library
ACK = 2       # the broker acknowledged (pid, seq) at (partition, offset); offset >= 0
ERROR = 3     # the send of (pid, seq) failed for good; `flags` holds an ERROR_NAMES index
POLL = 4      # the consumer fetched (pid, seq) at (partition, offset) from the log
PROCESS = 5   # the consumer application finished processing (pid, seq) at (partition, offset)
COMMIT = 6    # the consumer committed `offset` (the next offset to read) for `partition`
LOG = 7       # the post-run audit read found (pid, seq) at (partition, offset) in the log (read_committed)
TXN = 8       # a transaction of producer `pid` ended: seqs `seq`..`offset` (inclusive), `flags` its outcome

KIND_NAMES = {SEND: "send", ACK: "ack", ERROR: "error", POLL: "poll", PROCESS: "process",
              COMMIT: "commit", LOG: "log", TXN: "txn"}

# Outcomes of TXN events (flags): what the producer learnt when commit or abort returned, or did not.
TXN_COMMITTED = 1   # commit_transaction returned: every record of it must be visible to read_committed readers
TXN_ABORTED = 2     # abort_transaction returned: none of it may be visible to read_committed readers
TXN_UNKNOWN = 3     # commit/abort raised or hung (fenced, timed out): the broker decides, all or nothing
TXN_OUTCOMES = {TXN_COMMITTED: "committed", TXN_ABORTED: "aborted", TXN_UNKNOWN: "unknown"}

# Streams (the `stream` column): the stores a run's records pass through, each reconciled on its own.
TOPIC = 0     # the scenario's topic: what producers (or the outbox relay) write and consumers read
OUTPUT = 1    # the copier's output topic (consume-transform-produce)
EFFECTS = 2   # the sink's database table of applied effects (inbox pattern)
OUTBOX = 3    # the outbox table an application step writes its records into (outbox pattern)
STREAM_NAMES = {TOPIC: "topic", OUTPUT: "output", EFFECTS: "effects", OUTBOX: "outbox"}

# Error codes stored in `flags` of ERROR events.
ERROR_NAMES = ["other", "timeout", "not-leader", "not-enough-replicas", "network",
               "out-of-order", "producer-fenced", "record-too-large", "crashed"]

EVENT = np.dtype([
    ("kind", "u1"),
    ("worker", "u1"),      # worker instance number (producer-1 -> 1)
    ("flags", "u2"),
    ("pid", "u4"),         # producer id carried in the record value (UNKNOWN_PID, FOREIGN_PID: see decode_value)
    ("seq", "i8"),         # sequence number carried in the record value (-1 if there is none)
    ("partition", "i4"),
    ("check", "u2"),       # CHECK in every event: a reader tells a misframed or foreign file from a history
    ("stream", "u2"),      # which store the event is about: STREAMS below
    ("offset", "i8"),
    ("t", "f8"),           # wall-clock seconds (time.time()) when the event happened
])
assert EVENT.itemsize == 40
_PACK = struct.Struct("<BBHIqiHHqd")     # EVENT's layout, for one event without numpy (~5x faster)
_SIZE = EVENT.itemsize
assert _PACK.size == _SIZE
CHECK = 0x4B43
KINDS = np.array(sorted(KIND_NAMES), dtype="u1")
MAX_FILE = 8 << 30   # bytes of one history file the reader accepts (200M events)

TIMELINE = "timeline.jsonl"
UNKNOWN_PID = 0xFFFFFFFF   # a record of this run whose producer id or seq cannot be read
FOREIGN_PID = 0xFFFFFFFE   # a record without this run's identity: another run's, or not kchaos's at all
_VALUE_PREFIX = b"kc:"
ROLES = ("producer", "consumer", "copier", "sink", "outbox", "relay", "audit")   # worker roles (history file stems)
_FILE_RE = re.compile(r"(" + "|".join(ROLES) + r")-(0|[1-9][0-9]{0,5})\.bin")   # whole name (fullmatch)


def kind_table(kinds) -> np.ndarray:
    """A lookup table kind -> True for `kinds` (indexing it is one pass; np.isin sorts)."""
    table = np.zeros(256, dtype=bool)
    table[np.asarray(kinds, dtype=np.intp)] = True
    return table


_KNOWN_KIND = kind_table(KINDS)


def history_file(name: str) -> re.Match | None:
    """<role>-<n>.bin, and nothing else (no newline, no other digits, no leading zero)."""
    return _FILE_RE.fullmatch(name)


def unframed(ev: np.ndarray) -> np.ndarray:
    """Indices of events that are not kchaos events: another check word, an unknown kind or stream, or a
    time that is not a finite number."""
    return np.flatnonzero((ev["check"] != CHECK) | ~_KNOWN_KIND[ev["kind"]] | (ev["stream"] > max(STREAM_NAMES))
                          | ~np.isfinite(ev["t"]))


class HistoryError(KchaosError):
    """A history file cannot be written (exit 3: the run's record is incomplete)."""


def new_run_id() -> str:
    """A run identity (16 hex digits) every record of the run carries, so no other run's record passes as ours."""
    return secrets.token_hex(8)


def encode_value(run_id: str, pid: int, seq: int, send_ms: int, size: int = 0) -> bytes:
    """Record value: b"kc:<run id>:<pid>:<seq>:<send ms>:" padded with '.' to `size` bytes."""
    return value_codec(run_id, pid, size)[0](seq, send_ms)


def value_codec(run_id: str, pid: int, size: int):
    """(encode, seq_of) of one producer's record values: encode(seq, send_ms) is encode_value(run_id, pid, seq,
    send_ms, size) with its fixed head formatted once (a producer encodes every record); seq_of(value) reads the
    seq back from such a value (the producer's own values only: decode_value reads anyone's)."""
    head = b"kc:%s:%d:" % (run_id.encode(), pid)
    start = len(head)
    return ((lambda seq, send_ms: (b"%s%d:%d:" % (head, seq, send_ms)).ljust(size, b".")),
            (lambda value: int(value[start:value.index(b":", start)])))


def decode_value(value: bytes | None, run_id: str) -> tuple[int, int]:
    """(pid, seq) of a record of run `run_id`; (UNKNOWN_PID, -1) for a value with our identity whose ids
    do not parse; (FOREIGN_PID, -1) for anything else (another run's record, or not kchaos's)."""
    return decode_values([value], run_id)[0]


def decode_values(values, run_id: str) -> list[tuple[int, int]]:
    """decode_value of each of `values`, the run's prefix built once (a consumer decodes every record)."""
    prefix = b"kc:%s:" % run_id.encode()
    start, out = len(prefix), []
    for value in values:
        if not value or not value.startswith(prefix):
            out.append((FOREIGN_PID, -1))
            continue
        parts = value[start:].split(b":", 2)
        try:
            pid, seq = int(parts[0]), int(parts[1])
        except (IndexError, ValueError):
            out.append((UNKNOWN_PID, -1))
            continue
        out.append((pid, seq) if 0 <= pid < FOREIGN_PID and 0 <= seq < 1 << 40 else (UNKNOWN_PID, -1))
    return out


class HistoryWriter:
    """Appends events of one worker instance to its own file; thread-safe.

    A write that fails (disk full) truncates the file back to its last whole event and raises
    HistoryError; `failed` then stays set so the worker's main loop can stop: no later event may land
    behind a torn one, and a history with holes must not look complete."""

    def __init__(self, path: Path, worker: int = 0, stream: int = TOPIC):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.worker = worker
        self.stream = stream   # of every event appended without one
        self.failed: str | None = None
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._size = os.fstat(self._fd).st_size
        self._lock = threading.Lock()

    def append(self, kind: int, pid: int, seq: int, t: float,
               partition: int = -1, offset: int = -1, flags: int = 0, stream: int | None = None) -> None:
        """One event, one write(): the common case of a whole write costs one pack, one lock and one system
        call (~2 us here, most of it the system call); a short or failed write goes the careful way."""
        data = _PACK.pack(kind, self.worker, flags, pid, seq, partition, CHECK,
                          self.stream if stream is None else stream, offset, t)
        with self._lock:
            if self.failed:
                raise HistoryError(self.failed)
            try:
                done = os.write(self._fd, data)
            except OSError as exc:
                self._fail(exc)
            if done != _SIZE:
                self._rest(data, done)
            self._size += _SIZE

    def append_many(self, events: np.ndarray) -> None:
        """Write a prepared EVENT array in one system call."""
        self.append_bytes(events.tobytes())

    def append_bytes(self, data: bytes) -> None:
        """Write whole events already laid out as EVENT bytes (e.g. joined `pack` results) in one system call."""
        if len(data) % _SIZE:
            raise ValueError(f"{len(data)} bytes are not whole events of {_SIZE} bytes")
        with self._lock:
            if self.failed:
                raise HistoryError(self.failed)
            self._rest(data, 0)
            self._size += len(data)

    def _rest(self, data: bytes, done: int) -> None:
        """Write data[done:] (under the lock), looping over short writes; a failure truncates the file back to
        its last whole event and raises HistoryError."""
        view = memoryview(data)
        try:
            while done < len(data):
                n = os.write(self._fd, view[done:])
                if n <= 0:
                    raise OSError("write returned 0")
                done += n
        except OSError as exc:
            self._fail(exc)

    def _fail(self, exc: OSError) -> None:
        self.failed = f"{self.path}: cannot write the history ({exc.strerror or exc})"
        try:
            os.ftruncate(self._fd, self._size)   # drop the torn event: later readers stay framed
        except OSError:
            pass
        raise HistoryError(self.failed) from None

    def check(self) -> None:
        """Raise HistoryError if any write failed (also one made on another thread, e.g. an ack callback)."""
        if self.failed:
            raise HistoryError(self.failed)

    def close(self) -> None:
        os.close(self._fd)


def events(kind: int, pids, seqs, t, partitions=-1, offsets=-1, worker: int = 0, flags=0,
           stream: int = TOPIC) -> np.ndarray:
    """Build an EVENT array from columns (scalars broadcast); handy for tests and batch writes."""
    seqs = np.atleast_1d(np.asarray(seqs, dtype="i8"))
    out = np.zeros(len(seqs), dtype=EVENT)
    out["kind"], out["worker"], out["flags"] = kind, worker, flags
    out["pid"], out["seq"], out["t"] = pids, seqs, t
    out["partition"], out["offset"] = partitions, offsets
    out["check"], out["stream"] = CHECK, stream
    return out


def read_file(path: Path) -> np.ndarray:
    """Events of one file; a torn last event (worker killed mid-write) is dropped. A file that is not a
    regular file, is too large, or holds anything but whole kchaos events (misframed by a torn write in
    the middle, or not a history at all) is refused with the first bad event named."""
    raw = read_bounded(path, MAX_FILE, "history file")
    usable = len(raw) - len(raw) % EVENT.itemsize
    ev = np.frombuffer(raw, dtype=EVENT, count=usable // EVENT.itemsize)
    bad = unframed(ev)
    if len(bad):
        i = int(bad[0])
        raise UsageError(f"{path}: event {i} (byte {i * EVENT.itemsize}) is not a kchaos event: the file is "
                           "corrupt, misframed by a torn write, or not a history of this kchaos version")
    return ev


def read_dir(history_dir: Path) -> dict[str, np.ndarray]:
    """All events of a run, keyed by role ("producer", "consumer", "audit"), files concatenated; a file
    whose name is not <role>-<n>.bin is refused rather than ignored."""
    by_role: dict[str, list[np.ndarray]] = {}
    for path in sorted(history_dir.iterdir()):
        m = history_file(path.name)
        if not m:
            raise UsageError(f"{path}: not a history file name (expected <role>-N.bin, role one of "
                             f"{', '.join(ROLES)})")
        by_role.setdefault(m.group(1), []).append(read_file(path))
    return {role: np.concatenate(parts) for role, parts in by_role.items()}


MAX_TIMELINE = 64 << 20


def read_timeline(run_dir: Path) -> list[dict]:
    """Timeline entries of a run; a torn last line (the run was killed mid-write) is skipped, and so is
    any line that is not a JSON object. The file must be a regular file of at most MAX_TIMELINE bytes."""
    path = Path(run_dir) / TIMELINE
    if not path.exists() and not path.is_symlink():
        return []
    out = []
    for line in read_bounded(path, MAX_TIMELINE, "timeline").decode("utf-8", "replace").splitlines():
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out
