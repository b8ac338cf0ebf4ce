"""Producer records/s: kchaos's producer worker with each driver vs Kafka's ProducerPerformance and the raw clients.

    .venv/bin/python benchmarks/producer_bench.py --project kchaos-p --port-base 19392 [--records 200000] [--rounds 3]
        [--cases perf-container,raw-kafka,...]   (default: every case below)

Needs a running compose cluster (`kchaos cluster up --project P --port-base N`). Every case writes RECORDS records
of 100 bytes with acks=all (the at-least-once preset: retries, no idempotence) to its own topic of 3 partitions,
replication factor 3, min.insync.replicas 2; the cases take turns within each round so that the machine's load
falls on all of them alike. Cases:
  perf-container  ProducerPerformance inside broker 1's container (internal listener)
  perf-host       ProducerPerformance on this host (Java's classpath copied from the container), if java exists
  raw-kafka       a bare kafka-python send loop, then flush
  raw-confluent   a bare confluent-kafka produce loop (poll(0) every 1000), then flush
  kchaos-kafka    the kchaos producer worker, started as the runner starts it, kafka-python driver
  kchaos-confl    the same worker, confluent-kafka driver
A kchaos figure is acked records / (last ACK time - first SEND time) read back from the history it wrote: every
send and ack recorded. Prints min/median/max per case and each kchaos median's ratio to its references. On a
machine shared with other work records/s swing widely, so the Python cases also print their CPU time per record
(the whole process: every thread, librdkafka's included; the worker's interpreter start included), which the
load moves far less: the ratio of CPU per record is what one process would reach with a core of its own.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kafka_chaos import history, semantics
from kafka_chaos.cluster import metadata
from kafka_chaos.history import ACK, SEND

SIZE = 100
TOPIC = {"partitions": 3, "rf": 3, "config": {"min.insync.replicas": "2"}}
CASE_TIMEOUT = 300.0   # seconds any one case may take
PERF_CLASS = "org.apache.kafka.tools.ProducerPerformance"
PERF_RE = re.compile(r"(\d+) records sent, ([0-9.]+) records/sec")
CONFIG = semantics.producer_settings("at-least-once", {})
PERF_PROPS = ["acks=all", "retries=2147483647", "enable.idempotence=false", "max.in.flight.requests.per.connection=5"]


def container(project: str) -> str:
    out = subprocess.run(["docker", "ps", "--filter", f"label=com.docker.compose.project={project}",
                          "--filter", "label=kchaos.broker.id=1", "--format", "{{.Names}}"],
                         capture_output=True, text=True, timeout=30).stdout.split()
    if not out:
        sys.exit(f"no running broker 1 in compose project {project}: kchaos cluster up --project {project} first")
    return out[0]


def perf(cmd: list[str]) -> float:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=CASE_TIMEOUT)
    found = PERF_RE.findall(done.stdout)
    if not found:
        raise RuntimeError(f"ProducerPerformance printed no result: {(done.stdout + done.stderr)[-400:]}")
    return float(found[-1][1])


def perf_args(topic: str, n: int, bootstrap: str) -> list[str]:
    return ["--topic", topic, "--num-records", str(n), "--record-size", str(SIZE), "--throughput", "-1",
            "--producer-props", f"bootstrap.servers={bootstrap}", *PERF_PROPS]


CPU: dict[str, list[float]] = {}   # case -> CPU microseconds per record, per round


def cpu_now(children: bool = False) -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def raw_kafka(bootstrap: str, topic: str, n: int) -> float:
    from kafka import KafkaProducer
    p = KafkaProducer(bootstrap_servers=bootstrap, **CONFIG)
    value, deadline = b"x" * SIZE, time.time() + CASE_TIMEOUT
    start, cpu = time.perf_counter(), cpu_now()
    for i in range(n):
        p.send(topic, value)
        if i % 10000 == 0 and time.time() > deadline:
            break
    p.flush(timeout=CASE_TIMEOUT)
    took = time.perf_counter() - start
    CPU.setdefault("raw-kafka", []).append((cpu_now() - cpu) / n * 1e6)
    p.close(timeout=5)
    return n / took


def raw_confluent(bootstrap: str, topic: str, n: int) -> float:
    from confluent_kafka import Producer
    p = Producer({**semantics.librdkafka_settings(CONFIG), "bootstrap.servers": bootstrap})
    value, deadline = b"x" * SIZE, time.time() + CASE_TIMEOUT
    start, cpu = time.perf_counter(), cpu_now()
    for i in range(n):
        while True:
            try:
                p.produce(topic, value)
                break
            except BufferError:
                p.poll(0.01)
                if time.time() > deadline:
                    break
        if i % 1000 == 0:
            p.poll(0)
    left = p.flush(CASE_TIMEOUT)
    took = time.perf_counter() - start
    CPU.setdefault("raw-confluent", []).append((cpu_now() - cpu) / n * 1e6)
    return (n - left) / took


def kchaos_worker(bootstrap: str, topic: str, n: int, client: str) -> float:
    """The producer worker as the runner starts it (its own process, workers.json), then acked/s from its history."""
    with tempfile.TemporaryDirectory(prefix="kchaos-bench-") as tmp:
        run_dir = Path(tmp)
        settings = {"bootstrap": bootstrap, "topic": topic, "run_id": history.new_run_id(), "rate": None,
                    "value_size": SIZE, "counts": {"0": n}, "deadline": time.time() + CASE_TIMEOUT,
                    "flush_timeout": 30, "producer_config": CONFIG, "txn": None, "seed": 1,
                    "producer_client": client}
        (run_dir / "workers.json").write_text(json.dumps(settings))
        cpu = cpu_now(children=True)
        done = subprocess.run([sys.executable, "-m", "kafka_chaos.workload.producer", str(run_dir), "0"],
                              capture_output=True, text=True, timeout=CASE_TIMEOUT + 60)
        if done.returncode:
            raise RuntimeError(f"producer worker failed: {(done.stdout + done.stderr)[-400:]}")
        CPU.setdefault(f"kchaos-{client[:5]}", []).append((cpu_now(children=True) - cpu) / n * 1e6)
        ev = history.read_file(run_dir / "history" / "producer-0.bin")
    acks, sends = ev[ev["kind"] == ACK], ev[ev["kind"] == SEND]
    if len(acks) < n:
        raise RuntimeError(f"only {len(acks)} of {n} sends acknowledged")
    return len(acks) / (acks["t"].max() - sends["t"].min())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", required=True)
    ap.add_argument("--port-base", type=int, required=True)
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cases", default="")
    a = ap.parse_args()
    bootstrap = ",".join(f"127.0.0.1:{a.port_base + i}" for i in range(3))
    name = container(a.project)
    inside = "kafka-1:9092,kafka-2:9092,kafka-3:9092"
    cases = {
        "perf-container": lambda t: perf(["docker", "exec", name, "/opt/kafka/bin/kafka-producer-perf-test.sh",
                                          *perf_args(t, a.records, inside)]),
        "raw-kafka": lambda t: raw_kafka(bootstrap, t, a.records),
        "raw-confluent": lambda t: raw_confluent(bootstrap, t, a.records),
        "kchaos-kafka": lambda t: kchaos_worker(bootstrap, t, a.records, "kafka-python"),
        "kchaos-confl": lambda t: kchaos_worker(bootstrap, t, a.records, "confluent-kafka"),
    }
    libs = None
    if shutil.which("java"):
        libs = tempfile.mkdtemp(prefix="kchaos-bench-libs-")
        subprocess.run(["docker", "cp", f"{name}:/opt/kafka/libs", libs], check=True, timeout=120,
                       capture_output=True)
        cases["perf-host"] = lambda t: perf(["java", "-Xmx512m", "-cp", f"{libs}/libs/*", PERF_CLASS,
                                             *perf_args(t, a.records, bootstrap)])
    else:
        print("perf-host: skipped (no java on this host)")
    if a.cases:
        cases = {k: v for k, v in cases.items() if k in a.cases.split(",")}
    stamp = time.strftime("%H%M%S")
    with metadata.admin(bootstrap) as admin:
        for case in cases:
            metadata.create_topic(admin, f"bench-{stamp}-{case}", TOPIC["partitions"], TOPIC["rf"], TOPIC["config"])
            metadata.wait_topic_ready(admin, f"bench-{stamp}-{case}")
    warm = raw_confluent(bootstrap, f"bench-{stamp}-raw-confluent", a.records)
    print(f"warm-up: {warm:,.0f} records/s (not counted)")
    CPU.clear()
    figures: dict[str, list[float]] = {case: [] for case in cases}
    try:
        for r in range(a.rounds):
            for case, run in cases.items():
                figures[case].append(run(f"bench-{stamp}-{case}"))
                print(f"round {r + 1} {case:>15}: {figures[case][-1]:>10,.0f} records/s", flush=True)
    finally:
        if libs:
            shutil.rmtree(libs, ignore_errors=True)
    print(f"\n{a.records} records of {SIZE} bytes, acks=all, 3 partitions, RF 3, min.insync.replicas 2, "
          f"{a.rounds} rounds")
    print(f"{'case':>15} {'min':>10} {'median':>10} {'max':>10}   CPU us/record (median)")
    med = {}
    for case, xs in figures.items():
        med[case] = statistics.median(xs)
        cpu = f"{statistics.median(CPU[case]):8.1f}" if CPU.get(case) else ""
        print(f"{case:>15} {min(xs):>10,.0f} {med[case]:>10,.0f} {max(xs):>10,.0f}   {cpu}")
    for mine, refs in (("kchaos-kafka", ("raw-kafka",)),
                       ("kchaos-confl", ("perf-container", "perf-host", "raw-confluent"))):
        for ref in refs:
            if mine in med and ref in med:
                line = f"{mine} / {ref}: records/s {med[mine] / med[ref]:.2f}"
                if CPU.get(mine) and CPU.get(ref):
                    line += f", by CPU per record {statistics.median(CPU[ref]) / statistics.median(CPU[mine]):.2f}"
                print(line)


if __name__ == "__main__":
    main()
