"""The outbox relay: publishes the outbox's unsent rows to the topic, then marks them sent.

Settings: settings["outbox"] (its "dsn" and "prefix"), settings["relay"] = {"producer_config": {...}}
(optional; the producer is idempotent with acks=all unless it says otherwise), settings["topic"],
settings["value_size"], settings["flush_timeout"], and the drain settings of workload.drain.
Each turn reads up to BATCH rows whose `sent` flag is 0 (not `id > last`: on PostgreSQL a lower id can
commit later), records SEND, sends each as history.encode_value(run_id, pid, seq, ...), waits for the acks
(flush), then marks the acknowledged rows sent in one transaction. ACK and ERROR events as the producer's
(stream TOPIC). A row whose send failed stays unsent and is sent again next turn; a crash between the ack and
the mark publishes the rows again: duplicates by (pid, seq) in the topic, the pattern's known cost.
The relay stops once the runner wrote RUN_DIR/drain-relay (after every outbox application instance exited), the
write deadline passed and no unsent row is left; or at the drain or hard deadline. (Its own flag: the readers
drain only after it.)
"""

from __future__ import annotations

import functools
import sys
import time

from kafka import KafkaProducer
from kafka.errors import KafkaError

from kafka_chaos import history, store
from kafka_chaos.clients import BOOTSTRAP_TIMEOUT_MS, bootstrapped, close_producer
from kafka_chaos.history import ACK, ERROR, SEND
from kafka_chaos.workload import Worker
from kafka_chaos.workload.drain import RELAY_DRAIN, Drain
from kafka_chaos.workload.producer_kafka import error_code

BATCH = 200          # rows published per turn at most
EMPTY_PAUSE = 0.1    # seconds between looks at an empty outbox


class Relay(Worker):
    role = "relay"

    def run(self) -> None:
        s, o = self.settings, self.settings["outbox"]
        self.run_id, self.topic, self.size = s["run_id"], s["topic"], s.get("value_size", 0)
        config = {"enable_idempotence": True, "acks": "all", "client_id": f"kchaos-relay-{self.instance}",
                  **s.get("relay", {}).get("producer_config", {})}
        timeout_ms = config.pop("bootstrap_timeout_ms", BOOTSTRAP_TIMEOUT_MS)
        self.db = store.Reconnecting(o["dsn"], o["prefix"])
        self.counters = {"sent": 0, "acked": 0, "errors": 0, "marked": 0, "db_errors": 0}
        drain = Drain(self.run_dir, s, self.counters, flag=RELAY_DRAIN)
        client = bootstrapped(s["bootstrap"], functools.partial(KafkaProducer, **config), timeout_ms)
        try:
            while not self.stopping and not drain.out_of_time():
                self.history.check()
                try:
                    rows = store.outbox_unsent(self.db.get(), BATCH)
                except store.StoreError as exc:
                    self._db_failed(exc)
                    continue
                if not rows:
                    if drain.deadline() is not None and time.time() > s["deadline"]:
                        break   # the application step is done and everything it wrote is out
                    time.sleep(EMPTY_PAUSE)
                    continue
                acked = self._publish(client, rows)
                if acked:
                    self.crash_point()   # published and acknowledged, not yet marked sent
                    try:
                        store.outbox_mark_sent(self.db.get(), acked)
                        self.counters["marked"] += len(acked)
                    except store.StoreError as exc:   # they are published again: duplicates
                        self._db_failed(exc)
                self.publish()
        finally:
            close_producer(client, timeout=5)
            self.db.close()
            self.publish(force=True)

    def _publish(self, client, rows) -> list[int]:
        """Send `rows` (SEND events first), wait for their acks; the outbox ids acknowledged so far."""
        acked: list[int] = []
        self.history.append_many(history.events(SEND, [r[1] for r in rows], [r[2] for r in rows], time.time(),
                                                worker=self.instance))
        for outbox_id, pid, seq, _ in rows:
            value = history.encode_value(self.run_id, pid, seq, int(time.time() * 1000), self.size)
            try:
                future = client.send(self.topic, value)
            except KafkaError as exc:
                self._failed(pid, seq, exc)
                continue
            future.add_callback(self._acked, acked, outbox_id, pid, seq)
            future.add_errback(self._failed, pid, seq)
        self.counters["sent"] += len(rows)
        try:
            client.flush(timeout=self.settings["flush_timeout"])
        except KafkaError:   # still unacknowledged: those rows stay unsent and go out again next turn
            pass
        return list(acked)

    def _acked(self, acked: list, outbox_id: int, pid: int, seq: int, meta) -> None:
        if meta.offset is None or meta.offset < 0:   # acks=0: no broker answered
            return
        self.history.append(ACK, pid, seq, time.time(), meta.partition, meta.offset)
        self.counters["acked"] += 1
        acked.append(outbox_id)

    def _failed(self, pid: int, seq: int, exc) -> None:
        self.history.append(ERROR, pid, seq, time.time(), flags=error_code(exc))
        self.counters["errors"] += 1

    def _db_failed(self, exc: store.StoreError) -> None:
        self.db.retry_later(exc, f"relay-{self.instance}", self.counters)


if __name__ == "__main__":
    Relay(sys.argv[1], int(sys.argv[2])).run()
