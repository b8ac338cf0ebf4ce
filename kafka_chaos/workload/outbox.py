"""The outbox application step: writes, at a bounded rate, its business rows and their outbox rows, each
batch in ONE database transaction, for the relay (workload.relay) to publish.

Settings: settings["outbox"] = {"dsn", "prefix", "count": records per instance, "rate": records/s (0: as
fast as the database takes them), "batch": records per transaction (default 10), "payload_size": bytes
(default 0), "pid_base": added to the instance number (default 0; give one no producer of the topic uses)};
settings["deadline"] ends the writing like the producer's.
A record's identity is (pid = pid_base + instance, seq = its counter). Events, stream OUTBOX: SEND before the
transaction, ACK after its commit (partition -1, offset = the outbox id), ERROR when it failed (its seqs are
not written again; a commit whose answer was lost may still have landed, like an unacknowledged send).
"""

from __future__ import annotations

import sys
import time

from kafka_chaos import history, store
from kafka_chaos.history import ACK, ERROR, OUTBOX, SEND
from kafka_chaos.workload import Worker

BATCH = 10
RETRY_PAUSE = 1.0   # seconds after a failed transaction before the next one


class Outbox(Worker):
    role = "outbox"

    def run(self) -> None:
        s, o = self.settings, self.settings["outbox"]
        total = s.get("counts", {}).get(str(self.instance), o["count"])   # a restarted one writes what is left
        pid, rate = o.get("pid_base", 0) + self.instance, o.get("rate", 0)
        batch, size, deadline = o.get("batch", BATCH), o.get("payload_size", 0), s["deadline"]
        self.history.stream = OUTBOX
        db = store.Reconnecting(o["dsn"], o["prefix"])
        self.counters = {"sent": 0, "acked": 0, "errors": 0}
        start, seq = time.time(), 0
        try:
            while seq < total and time.time() < deadline and not self.stopping:
                self.history.check()
                due = total if not rate else min(total, int((time.time() - start) * rate) + 1)
                n = min(batch, due - seq)
                if n <= 0:
                    time.sleep(min(0.01, 1.0 / rate))
                    continue
                seqs = range(seq, seq + n)
                self.history.append_many(history.events(SEND, pid, seqs, time.time(), worker=self.instance,
                                                        stream=OUTBOX))
                seq += n
                self.counters["sent"] = seq
                try:
                    ids = store.outbox_insert(db.get(), pid, seqs, size)
                except store.StoreError as exc:
                    self.history.append_many(history.events(ERROR, pid, seqs, time.time(), worker=self.instance,
                                                            stream=OUTBOX))
                    if not self.counters["errors"]:
                        print(f"outbox-{self.instance}: {exc}", flush=True)
                    self.counters["errors"] += n
                    db.failed()
                    time.sleep(RETRY_PAUSE)
                    continue
                self.history.append_many(history.events(ACK, pid, seqs, time.time(), -1, ids, worker=self.instance,
                                                        stream=OUTBOX))
                self.counters["acked"] += n
                self.publish()
        finally:
            db.close()
            self.publish(force=True)


if __name__ == "__main__":
    Outbox(sys.argv[1], int(sys.argv[2])).run()
