"""A run's history as compact columns per event kind, read in chunks: what the verifier keeps in memory.

A 40-byte event becomes, in its kind's columns, only what the checks read: a record key (one int64:
pid code and seq), a position (one int64: partition and offset) and a time. History files are read
CHUNK events at a time (never whole), so memory is the columns, not the files. Rows keep their order
within a kind; across kinds the verifier breaks ties in time by kind (see `verify`).
"""

from __future__ import annotations

import ctypes
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kafka_chaos import history
from kafka_chaos.errors import UsageError
from kafka_chaos.history import ACK, COMMIT, ERROR, EVENT, LOG, POLL, PROCESS, SEND, TXN

CHUNK = 1 << 20          # events per read (40 MiB)
SEQ_BITS = 40            # a key is (pid code << SEQ_BITS) | seq
SEQ_MASK = (1 << SEQ_BITS) - 1
POS_BITS = 40            # a position is (partition << POS_BITS) | offset
MAX_PARTITION = 1 << 23  # partitions 0..2^23-1 and offsets 0..2^40-1 fit one int64 position
SMALL_PIDS = 1 << 22     # pids below this are their own code (no table to build)
MAX_PIDS = 1 << 23       # pid codes 0..2^23-1: code << SEQ_BITS stays a non-negative int64
FOREIGN, UNPARSED = -2, -1   # keys of records without one
PLACED = (ACK, POLL, PROCESS, COMMIT, LOG)   # kinds whose (partition, offset) is a position in the topic


@dataclass
class Rows:
    """The columns of every kind of the topic's events (key, pos, t; TXN also `last` and `flags`), the
    other streams' LOG events as whole events, the pid code table and the earliest time of any event."""
    cols: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    other: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=EVENT))
    pids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint32))
    t_min: float | None = None

    def __getitem__(self, kind: int) -> dict[str, np.ndarray]:
        return self.cols[kind]


def part_of(pos: np.ndarray) -> np.ndarray:
    """Partition of positions (-1 for none)."""
    return np.where(pos >= 0, pos >> POS_BITS, -pos - 2)


def off_of(pos: np.ndarray) -> np.ndarray:
    """Offset of positions (-1 for none)."""
    return np.where(pos >= 0, pos & ((1 << POS_BITS) - 1), -1)


class _BigPids(Exception):
    """A pid too large to be its own code: the loader needs the table of every pid first."""


def memory_chunks(histories: dict[str, np.ndarray]):
    """(name, first event index, events) of in-memory histories, in their order."""
    for name, events in histories.items():
        for i in range(0, len(events), CHUNK):
            yield name, i, events[i:i + CHUNK]


def file_chunks(history_dir: Path):
    """(path, first event index, events) of a run's history files in name order, CHUNK events at a time.
    Same refusals as history.read_dir/read_file: a misnamed file, a non-regular or too large one, and a
    torn last event is dropped."""
    for path in sorted(Path(history_dir).iterdir()):
        if not history.history_file(path.name):
            raise UsageError(f"{path}: not a history file name (expected <role>-N.bin, role one of "
                             f"{', '.join(history.ROLES)})")
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except OSError as e:
            what = "is a symlink, not a regular file" if os.path.islink(path) else f"cannot be read: {e.strerror}"
            raise UsageError(f"{path}: history file {what}") from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > history.MAX_FILE:
            os.close(fd)
            raise UsageError(f"{path}: history file " + ("is not a regular file" if not stat.S_ISREG(st.st_mode)
                                                         else f"is larger than {history.MAX_FILE} bytes"))
        with os.fdopen(fd, "rb") as f:
            whole = st.st_size // EVENT.itemsize
            for i in range(0, whole, CHUNK):
                ev = np.fromfile(f, dtype=EVENT, count=min(CHUNK, whole - i))
                _framed(path, i, ev)
                yield path, i, ev


_PLACED = history.kind_table(PLACED)


def _framed(name, first: int, ev: np.ndarray) -> None:
    """Refuse events that are not kchaos events (history.read_file's rule)."""
    bad = history.unframed(ev)
    if len(bad):
        i = first + int(bad[0])
        raise UsageError(f"{name}: event {i} (byte {i * EVENT.itemsize}) is not a kchaos event: the file is "
                         "corrupt, misframed by a torn write, or not a history of this kchaos version")


def _fields(ev: np.ndarray) -> dict[str, np.ndarray]:
    """The fields of a chunk the loader reads, each copied out once: a field of 40-byte events is strided,
    and every pass over it touches the whole chunk, so the loader's passes run over these copies."""
    return {f: np.ascontiguousarray(ev[f]) for f in ("kind", "stream", "pid", "seq", "partition", "offset", "t")}


def _check(name, first: int, ev: dict[str, np.ndarray]) -> None:
    """Refuse positions that do not fit one int64 (partition -1..2^23-1, offset -1..2^40-1)."""
    placed = _PLACED[ev["kind"]] & (ev["stream"] == history.TOPIC)
    off, part = ev["offset"], ev["partition"]
    wrong = placed & ((off < -1) | (off > SEQ_MASK) | (part < -1) | (part >= MAX_PARTITION) |
                      ((off >= 0) & (part < 0)))
    if wrong.any():
        i = first + int(np.flatnonzero(wrong)[0])
        raise UsageError(f"{name}: event {i}: partition {int(part[i - first])} / offset {int(off[i - first])} "
                         f"out of range (partition -1..{MAX_PARTITION - 1}, offset -1..{SEQ_MASK})")


def _keys(ev: dict[str, np.ndarray], pids: np.ndarray | None) -> np.ndarray:
    """Each event's record key: (code << SEQ_BITS) | seq, FOREIGN or UNPARSED."""
    pid, seq = ev["pid"], ev["seq"]
    foreign = pid == history.FOREIGN_PID
    known = ~foreign & (pid != history.UNKNOWN_PID) & (seq >= 0) & (seq <= SEQ_MASK)
    if pids is None:
        if known.any() and int(pid[known].max()) >= SMALL_PIDS:
            raise _BigPids()
        code = pid.astype(np.int64)
    else:
        code = np.searchsorted(pids, pid).astype(np.int64)
        at = np.minimum(code, len(pids) - 1)
        if (known & (pids[at] != pid)).any():   # a pid the table was not built from
            raise UsageError("the history changed while it was read (a worker still writing?): verify the run "
                             "once its workers have stopped")
    return np.where(known, (code << SEQ_BITS) | (seq & SEQ_MASK), np.where(foreign, FOREIGN, UNPARSED))


def _positions(ev: dict[str, np.ndarray]) -> np.ndarray:
    """Each event's position; a row without an offset keeps its partition as -(partition + 2)."""
    part, off = ev["partition"].astype(np.int64), ev["offset"]
    return np.where(off >= 0, (part << POS_BITS) | off, -part - 2)


# per kind: which columns, and which rows (True = every row, "known" = keyed records, "placed" = positioned)
_KEEP = {SEND: (("key", "t"), "known"), ACK: (("key", "pos", "t"), True), ERROR: (("key",), "known"),
         POLL: (("key", "pos", "t"), "placed"), PROCESS: (("key", "pos", "t"), True),
         COMMIT: (("pos",), "placed"), LOG: (("key", "pos", "t"), "placed"),
         TXN: (("key", "last", "flags", "t"), "known")}


def _return_freed_memory() -> None:
    """Make glibc give freed column buffers back to the system. Its malloc raises its mmap threshold each
    time a large buffer is freed, after which chunk-sized buffers come from the heap and, freed, stay in the
    process: at 10M records that held ~700 MiB of RSS nobody used. A fixed threshold keeps them mmapped.
    (A process-wide setting that only changes where large buffers live; nothing elsewhere than glibc.)"""
    try:
        ctypes.CDLL(None).mallopt(-3, 1 << 17)   # M_MMAP_THRESHOLD, glibc's default 128 KiB, now fixed
    except (OSError, AttributeError):
        pass


def load(chunks_of, audited: bool) -> Rows:
    """The Rows of a history (`chunks_of()` yields its chunks, and may be called twice: once more to build
    the pid table when a pid is too large to be its own code). Without `audited` LOG events of the topic are
    dropped (a partial audit proves presence only)."""
    _return_freed_memory()
    try:
        return _load(chunks_of(), audited, None)
    except _BigPids:
        return _load(chunks_of(), audited, _pid_table(chunks_of()))


def _pid_table(chunks) -> np.ndarray:
    """Sorted distinct pids of every keyed event, 0 and the other streams' pids (verify's code table)."""
    seen = [np.zeros(1, dtype=np.uint32)]
    for _, _, ev in chunks:
        pid = ev["pid"]
        mine = (pid != history.FOREIGN_PID) & (pid != history.UNKNOWN_PID)
        seen.append(np.unique(pid[mine]))
    table = np.unique(np.concatenate(seen))
    if len(table) > MAX_PIDS:
        raise UsageError(f"the history holds {len(table)} distinct producer ids; at most {MAX_PIDS} fit a record "
                         "key (kchaos runs use a few)")
    return table


def _load(chunks, audited: bool, pids: np.ndarray | None) -> Rows:
    parts: dict[int, dict[str, list]] = {k: {c: [] for c in cols} for k, (cols, _) in _KEEP.items()}
    other, top, t_min, any_topic = [], 0, None, False
    for name, first, events in chunks:
        if not len(events):
            continue
        ev = _fields(events)
        _check(name, first, ev)
        tm = float(ev["t"].min())
        t_min = tm if t_min is None else min(t_min, tm)
        topic = ev["stream"] == history.TOPIC
        if not topic.all():
            logged = events[~topic & (ev["kind"] == LOG)]
            if len(logged):
                other.append(logged)
            if not topic.any():
                continue
            ev = {f: c[topic] for f, c in ev.items()}
            events = events[topic]
        any_topic = True
        key, kind = _keys(ev, pids), ev["kind"]
        known = key >= 0
        if pids is None and known.any():
            top = max(top, int(ev["pid"][known].max()))
        placed = ev["offset"] >= 0
        pos = _positions(ev)
        for k, (cols, rows) in _KEEP.items():
            if k == LOG and not audited:
                continue
            m = kind == k
            m &= known if rows == "known" else placed if rows == "placed" else True
            if not m.any():
                continue
            for c in cols:   # flags: TXN rows only, read from the events when some are there
                source = events["flags"] if c == "flags" else {"key": key, "pos": pos, "t": ev["t"],
                                                               "last": ev["offset"]}[c]
                parts[k][c].append(source[m])
    out = Rows(t_min=t_min)
    out.other = np.concatenate(other) if other else out.other
    for k, cols in parts.items():
        out.cols[k] = {c: _join(chunks_, c) for c, chunks_ in cols.items()}
        cols.clear()   # free the chunks before joining the next kind
    mine = (out.other["pid"] != history.FOREIGN_PID) & (out.other["pid"] != history.UNKNOWN_PID)
    if pids is not None:
        out.pids = pids
    else:
        others = out.other["pid"][mine]
        if len(others) and int(others.max()) >= SMALL_PIDS:   # an effects row of a large pid: table needed
            raise _BigPids()
        top = max(top, int(others.max()) if len(others) else 0)
        if any_topic or len(others):
            out.pids = np.arange(top + 1, dtype=np.uint32)
    return out


def _join(chunks: list[np.ndarray], column: str) -> np.ndarray:
    """One column from its chunks (an empty one of the right type when none)."""
    if chunks:
        return np.concatenate(chunks) if len(chunks) > 1 else chunks[0]
    return np.zeros(0, dtype={"t": np.float64, "flags": np.uint16}.get(column, np.int64))
