"""The cluster kchaos drives: a compose project it starts, or live containers it was pointed at."""

from __future__ import annotations

from dataclasses import dataclass

from kafka.errors import KafkaError

from kafka_chaos.cluster import metadata
from kafka_chaos.cluster.compose import ComposeCluster
from kafka_chaos.cluster.containers import ContainerBrokers
from kafka_chaos.errors import ClusterError

__all__ = ["ComposeCluster", "ContainerBrokers", "BrokerStatus", "status", "open_cluster"]


@dataclass(frozen=True)
class BrokerStatus:
    broker: int
    container: str
    state: str            # running | paused | exited | missing
    port: str             # host address clients use
    controller: bool      # the active KRaft controller
    leads: int            # partitions led (all topics)


def status(brokers: ContainerBrokers) -> list[BrokerStatus]:
    """One row per broker; Kafka-side columns are blank when the cluster does not answer."""
    controller, leads = -1, {}
    try:
        controller = metadata.active_controller(brokers)
    except ClusterError:
        pass
    try:
        with metadata.admin(brokers.bootstrap, timeout_ms=5000) as client:
            for p in metadata.partitions(client):
                leads[p.leader] = leads.get(p.leader, 0) + 1
    except (ClusterError, KafkaError):
        pass
    ports = dict(enumerate(brokers.bootstrap.split(","), start=1))
    return [BrokerStatus(b, brokers.containers.get(b, "") or "-", brokers.state(b),
                         ports.get(i, "?"), b == controller, leads.get(b, 0))
            for i, b in enumerate(brokers.broker_ids, start=1)]


def open_cluster(spec, override=None, project: str | None = None, port_base: int | None = None) -> ContainerBrokers:
    """The brokers a scenario's `cluster:` block names (a ComposeCluster when it names a compose file, as
    compose project `project` with its host ports from `port_base`)."""
    if spec.compose:
        return ComposeCluster(spec.compose, project=project, override=override, port_base=port_base)
    if getattr(spec, "commands", None):
        from kafka_chaos.cluster.commands import CommandBrokers
        return CommandBrokers(spec.bootstrap, dict(spec.hosts), dict(spec.commands))
    return ContainerBrokers(spec.bootstrap, dict(spec.containers))
