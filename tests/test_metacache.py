"""The fault engine's metadata cache: one client for the run, and never an answer older than max_age."""

import threading

import pytest

from kafka_chaos.cluster import metacache
from kafka_chaos.cluster.metacache import MetadataCache
from kafka_chaos.errors import ClusterError


def topic(name, leaders):
    return {"name": name, "error_code": 0, "partitions": [
        {"partition_index": p, "leader_id": b, "replica_nodes": [1, 2, 3], "isr_nodes": [1, 2, 3]}
        for p, b in enumerate(leaders)]}


class Client:
    """Answers describe_topics with the current `leaders`; `down` makes it fail like a broker that is gone."""

    def __init__(self, leaders):
        self.leaders, self.down, self.calls, self.closed = leaders, False, 0, 0

    def describe_topics(self, topics):
        self.calls += 1
        if self.down:
            raise TimeoutError("request timed out")
        return [topic(t, self.leaders) if t == "t" else {"name": t, "error_code": 3, "partitions": []}
                for t in topics]

    def close(self):
        self.closed += 1


@pytest.mark.parametrize("began, now, ok", [(None, 5.0, False), (4.0, 5.0, True), (3.9, 5.0, False),
                                            (5.0, 5.0, True), (6.0, 5.0, False)])
def test_a_sample_answers_only_within_max_age_of_when_its_request_began(began, now, ok):
    assert metacache.fresh(began, now, max_age=1.0) is ok


class Clock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_a_target_is_resolved_from_a_fresh_sample_by_one_client_for_every_lookup():
    clients = []

    def connect(n):
        clients.append(Client([2, 3, 1]))
        return clients[-1]
    cache = MetadataCache(connect, refresh=0.01, max_age=5.0, wait=5.0, samplers=1, unknown_wait=0.05).start()
    try:
        assert [s.leader for s in cache.partitions("t")] == [2, 3, 1]
        clients[0].leaders = [3, 3, 1]
        first = clients[0].calls
        while clients[0].calls < first + 2:   # a sample that began after the change
            threading.Event().wait(0.01)
        assert cache.partitions("t")[0].leader == 3
        assert cache.partitions("missing") == []    # the cluster says it does not exist
        assert len(clients) == 1
    finally:
        cache.close()
    assert clients[0].closed == 1


def test_a_broker_that_does_not_know_a_new_topic_yet_is_not_the_last_word():
    class Lagging(Client):   # the first two answers come from a broker that has not applied the topic yet
        def describe_topics(self, topics):
            self.calls += 1
            if self.calls <= 2:
                return [{"name": t, "error_code": 3, "partitions": []} for t in topics]
            return [topic(t, self.leaders) for t in topics]
    client = Lagging([2])
    cache = MetadataCache(lambda n: client, refresh=0.01, max_age=5.0, wait=5.0, samplers=1).start()
    try:
        assert [s.leader for s in cache.partitions("t")] == [2]
        assert client.calls >= 3
    finally:
        cache.close()


def test_a_sample_older_than_max_age_is_never_returned_and_the_wait_ends_in_a_clear_error():
    clock, client = Clock(), Client([1])
    cache = MetadataCache(lambda n: client, refresh=0.01, max_age=1.0, wait=0.0, clock=clock)
    cache._samples["t"] = (98.5, ["stale"])   # began 1.5 s ago: too old
    with pytest.raises(ClusterError, match="no metadata of t newer than 1.0 s"):
        cache.partitions("t")
    cache._samples["t"] = (99.5, ["recent"])
    assert cache.partitions("t") == ["recent"]


def test_a_failed_sample_closes_the_client_and_the_next_one_reconnects():
    made = []

    def connect(n):
        made.append((n, Client([1])))
        made[-1][1].down = len(made) == 1   # the first client's broker is gone
        return made[-1][1]
    cache = MetadataCache(connect, refresh=0.01, max_age=5.0, wait=5.0, samplers=1).start()
    try:
        assert [s.leader for s in cache.partitions("t")] == [1]
    finally:
        cache.close()
    assert [n for n, _ in made] == [1, 2] and made[0][1].closed == 1   # the reconnect aims at the next address
