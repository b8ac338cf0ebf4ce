"""The database the sink applies effects to and the outbox step writes to: SQLite, or PostgreSQL for a
`postgresql://` DSN.

Tables, each named `<prefix><name>` (the prefix is `kchaos_` plus the run's own part, so two runs on one
PostgreSQL never share a table), created when missing:
    effects   (id, pid, seq, kafka_partition, kafka_offset, t)  one row per applied record, never unique:
              a record applied twice shows as two rows
    inbox     (pid, seq) primary key   ids of records already applied: consulted in dedup mode only
    offsets   (topic, kafka_partition, next_offset)  the sink's consumer position, beside its effects
    business  (id, pid, seq, t)   the application step's own row, written with its outbox row
    outbox    (id, pid, seq, payload, sent, t)  messages the relay has still to publish (sent = 0)
Guarantee: each write function is one database transaction, all of it or none (a failure rolls it back).
Every query is bounded (LIMIT, or a page size and a row cap). DSNs may hold passwords: messages name a
DSN only through safe_dsn().
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from kafka_chaos import history
from kafka_chaos.errors import KchaosError, UsageError

PREFIX = "kchaos_"
_PREFIX_RE = re.compile(r"^kchaos_[a-z0-9_]{0,32}$")
RETRY_PAUSE = 1.0         # seconds a worker waits while the database refuses work
PAGE = 10_000             # rows per query of a read or an audit
MAX_ROWS = 100_000_000    # rows one read or audit accepts at most (a run's records are fewer)
BUSY_TIMEOUT = 30.0       # seconds a SQLite writer waits for another one's lock

_SQL = {   # the two dialects' differences: auto-increment ids, float type, placeholders
    "sqlite": {"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "float": "REAL"},
    "postgresql": {"id": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "float": "DOUBLE PRECISION"},
}
_TABLES = """
CREATE TABLE IF NOT EXISTS {p}effects (id {id}, pid BIGINT NOT NULL, seq BIGINT NOT NULL,
    kafka_partition INTEGER NOT NULL, kafka_offset BIGINT NOT NULL, t {float} NOT NULL);
CREATE TABLE IF NOT EXISTS {p}inbox (pid BIGINT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (pid, seq));
CREATE TABLE IF NOT EXISTS {p}offsets (topic TEXT NOT NULL, kafka_partition INTEGER NOT NULL,
    next_offset BIGINT NOT NULL, PRIMARY KEY (topic, kafka_partition));
CREATE TABLE IF NOT EXISTS {p}business (id {id}, pid BIGINT NOT NULL, seq BIGINT NOT NULL, t {float} NOT NULL);
CREATE TABLE IF NOT EXISTS {p}outbox (id {id}, pid BIGINT NOT NULL, seq BIGINT NOT NULL, payload TEXT NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0, t {float} NOT NULL);
CREATE INDEX IF NOT EXISTS {p}outbox_unsent ON {p}outbox (id) WHERE sent = 0
"""
TABLE_NAMES = ("effects", "inbox", "offsets", "business", "outbox")


class StoreError(KchaosError):
    """The database refused or failed a statement, or cannot be reached (exit 3)."""


@dataclass
class Store:
    """An open connection and what the functions below need to know about it."""

    conn: object           # sqlite3.Connection or psycopg.Connection (autocommit; transactions explicit)
    kind: str              # "sqlite" or "postgresql"
    prefix: str
    dsn: str               # for messages through safe_dsn() only
    errors: tuple          # the driver's exception base classes

    def close(self) -> None:
        with contextlib.suppress(*self.errors):
            self.conn.close()


def is_postgresql(dsn: str) -> bool:
    return dsn.startswith(("postgresql://", "postgres://"))


def safe_dsn(dsn: str) -> str:
    """`dsn` with any password masked: postgresql://user:***@host/db, password=*** in a query string. Never
    raises. The user part ends at the LAST @ (libpq accepts ?, # and / in a password, which a URL parser takes
    for the end of the host)."""
    if not is_postgresql(dsn):
        return dsn
    scheme, _, rest = dsn.partition("://")
    if "@" in rest:
        user, _, rest = rest.rpartition("@")
        rest = (user.split(":", 1)[0] + (":***" if ":" in user else "")) + "@" + rest
    return scheme + "://" + re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", rest)


def _scrub(text: str, dsn: str) -> str:
    """A driver's message with the DSN's password (and the DSN itself) replaced by their masked forms."""
    text = text.replace(dsn, safe_dsn(dsn))
    scheme, _, rest = dsn.partition("://")
    user = rest.rpartition("@")[0] if "@" in rest else ""
    if ":" in user and user.split(":", 1)[1]:
        text = text.replace(user.split(":", 1)[1], "***")
    return text


def table_prefix(run_id: str) -> str:
    """The prefix of one run's tables: kchaos_<run id>_ (run ids are hex, so the names are plain SQL)."""
    return check_prefix(f"{PREFIX}{run_id.lower()}_")


def check_prefix(prefix: str) -> str:
    """`prefix` if it is safe to splice into table names (it is never a query parameter), else UsageError."""
    if not isinstance(prefix, str) or not _PREFIX_RE.fullmatch(prefix):
        raise UsageError(f"store prefix {prefix!r} must be kchaos_ followed by at most 32 of a-z, 0-9 and _")
    return prefix


def open_store(dsn: str, prefix: str = PREFIX) -> Store:
    """Connect to `dsn` (a SQLite file path or sqlite:///path, or a postgresql:// URL) and create the
    prefix's tables where missing."""
    check_prefix(prefix)
    if is_postgresql(dsn):
        import psycopg   # only runs on PostgreSQL need the driver

        try:
            conn = psycopg.connect(dsn, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to {safe_dsn(dsn)}: {_scrub(_first_line(exc), dsn)}") from None
        except Exception as exc:  # noqa: BLE001 - e.g. a DSN the driver cannot parse: its message quotes it
            raise StoreError(f"cannot connect to {safe_dsn(dsn)}: {type(exc).__name__}: "
                             f"{_scrub(_first_line(exc), dsn)}") from None
        store = Store(conn, "postgresql", prefix, dsn, (psycopg.Error,))
    else:
        path = dsn[len("sqlite://"):] if dsn.startswith("sqlite://") else dsn
        try:
            conn = sqlite3.connect(Path(path), timeout=BUSY_TIMEOUT, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")   # readers (the audit) never block the writers
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the SQLite database {path}: {exc}") from None
        store = Store(conn, "sqlite", prefix, dsn, (sqlite3.Error,))
    with transaction(store):
        if store.kind == "postgresql":   # concurrent CREATE TABLE IF NOT EXISTS can still collide
            _execute(store, "SELECT pg_advisory_xact_lock(hashtext(?))", (prefix,))
        for statement in _TABLES.format(p=prefix, **_SQL[store.kind]).split(";"):
            _execute(store, statement)
    return store


@contextlib.contextmanager
def transaction(store: Store):
    """One database transaction: committed when the block ends, rolled back (and StoreError raised) when a
    statement fails. SQLite's BEGIN IMMEDIATE takes the write lock at once, so two writers queue instead
    of failing on a lock upgrade."""
    try:
        if store.kind == "postgresql":
            with store.conn.transaction():
                yield
        else:
            store.conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                store.conn.rollback()
                raise
            store.conn.commit()
    except store.errors as exc:
        raise StoreError(f"database {safe_dsn(store.dsn)}: {_first_line(exc)}") from None


def apply_batch(store: Store, topic: str, records, dedup: bool = False, store_offsets: bool = True) -> list[bool]:
    """Apply the effects of `records` [(pid, seq, partition, offset)] and, with `store_offsets`, set each
    partition's next offset (the highest applied offset + 1), in ONE transaction. With `dedup`, a record
    whose (pid, seq) is already in the inbox is skipped (records without ids, seq < 0, are always applied).
    Returns, per record, whether its effect was written."""
    applied, now, p = [], time.time(), store.prefix
    with transaction(store):
        for pid, seq, partition, offset in records:
            if dedup and seq >= 0:
                cur = _execute(store, f"INSERT INTO {p}inbox (pid, seq) VALUES (?, ?) ON CONFLICT DO NOTHING",
                               (pid, seq))
                if cur.rowcount != 1:
                    applied.append(False)
                    continue
            _execute(store, f"INSERT INTO {p}effects (pid, seq, kafka_partition, kafka_offset, t) "
                            "VALUES (?, ?, ?, ?, ?)", (pid, seq, partition, offset, now))
            applied.append(True)
        if store_offsets:
            ends: dict[int, int] = {}
            for _, _, partition, offset in records:
                ends[partition] = max(ends.get(partition, -1), offset + 1)
            for partition, next_offset in sorted(ends.items()):
                _execute(store, f"INSERT INTO {p}offsets (topic, kafka_partition, next_offset) VALUES (?, ?, ?) "
                                "ON CONFLICT (topic, kafka_partition) DO UPDATE SET next_offset = excluded.next_offset",
                         (topic, partition, next_offset))
    return applied


def stored_offsets(store: Store, topic: str) -> dict[int, int]:
    """{partition: next offset to read} the sink stored for `topic`."""
    rows = _query(store, f"SELECT kafka_partition, next_offset FROM {store.prefix}offsets WHERE topic = ? "
                         "ORDER BY kafka_partition LIMIT ?", (topic, PAGE))
    return {int(partition): int(offset) for partition, offset in rows}


def outbox_insert(store: Store, pid: int, seqs, payload_size: int = 0) -> list[int]:
    """The application step: for each seq a business row and its outbox row (payload `payload_size`
    bytes), all in ONE transaction. Returns the outbox ids, in the order of `seqs`."""
    with transaction(store):
        return outbox_rows(store, pid, seqs, payload_size)


def outbox_rows(store: Store, pid: int, seqs, payload_size: int = 0) -> list[int]:
    """outbox_insert's statements, inside a transaction the caller holds open."""
    ids, now, p = [], time.time(), store.prefix
    for seq in seqs:
        _execute(store, f"INSERT INTO {p}business (pid, seq, t) VALUES (?, ?, ?)", (pid, seq, now))
        payload = f"{pid}:{seq}:".ljust(payload_size, ".")
        cur = _execute(store, f"INSERT INTO {p}outbox (pid, seq, payload, sent, t) VALUES (?, ?, ?, 0, ?) RETURNING id",
                       (pid, seq, payload, now))
        ids.append(int(cur.fetchone()[0]))
    return ids


def outbox_unsent(store: Store, limit: int = 500) -> list[tuple[int, int, int, str]]:
    """Up to `limit` unsent rows (id, pid, seq, payload), lowest id first. Chosen by the `sent` flag, not
    by `id > last id seen`: on PostgreSQL ids are drawn before commit, so a row with a lower id can become
    visible after a higher one was already relayed, and an id cursor would skip it for good."""
    rows = _query(store, f"SELECT id, pid, seq, payload FROM {store.prefix}outbox WHERE sent = 0 ORDER BY id LIMIT ?",
                  (max(1, min(limit, PAGE)),))
    return [(int(i), int(pid), int(seq), payload) for i, pid, seq, payload in rows]


def outbox_mark_sent(store: Store, ids) -> None:
    """Mark the rows `ids` sent, in one transaction."""
    with transaction(store):
        for i in ids:
            _execute(store, f"UPDATE {store.prefix}outbox SET sent = 1 WHERE id = ?", (i,))


def read_effects(dsn: str, prefix: str = PREFIX) -> list[tuple[int, int, int, int, int, float]]:
    """Every effects row (id, pid, seq, partition, offset, t), by id."""
    store = open_store(dsn, prefix)
    try:
        return list(_pages(store, "effects", "pid, seq, kafka_partition, kafka_offset, t"))
    finally:
        store.close()


def audit_effects(dsn: str, prefix: str, writer: history.HistoryWriter) -> int:
    """One LOG event per effects row (stream EFFECTS; partition and offset: the source record's place in the
    topic; t: when it was applied). Returns the number of rows."""
    def to_events(rows):
        _, pids, seqs, partitions, offsets, ts = zip(*rows)
        return history.events(history.LOG, pids, seqs, ts, partitions, offsets, stream=history.EFFECTS)
    return _audit(dsn, prefix, "effects", "pid, seq, kafka_partition, kafka_offset, t", to_events, writer)


def audit_outbox(dsn: str, prefix: str, writer: history.HistoryWriter) -> int:
    """One LOG event per outbox row (stream OUTBOX; offset: the outbox id; partition -1; flags 1 when the row
    is marked sent, 0 when the relay never marked it; t: when it was written). Returns the number of rows."""
    def to_events(rows):
        ids, pids, seqs, sent, ts = zip(*rows)
        return history.events(history.LOG, pids, seqs, ts, -1, ids, flags=[1 if s else 0 for s in sent],
                              stream=history.OUTBOX)
    return _audit(dsn, prefix, "outbox", "pid, seq, sent, t", to_events, writer)


def drop_tables(dsn: str, prefix: str) -> None:
    """Remove the prefix's tables (tests, and a runner cleaning up a run on a shared PostgreSQL)."""
    store = open_store(dsn, prefix)
    try:
        with transaction(store):
            for name in TABLE_NAMES:
                _execute(store, f"DROP TABLE IF EXISTS {prefix}{name}")
    finally:
        store.close()


def _audit(dsn: str, prefix: str, table: str, columns: str, to_events, writer: history.HistoryWriter) -> int:
    """Write a table's rows as events, one append per page."""
    store, seen, page = open_store(dsn, prefix), 0, []
    try:
        for row in _pages(store, table, columns):
            page.append(row)
            if len(page) == PAGE:
                writer.append_many(to_events(page))
                seen, page = seen + len(page), []
        if page:
            writer.append_many(to_events(page))
            seen += len(page)
        return seen
    finally:
        store.close()


def _pages(store: Store, table: str, columns: str):
    """Rows (id, *columns) of a table by id, PAGE at a time (keyset: each query bounded), at most MAX_ROWS."""
    last, seen = -1, 0
    while True:
        rows = _query(store, f"SELECT id, {columns} FROM {store.prefix}{table} WHERE id > ? ORDER BY id LIMIT ?",
                      (last, PAGE))
        if not rows:
            return
        seen += len(rows)
        if seen > MAX_ROWS:
            raise StoreError(f"table {store.prefix}{table} holds more than {MAX_ROWS} rows")
        yield from rows
        last = rows[-1][0]


def _execute(store: Store, sql: str, params=()):
    """Run one statement; SQL is written with ? placeholders, which psycopg spells %s."""
    if store.kind == "postgresql":
        sql = sql.replace("?", "%s")
    try:
        return store.conn.execute(sql, params)
    except store.errors as exc:
        raise StoreError(f"database {safe_dsn(store.dsn)}: {_first_line(exc)}") from None


def _query(store: Store, sql: str, params=()) -> list[tuple]:
    return _execute(store, sql, params).fetchall()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class Reconnecting:
    """A store opened on first use and opened again after a failure (a database restarted by a fault):
    workers call `get()` for each unit of work and `failed()` when it raised StoreError."""

    def __init__(self, dsn: str, prefix: str):
        self.dsn, self.prefix = dsn, prefix
        self._store: Store | None = None

    def get(self) -> Store:
        if self._store is None:
            self._store = open_store(self.dsn, self.prefix)
        return self._store

    def failed(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    close = failed

    def retry_later(self, exc: StoreError, who: str, counters: dict) -> None:
        """After a StoreError: say so once (as `who`), count it in counters["db_errors"], reopen on the next
        get(), and pause RETRY_PAUSE seconds before the worker tries again."""
        if not counters.get("db_errors"):
            print(f"{who}: {exc}; retrying every {RETRY_PAUSE:.0f} s", flush=True)
        counters["db_errors"] = counters.get("db_errors", 0) + 1
        self.failed()
        time.sleep(RETRY_PAUSE)
