"""The database layer, on SQLite always and on PostgreSQL when KCHAOS_PG_DSN names one
(`dsn=$(bash scripts/install-postgres.sh)` makes a local one): one transaction per batch, duplicate effects
visible, dedup through the inbox, stored offsets, the outbox relayed by its sent flag, the audit's events."""

import os
import secrets

import pytest

from kafka_chaos import history, store
from kafka_chaos.errors import UsageError
from kafka_chaos.store import StoreError

PG_DSN = os.environ.get("KCHAOS_PG_DSN")
needs_pg = pytest.mark.skipif(not PG_DSN, reason="KCHAOS_PG_DSN is not set (a postgresql:// DSN; "
                                                 "scripts/install-postgres.sh prints one)")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=needs_pg)])
def dsn(request, tmp_path, prefix):
    """A database for one test; on PostgreSQL its own table prefix, dropped afterwards."""
    if request.param == "sqlite":
        yield str(tmp_path / "run.db")
    else:
        yield PG_DSN
        store.drop_tables(PG_DSN, prefix)


@pytest.fixture
def prefix():
    return store.table_prefix(secrets.token_hex(8))


@pytest.fixture
def db(dsn, prefix):
    s = store.open_store(dsn, prefix)
    yield s
    s.close()


def effects(dsn, prefix):
    """(pid, seq, partition, offset) of every effects row, by id."""
    return [row[1:5] for row in store.read_effects(dsn, prefix)]


def test_a_batch_is_applied_with_its_offsets_and_a_second_apply_shows_as_duplicate_effects(db, dsn, prefix):
    batch = [(0, 0, 0, 10), (0, 1, 1, 20), (0, 2, 0, 11)]
    assert store.apply_batch(db, "orders", batch) == [True, True, True]
    assert store.apply_batch(db, "orders", batch[:1]) == [True]
    assert effects(dsn, prefix) == batch + batch[:1]
    assert store.stored_offsets(db, "orders") == {0: 11, 1: 21}   # the last batch set partition 0 back


def test_a_failure_mid_batch_leaves_no_effects_and_no_offsets(db, dsn, prefix):
    store.apply_batch(db, "orders", [(0, 0, 0, 0)])
    with pytest.raises(StoreError):   # seq None breaks NOT NULL on the third row, after two were inserted
        store.apply_batch(db, "orders", [(0, 1, 0, 1), (0, 2, 1, 0), (0, None, 0, 2)])
    assert effects(dsn, prefix) == [(0, 0, 0, 0)]
    assert store.stored_offsets(db, "orders") == {0: 1}
    assert store.apply_batch(db, "orders", [(0, 1, 0, 1)]) == [True]   # the connection is usable again


def test_dedup_ignores_a_second_apply_of_the_same_record_but_never_records_without_ids(db, dsn, prefix):
    assert store.apply_batch(db, "orders", [(0, 0, 0, 0), (1, 0, 0, 1)], dedup=True) == [True, True]
    again = [(0, 0, 0, 0), (0, 1, 0, 2), (history.FOREIGN_PID, -1, 0, 3), (history.FOREIGN_PID, -1, 0, 4)]
    assert store.apply_batch(db, "orders", again, dedup=True) == [False, True, True, True]
    assert effects(dsn, prefix) == [(0, 0, 0, 0), (1, 0, 0, 1), (0, 1, 0, 2),
                                    (history.FOREIGN_PID, -1, 0, 3), (history.FOREIGN_PID, -1, 0, 4)]
    assert store.stored_offsets(db, "orders") == {0: 5}


def test_offsets_are_kept_per_topic_and_only_when_asked(db):
    store.apply_batch(db, "a", [(0, 0, 2, 7)])
    store.apply_batch(db, "b", [(0, 1, 2, 3)], store_offsets=False)
    store.apply_batch(db, "a", [(0, 2, 2, 4)])   # the application's position, even when it went back
    assert store.stored_offsets(db, "a") == {2: 5}
    assert store.stored_offsets(db, "b") == {}


def test_two_prefixes_on_one_database_do_not_share_rows(dsn, prefix):
    other = store.table_prefix(secrets.token_hex(8))
    a, b = store.open_store(dsn, prefix), store.open_store(dsn, other)
    try:
        store.apply_batch(a, "t", [(0, 0, 0, 0)])
        assert effects(dsn, other) == [] and store.stored_offsets(b, "t") == {}
    finally:
        a.close(), b.close()
        store.drop_tables(dsn, other)


def test_outbox_rows_are_relayed_by_their_sent_flag(db):
    ids = store.outbox_insert(db, 4, range(5), payload_size=16)
    assert len(ids) == 5 and ids == sorted(ids)
    store.outbox_mark_sent(db, [ids[1], ids[3]])
    unsent = store.outbox_unsent(db, limit=10)
    assert [(i, pid, seq) for i, pid, seq, _ in unsent] == [(ids[0], 4, 0), (ids[2], 4, 2), (ids[4], 4, 4)]
    assert unsent[0][3] == "4:0:" + "." * 12
    assert [row[0] for row in store.outbox_unsent(db, limit=2)] == [ids[0], ids[2]]


def test_a_failed_outbox_write_leaves_neither_business_nor_outbox_rows(db):
    with pytest.raises(StoreError):
        store.outbox_insert(db, 0, [0, 1, None])
    assert store.outbox_unsent(db) == []
    assert store._query(db, f"SELECT COUNT(*) FROM {db.prefix}business")[0][0] == 0


@needs_pg
def test_a_row_with_a_lower_id_committed_later_is_still_relayed(prefix):
    """On PostgreSQL an id is drawn at insert, visible at commit: a relay that remembered `id > last` would
    skip the early, slow transaction's row. (SQLite's writers queue, so there it cannot happen.)"""
    slow, fast, relay = (store.open_store(PG_DSN, prefix) for _ in range(3))
    try:
        with store.transaction(slow):
            [early] = store.outbox_rows(slow, 0, [0])
            [late] = store.outbox_insert(fast, 1, [0])
            assert early < late
            assert [row[0] for row in store.outbox_unsent(relay)] == [late]
            store.outbox_mark_sent(relay, [late])
        assert [row[0] for row in store.outbox_unsent(relay)] == [early]
    finally:
        for s in (slow, fast, relay):
            s.close()
        store.drop_tables(PG_DSN, prefix)


def test_audit_effects_writes_one_log_event_per_row_at_the_source_records_place(db, dsn, prefix, tmp_path):
    store.apply_batch(db, "orders", [(3, 0, 1, 100), (3, 1, 2, 200)])
    store.apply_batch(db, "orders", [(3, 0, 1, 100)])   # a duplicate effect is audited as it is
    writer = history.HistoryWriter(tmp_path / "history" / "audit-0.bin")
    assert store.audit_effects(dsn, prefix, writer) == 3
    writer.close()
    ev = history.read_file(tmp_path / "history" / "audit-0.bin")
    assert set(ev["kind"]) == {history.LOG} and set(ev["stream"]) == {history.EFFECTS}
    assert [tuple(int(x) for x in e) for e in ev[["pid", "seq", "partition", "offset"]]] == \
        [(3, 0, 1, 100), (3, 1, 2, 200), (3, 0, 1, 100)]
    assert (ev["t"] > 0).all()


def test_audit_outbox_names_each_row_by_its_id_and_says_whether_it_was_sent(db, dsn, prefix, tmp_path):
    ids = store.outbox_insert(db, 2, [0, 1])
    store.outbox_mark_sent(db, ids[:1])
    writer = history.HistoryWriter(tmp_path / "audit-1.bin")
    assert store.audit_outbox(dsn, prefix, writer) == 2
    ev = history.read_file(tmp_path / "audit-1.bin")
    assert set(ev["kind"]) == {history.LOG} and set(ev["stream"]) == {history.OUTBOX}
    assert [tuple(int(x) for x in e) for e in ev[["pid", "seq", "partition", "offset", "flags"]]] == \
        [(2, 0, -1, ids[0], 1), (2, 1, -1, ids[1], 0)]


def test_reads_go_page_by_page_and_stop_at_the_row_cap(db, dsn, prefix, tmp_path, monkeypatch):
    monkeypatch.setattr(store, "PAGE", 3)
    store.apply_batch(db, "t", [(0, seq, 0, seq) for seq in range(10)])
    assert [row[2] for row in store.read_effects(dsn, prefix)] == list(range(10))
    writer = history.HistoryWriter(tmp_path / "audit-0.bin")
    assert store.audit_effects(dsn, prefix, writer) == 10
    assert len(history.read_file(tmp_path / "audit-0.bin")) == 10
    monkeypatch.setattr(store, "MAX_ROWS", 5)
    with pytest.raises(StoreError, match="more than 5 rows"):
        store.read_effects(dsn, prefix)


def test_safe_dsn_masks_passwords_and_leaves_the_rest():
    assert store.safe_dsn("postgresql://kchaos:s3cret@127.0.0.1:5432/kchaos") == \
        "postgresql://kchaos:***@127.0.0.1:5432/kchaos"
    assert store.safe_dsn("postgresql://u@h/db?sslmode=off&password=s3cret") == \
        "postgresql://u@h/db?sslmode=off&password=***"
    assert store.safe_dsn("postgres://h/db") == "postgres://h/db"
    assert store.safe_dsn("/runs/x/sink.db") == "/runs/x/sink.db"


@needs_pg
def test_a_refused_connection_is_reported_without_the_password(prefix):
    parts = PG_DSN.split("@", 1)
    wrong = parts[0].split("://", 1)[0] + "://kchaos:not-the-password-xyz@" + parts[1]
    with pytest.raises(StoreError) as caught:
        store.open_store(wrong, prefix)
    assert "not-the-password-xyz" not in str(caught.value) and "***" in str(caught.value)


def test_prefixes_are_checked_before_they_reach_sql():
    assert store.table_prefix("0123ABCDEF") == "kchaos_0123abcdef_"
    for bad in ["orders_", "kchaos_x; DROP TABLE y", "kchaos_" + "a" * 40, "KCHAOS_x"]:
        with pytest.raises(UsageError):
            store.check_prefix(bad)
