"""The history writer: what append writes is exactly numpy's EVENT layout, whatever path it takes."""

import os
import threading

import numpy as np
import pytest

from kafka_chaos import history
from kafka_chaos.history import ACK, COMMIT, EFFECTS, OUTPUT, PROCESS, SEND, TXN, HistoryWriter, events


def test_append_writes_the_bytes_of_the_numpy_event(tmp_path):
    w = HistoryWriter(tmp_path / "consumer-3.bin", worker=3, stream=EFFECTS)
    w.append(PROCESS, 7, 2**40 - 1, 1234.5678, 2, 99)
    w.append(ACK, 0xFFFFFFFE, -1, 0.25, partition=-1, offset=-1, flags=4, stream=OUTPUT)
    w.append(COMMIT, 0, -1, 1e9, 0, 2**62)
    w.close()
    want = np.concatenate([events(PROCESS, 7, 2**40 - 1, 1234.5678, 2, 99, worker=3, stream=EFFECTS),
                           events(ACK, 0xFFFFFFFE, -1, 0.25, -1, -1, worker=3, flags=4, stream=OUTPUT),
                           events(COMMIT, 0, -1, 1e9, 0, 2**62, worker=3, stream=EFFECTS)])
    assert (tmp_path / "consumer-3.bin").read_bytes() == want.tobytes()


def test_append_bytes_takes_whole_events_only(tmp_path):
    w = HistoryWriter(tmp_path / "producer-0.bin")
    w.append_bytes(events(SEND, 1, np.arange(3), 10.0).tobytes())
    with pytest.raises(ValueError, match="not whole events"):
        w.append_bytes(b"x" * 41)
    w.close()
    assert history.read_file(tmp_path / "producer-0.bin")["seq"].tolist() == [0, 1, 2]


def test_a_short_single_append_is_completed(tmp_path, monkeypatch):
    w = HistoryWriter(tmp_path / "producer-0.bin")
    real = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real(fd, bytes(data[:9])))
    w.append(TXN, 1, 5, 10.0, offset=9, flags=1)
    w.append(SEND, 1, 6, 11.0)
    w.close()
    ev = history.read_file(tmp_path / "producer-0.bin")
    assert ev["seq"].tolist() == [5, 6] and ev["offset"].tolist() == [9, -1]


def test_threads_appending_at_once_leave_whole_events(tmp_path):
    w = HistoryWriter(tmp_path / "producer-0.bin")

    def many(pid):
        for seq in range(2000):
            w.append(ACK, pid, seq, 1.0, 0, seq)

    threads = [threading.Thread(target=many, args=(pid,)) for pid in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.close()
    ev = history.read_file(tmp_path / "producer-0.bin")
    for pid in range(4):
        assert ev["seq"][ev["pid"] == pid].tolist() == list(range(2000))
