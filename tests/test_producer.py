"""The transactional producer's bookkeeping, without a broker: how seqs are cut into transactions and which
transactions are drawn to abort (seeded, so a run's aborts can be replayed)."""

import threading
import time

from kafka_chaos.workload import producer
from kafka_chaos.workload.producer import TxnPlan, guarded_call, plan_transactions, real_cause, transactional_id


def test_seqs_are_cut_into_transactions_of_txn_size_and_the_last_may_be_shorter():
    plan = plan_transactions(130, 50, 0.0, seed=1)
    assert plan == [(0, 49, False), (50, 99, False), (100, 129, False)]


def test_abort_draws_are_seeded_per_seed_and_producer_instance():
    a = plan_transactions(50 * 400, 50, 0.2, seed=7, instance=0)
    assert a == plan_transactions(50 * 400, 50, 0.2, seed=7, instance=0)
    assert [t[2] for t in a] != [t[2] for t in plan_transactions(50 * 400, 50, 0.2, seed=7, instance=1)]
    assert [t[2] for t in a] != [t[2] for t in plan_transactions(50 * 400, 50, 0.2, seed=8, instance=0)]
    assert 40 <= sum(t[2] for t in a) <= 120   # about one in five of 400


def test_abort_ratio_0_never_aborts_and_1_always_does():
    assert not any(t[2] for t in plan_transactions(5000, 10, 0.0, seed=3))
    assert all(t[2] for t in plan_transactions(5000, 10, 1.0, seed=3))


def test_room_left_in_the_open_transaction():
    plan = TxnPlan(50, 0.1, 0, 0)
    assert plan.room(100, 100) == 50 and plan.room(100, 130) == 20 and plan.room(100, 150) == 0


def test_a_given_transactional_id_is_kept_and_a_derived_one_names_the_instance():
    assert transactional_id({"transactional_id": "orders", "given": True}, 2) == "orders"
    assert transactional_id({"transactional_id": "kchaos-20261126-093000-x", "given": False}, 2) == \
        "kchaos-20261126-093000-x-2"


def watchdog(stopping=False):
    """A worker with only what the watchdog reads (no settings, no client)."""
    p = producer.Producer.__new__(producer.Producer)
    p.stopping = stopping
    return p


def test_the_watchdog_tells_returned_raised_and_hung_apart(monkeypatch):
    monkeypatch.setattr(producer, "WATCHDOG_GRACE", 0.3)
    assert guarded_call(lambda: None, "commit_transaction", 0, watchdog()) is None
    assert guarded_call(lambda: 1 / 0, "commit_transaction", 0, watchdog()) == \
        "commit_transaction failed: ZeroDivisionError: division by zero"
    release = threading.Event()
    start = time.monotonic()
    assert guarded_call(release.wait, "abort_transaction", 0, watchdog()) == "abort_transaction did not return within 0 s"
    assert time.monotonic() - start < 10   # far below the 60 s it waits without the fix, far above a loaded machine
    release.set()


def test_after_sigterm_the_watchdog_waits_only_stop_grace(monkeypatch):
    monkeypatch.setattr(producer, "STOP_GRACE", 0.2)
    release = threading.Event()
    start = time.monotonic()
    assert "did not return" in guarded_call(release.wait, "commit_transaction", 60, watchdog(stopping=True))
    assert time.monotonic() - start < 10   # far below the 60 s it waits without the fix, far above a loaded machine
    release.set()


def test_a_fencing_error_names_its_real_cause():
    fenced = "commit_transaction failed: ProducerFencedError: [Error 90]"
    assert "past transaction_timeout 10 s: its coordinator aborted it" in real_cause(fenced, 12.5, 10.0)
    assert "another producer with the same transactional.id" in real_cause(fenced, 0.3, 10.0)
    bumped = "abort_transaction failed: KafkaError: Invalid transition attempted from state BUMPING_PRODUCER_EPOCH"
    assert "lost its epoch while aborting" in real_cause(bumped, 1.0, 10.0)
    assert real_cause("commit_transaction did not return within 25 s", 30, 10) == \
        "commit_transaction did not return within 25 s"
