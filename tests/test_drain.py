"""The end of a reader: it stops when its group has read every partition to the ends captured at the deadline,
and the consumer's processing records a batch as the mode and process_time say."""

import signal
import time
from collections import namedtuple

import numpy as np
import pytest
from kafka import TopicPartition

from kafka_chaos import history
from kafka_chaos.history import PROCESS, HistoryWriter
from kafka_chaos.workload import DRAIN_FLAG
from kafka_chaos.workload.consumer import process
from kafka_chaos.workload.drain import Drain, drained, write

T = "topic"


@pytest.mark.parametrize("positions, highwater, committed, done", [
    ({0: 10, 1: 20}, {}, {}, True),                            # every partition owned, at its end
    ({0: 10, 1: 19}, {}, {}, False),                           # one owned partition behind
    ({0: 10, 1: 20}, {1: 25}, {}, False),                      # the high watermark moved past the capture
    ({0: 10, 1: 25}, {1: 25}, {}, True),
    ({0: 12, 1: 21}, {}, {}, True),                            # past the end (control markers): done
    ({0: None, 1: 20}, {}, {}, False),                         # a position not known yet
    ({0: 10}, {}, {}, False),                                  # partition 1 nobody reads: not done
    ({0: 10}, {}, {1: 19}, False),                             # ... and the group did not commit its end
    ({0: 10}, {}, {1: None}, False),
    ({0: 10}, {}, {1: 20}, True),                              # a crashed member's partition, committed to its end
    ({}, {}, {0: 10, 1: 20}, True),                            # mid-rebalance: the group's commits say it all
    ({}, {}, {0: 9, 1: 20}, False),
])
def test_drained_needs_every_partition_at_its_end(positions, highwater, committed, done):
    assert drained({0: 10, 1: 20}, positions, highwater, committed) is done


class FakeClient:
    """What Drain.caught_up asks a kafka-python consumer, from dicts."""

    def __init__(self, positions, highwater=None, committed=None, ends=None):
        self.positions, self.highwater_ = positions, highwater or {}
        self.committed_, self.ends = committed or {}, ends or {}
        self.asked = []

    def assignment(self):
        return {TopicPartition(T, p) for p in self.positions}

    def position(self, tp):
        return self.positions[tp.partition]

    def highwater(self, tp):
        return self.highwater_.get(tp.partition)

    def committed(self, tp, timeout_ms=None):
        assert timeout_ms is not None and timeout_ms <= 5000   # bounded: never an endless wait for a coordinator
        self.asked.append(tp.partition)
        return self.committed_.get(tp.partition)

    def partitions_for_topic(self, topic):
        return set(self.ends)

    def end_offsets(self, parts):
        return {tp: self.ends[tp.partition] for tp in parts}


def drain_in(tmp_path, ends=None, deadline=None):
    d = Drain(tmp_path, {"hard_deadline": time.time() + 60}, {})
    if deadline is not False:
        write(tmp_path / DRAIN_FLAG, deadline or time.time() + 30, ends)
    return d


def test_a_reader_does_not_stop_before_the_drain_file(tmp_path):
    assert not drain_in(tmp_path, deadline=False).caught_up(FakeClient({0: 10}), T)


def test_a_reader_stops_at_the_captured_ends_without_waiting(tmp_path):
    d = drain_in(tmp_path, {0: 10, 1: 20})
    assert d.deadline() is not None
    assert not d.caught_up(FakeClient({0: 10, 1: 19}), T)
    assert d.caught_up(FakeClient({0: 10, 1: 20}), T)


def test_partitions_the_reader_does_not_own_are_judged_by_the_groups_commits(tmp_path):
    client = FakeClient({0: 10}, committed={1: 20})
    assert drain_in(tmp_path, {0: 10, 1: 20}).caught_up(client, T) and client.asked == [1]
    behind = FakeClient({0: 9}, committed={1: 20})
    assert not drain_in(tmp_path, {0: 10, 1: 20}).caught_up(behind, T) and behind.asked == []   # no request


def test_without_ends_in_the_file_the_reader_reads_them_itself(tmp_path):
    d = drain_in(tmp_path, None)
    assert not d.caught_up(FakeClient({0: 4, 1: 20}, ends={0: 5, 1: 20}), T)
    assert d.caught_up(FakeClient({0: 5, 1: 20}, ends={0: 99, 1: 99}), T)   # read once, then kept


def test_the_drain_file_holds_the_deadline_and_the_ends(tmp_path):
    write(tmp_path / DRAIN_FLAG, 123.5, {2: 7})
    d = Drain(tmp_path, {"hard_deadline": 0}, {})
    assert d.deadline() == 123.5 and d._ends == {2: 7}
    (tmp_path / DRAIN_FLAG).write_text("124.5")   # a bare deadline
    assert Drain(tmp_path, {"hard_deadline": 0}, {}).deadline() == 124.5


Record = namedtuple("Record", "partition offset value")
RUN = "00ff00ff00ff00ff"


def batch(n, partition=1):
    records = [Record(partition, 100 + i, history.encode_value(RUN, 3, i, 0, 20)) for i in range(n)]
    return records, history.decode_values([r.value for r in records], RUN)


class CountingWriter(HistoryWriter):
    def __init__(self, path):
        super().__init__(path, worker=2)
        self.writes = 0

    def append(self, *a, **k):
        self.writes += 1
        super().append(*a, **k)

    def append_bytes(self, data):
        self.writes += 1
        super().append_bytes(data)


def test_with_no_work_per_record_a_batch_is_processed_and_recorded_at_once(tmp_path):
    w, counters = CountingWriter(tmp_path / "consumer-2.bin"), {"processed": 0}
    records, ids = batch(5)
    process(records, ids, 0.0, w, lambda: False, counters, worker=2)
    w.close()
    ev = history.read_file(tmp_path / "consumer-2.bin")
    assert w.writes == 2 and counters["processed"] == 5   # each half in one write (the crash point between)
    assert (ev["kind"] == PROCESS).all() and ev["seq"].tolist() == [0, 1, 2, 3, 4]
    assert ev["offset"].tolist() == [100, 101, 102, 103, 104] and (ev["partition"] == 1).all()
    assert (ev["worker"] == 2).all() and (ev["pid"] == 3).all() and len(np.unique(ev["t"][:2])) == 1


@pytest.mark.parametrize("pause", [0.0, 0.001])
@pytest.mark.parametrize("n, before", [(5, 2), (2, 1), (1, None), (0, None)])
def test_the_mid_batch_crash_point_comes_once_half_a_batch_is_processed(tmp_path, pause, n, before):
    """A consumer killed there has processed records it never committed (commit-after-process processes them
    again) and committed records it never processed (commit-before-process skips them): both every time."""
    w, counters, seen = CountingWriter(tmp_path / "consumer-0.bin"), {"processed": 0}, []
    process(*batch(n), pause, w, lambda: False, counters, midway=lambda: seen.append(counters["processed"]))
    assert seen == ([] if before is None else [before]) and counters["processed"] == n


def test_with_work_per_record_each_record_is_its_own_event_and_a_deadline_cuts_the_batch(tmp_path):
    w, counters = CountingWriter(tmp_path / "consumer-2.bin"), {"processed": 0}
    records, ids = batch(5)
    looks = iter([False, False, True])
    process(records, ids, 0.001, w, lambda: next(looks), counters, worker=2)
    w.close()
    ev = history.read_file(tmp_path / "consumer-2.bin")
    assert w.writes == 2 and counters["processed"] == 2 and ev["seq"].tolist() == [0, 1]
    assert (ev["worker"] == 2).all()


def test_past_the_deadline_nothing_of_an_instant_batch_is_processed(tmp_path):
    w, counters = CountingWriter(tmp_path / "consumer-0.bin"), {"processed": 0}
    process(*batch(3), 0.0, w, lambda: True, counters)
    assert w.writes == 0 and counters["processed"] == 0


def test_the_drain_ends_are_read_again_until_the_high_watermarks_stop_moving():
    from kafka_chaos.workload.consumer import settled
    reads = iter([{0: 5}, {0: 8}, {0: 9}, {0: 9}, {0: 99}])   # followers still fetching what the leader acked
    slept = []
    assert settled(lambda: next(reads), 0.3, 10.0, slept.append) == {0: 9}
    assert len(slept) == 3
    moving = iter(range(100))
    assert settled(lambda: {0: next(moving)}, 0.3, 0.9, lambda s: None) == {0: 3}   # bounded: the last read


def test_a_worker_dies_only_at_the_crash_point_the_launcher_asked_for(tmp_path, monkeypatch):
    from kafka_chaos.workload import CRASH_POINT, Worker
    worker = Worker.__new__(Worker)
    worker.run_dir, worker.role, worker.instance = tmp_path, "consumer", 0
    kills = []
    monkeypatch.setattr("os.kill", lambda pid, sig: kills.append(sig))
    flag = tmp_path / CRASH_POINT.format(role="consumer")
    flag.write_text("mid-batch")
    worker.crash_point()   # after-commit: not what was asked
    assert kills == [] and flag.exists()
    flag.write_text("")    # the launcher still writing it
    worker.crash_point("mid-batch")
    assert kills == [] and flag.exists()
    flag.write_text("mid-batch")
    worker.crash_point("mid-batch")
    assert kills == [signal.SIGKILL] and not flag.exists()
