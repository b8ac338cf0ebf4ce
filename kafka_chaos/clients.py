"""Opening and closing kafka-python clients while a fault blocks part of the cluster."""

from __future__ import annotations

from kafka.errors import KafkaError

from kafka_chaos.errors import ClusterError

BOOTSTRAP_TIMEOUT_MS = 5000
_last_good: dict[str, str] = {}   # bootstrap list -> the address that answered last time (per process)


def bootstrapped(bootstrap: str, make, timeout_ms: int = BOOTSTRAP_TIMEOUT_MS):
    """`make(bootstrap_servers=ADDRESS, bootstrap_timeout_ms=timeout_ms)` for the first address of the
    comma-separated `bootstrap` that answers, starting with the one that answered last.

    kafka-python's clients bootstrap in their constructor from one address picked at random and spend
    the whole timeout on it when that broker is paused or cut off, then fail; a worker restarted during
    such a fault would die. After bootstrap a client uses the cluster's metadata, not this address.
    """
    servers = bootstrap.split(",")
    first = _last_good.get(bootstrap)
    if first in servers:
        i = servers.index(first)
        servers = servers[i:] + servers[:i]
    last = None
    for server in servers:
        try:
            client = make(bootstrap_servers=server, bootstrap_timeout_ms=timeout_ms)
        except KafkaError as exc:
            last = exc
            continue
        _last_good[bootstrap] = server
        return client
    raise ClusterError(f"cannot reach Kafka at {bootstrap}: {type(last).__name__}")


def close_producer(producer, timeout: float = 5) -> None:
    """Close `producer`, waiting at most `timeout` s for pending sends, then give up on them.

    kafka-python's close() flushes first and raises KafkaTimeoutError when records are still in
    flight (a paused or lossy broker), leaving its sender thread running. Here the sender is then
    closed forcefully: pending sends fail through their error callbacks instead of hanging.
    """
    try:
        producer.close(timeout=timeout)
        return
    except KafkaError:
        pass
    sender = getattr(producer, "_sender", None)   # kafka-python has no public force-close
    if sender is not None:
        sender.force_close()
        sender.join(timeout)
