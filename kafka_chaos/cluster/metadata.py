"""Live cluster facts from Kafka itself: registered brokers, partition leaders and ISR, the active controller."""

from __future__ import annotations

import functools
import re
import time
import uuid
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from kafka_chaos.clients import BOOTSTRAP_TIMEOUT_MS, bootstrapped, close_producer
from kafka_chaos.errors import ClusterError

HEALTH_TOPIC = "kchaos-health"


@dataclass(frozen=True)
class PartitionState:
    topic: str
    partition: int
    leader: int          # -1 when offline
    replicas: tuple[int, ...]
    isr: tuple[int, ...]


class _AdminClient(KafkaAdminClient):
    """kafka-python's admin client leaves its network thread and sockets running when bootstrap fails;
    this one closes them before re-raising."""

    def __init__(self, **configs):
        try:
            super().__init__(**configs)
        except Exception:
            if hasattr(self, "_net"):
                self._closed = False
                try:
                    self.close()
                except Exception:  # noqa: BLE001 - best effort; the bootstrap error is what matters
                    pass
            raise


def admin(bootstrap: str, timeout_ms: int = 10000, bootstrap_timeout_ms: int = BOOTSTRAP_TIMEOUT_MS) -> KafkaAdminClient:
    """An admin client that works while some brokers are paused or cut off (see clients.bootstrapped).
    The client closes itself at the end of a `with` block."""
    return bootstrapped(bootstrap, functools.partial(_AdminClient, request_timeout_ms=timeout_ms,
                                                     client_id="kchaos-admin"), bootstrap_timeout_ms)


def retrying(call, seconds: float = 20.0):
    """`call()` again while Kafka answers with a retriable error: during a fault the admin client may
    pick a dead or paused broker as its least-loaded node, and the next try picks another."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except KafkaError as exc:
            if time.monotonic() > deadline or isinstance(exc, TopicAlreadyExistsError):
                raise
            time.sleep(0.5)


def registered_brokers(client: KafkaAdminClient) -> set[int]:
    return {b["broker_id"] for b in retrying(client.describe_cluster)["brokers"]}


def partitions(client: KafkaAdminClient, topics: list[str] | None = None) -> list[PartitionState]:
    """State of every partition of `topics` (all non-internal topics when None)."""
    names = topics if topics is not None else [t for t in retrying(client.list_topics) if not t.startswith("__")]
    out = []
    for topic in retrying(lambda: client.describe_topics(names)):
        for p in topic["partitions"]:
            out.append(PartitionState(topic["name"], p["partition_index"], p["leader_id"],
                                      tuple(p["replica_nodes"]), tuple(p["isr_nodes"])))
    return sorted(out, key=lambda s: (s.topic, s.partition))


def leader(client: KafkaAdminClient, topic: str, partition: int, unknown_for: float = 15.0) -> int:
    """The leader of `topic`-`partition` (-1 when offline). Each broker applies a new topic's metadata
    on its own, so the broker asked may not know a topic that was just created: ask again for up to
    `unknown_for` seconds before calling the partition missing."""
    deadline = time.monotonic() + unknown_for
    while True:
        for state in partitions(client, [topic]):
            if state.partition == partition:
                return state.leader
        if time.monotonic() > deadline:
            raise ClusterError(f"{topic}-{partition} does not exist")
        time.sleep(0.5)


def java_hash(text: str) -> int:
    """Java's String.hashCode (32-bit, over UTF-16 code units)."""
    data = text.encode("utf-16-be")
    h = 0
    for i in range(0, len(data), 2):
        h = (31 * h + int.from_bytes(data[i:i + 2], "big")) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def coordinator_partition(key: str, partitions_: int) -> int:
    """The partition of __consumer_offsets / __transaction_state that owns `key` (Kafka's Utils.abs)."""
    h = java_hash(key)
    return (0 if h == -(1 << 31) else abs(h)) % partitions_


def coordinator_of(states: list[PartitionState], key: str, internal_topic: str) -> int:
    """The broker coordinating a consumer group (__consumer_offsets) or transactional id (__transaction_state):
    the leader of the partition of `internal_topic` (its `states`) that owns `key`."""
    if not states:
        raise ClusterError(f"{internal_topic} does not exist yet (no group or transaction has used it)")
    return next(s.leader for s in states if s.partition == coordinator_partition(key, len(states)))


def parse_quorum_leader(text: str) -> int:
    """LeaderId from `kafka-metadata-quorum.sh describe --status` output."""
    m = re.search(r"^LeaderId:\s*(-?\d+)", text, re.MULTILINE)
    if not m:
        raise ClusterError("kafka-metadata-quorum did not report a LeaderId")
    return int(m.group(1))


def active_controller(brokers) -> int:
    """The active KRaft controller (the quorum leader), asked from inside any running broker.
    The Metadata API's controller id is a random broker under KRaft, so it cannot be used."""
    last = None
    for broker in brokers.broker_ids:
        if brokers.state(broker) != "running":
            continue
        try:
            out = brokers.exec(broker, ["kafka-metadata-quorum.sh", "--bootstrap-server", "localhost:9092",
                                        "describe", "--status"], timeout=60)
            return parse_quorum_leader(out)
        except ClusterError as exc:
            last = exc
    raise ClusterError(f"no running broker could tell the active controller ({last})")


def create_topic(client: KafkaAdminClient, name: str, partitions_: int, rf: int, config: dict) -> None:
    try:
        retrying(lambda: client.create_topics([NewTopic(name, partitions_, rf, topic_configs=dict(config))],
                                              timeout_ms=30000), seconds=60)
    except TopicAlreadyExistsError:
        pass
    except KafkaError as exc:
        raise ClusterError(f"cannot create topic {name}: {exc}") from None


def wait_topic_ready(client: KafkaAdminClient, topic: str, timeout: float = 60) -> None:
    """Until every partition of `topic` has a leader and a full ISR."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            states = partitions(client, [topic])
            if states and all(s.leader >= 0 and set(s.isr) == set(s.replicas) for s in states):
                return
        except KafkaError:
            pass
        if time.monotonic() > deadline:
            raise ClusterError(f"topic {topic} has no full ISR after {timeout:.0f}s")
        time.sleep(0.5)


def write_and_read(bootstrap: str, rf: int, timeout: float = 30) -> None:
    """Proof of life: one acks=all record to an RF=`rf` topic, read back."""
    with admin(bootstrap) as client:
        create_topic(client, HEALTH_TOPIC, 1, rf, {"min.insync.replicas": str(min(2, rf))})
        wait_topic_ready(client, HEALTH_TOPIC, timeout)
    marker = uuid.uuid4().hex.encode()
    producer = bootstrapped(bootstrap, functools.partial(KafkaProducer, acks="all", request_timeout_ms=10000))
    try:
        meta = producer.send(HEALTH_TOPIC, marker).get(timeout=timeout)
    finally:
        close_producer(producer, timeout=5)
    consumer = bootstrapped(bootstrap, functools.partial(KafkaConsumer, enable_auto_commit=False,
                                                         consumer_timeout_ms=int(timeout * 1000)))
    try:
        from kafka import TopicPartition

        tp = TopicPartition(HEALTH_TOPIC, 0)
        consumer.assign([tp])
        consumer.seek(tp, meta.offset)
        for record in consumer:
            if record.value == marker:
                return
    finally:
        consumer.close()
    raise ClusterError(f"wrote a record to {HEALTH_TOPIC} at offset {meta.offset} but could not read it back")


def wait_ready(brokers, timeout: float = 120) -> float:
    """Until every broker is registered and an RF=N topic can be written and read; seconds taken."""
    start = time.monotonic()
    expected = set(brokers.broker_ids)
    seen: set[int] = set()
    while time.monotonic() - start < timeout:
        try:
            with admin(brokers.bootstrap, timeout_ms=5000) as client:
                seen = registered_brokers(client)
            if expected <= seen:
                write_and_read(brokers.bootstrap, min(3, len(expected)), timeout=max(10.0, timeout - (time.monotonic() - start)))
                return time.monotonic() - start
        except (ClusterError, KafkaError, OSError):
            pass
        time.sleep(1)
    missing = sorted(expected - seen) or sorted(expected)
    broker = missing[0]
    tail = brokers.logs_tail(broker, 8).strip().splitlines()
    raise ClusterError(f"broker {broker} did not come up within {timeout:.0f}s (state {brokers.state(broker)}); "
                       f"last log lines: {' | '.join(tail[-3:]) or 'none'}")
