"""Closing kafka-python clients without hanging or raising while a fault still blocks the cluster."""

from __future__ import annotations

from kafka.errors import KafkaError


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
