"""A real 3-broker cluster for the integration tests, started once per session from compose/kraft-3.yml.

Without a Docker engine or Kafka image the tests skip and say why; CI sets KCHAOS_REQUIRE_CLUSTER=1 so
they fail instead.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kafka_chaos import scenario
from kafka_chaos.cluster import ComposeCluster, metadata
from kafka_chaos.errors import KchaosError

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose" / "kraft-3.yml"


def pytest_collection_modifyitems(items):
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def cluster():
    c = ComposeCluster(COMPOSE)
    try:
        c.up(os.environ.get("KCHAOS_KAFKA_VERSION", "4.1.1"))
        metadata.wait_ready(c, timeout=180)
    except KchaosError as exc:
        if os.environ.get("KCHAOS_REQUIRE_CLUSTER"):
            raise
        pytest.skip(f"no real cluster can start here: {exc}")
    return c


SECOND = ("kchaos-1", 19192)   # where `kchaos matrix --parallel 2` puts its second slot (matrix.placements)


@pytest.fixture(scope="session")
def second_cluster(cluster):
    """A second cluster beside the first (its own compose project and ports), for checks that run side by
    side: started on first use, removed when the session ends."""
    c = ComposeCluster(COMPOSE, project=SECOND[0], port_base=SECOND[1])
    try:
        c.up(os.environ.get("KCHAOS_KAFKA_VERSION", "4.1.1"))
        metadata.wait_ready(c, timeout=180)
        yield c
    finally:
        c.down()


# Shipped scenarios that fault brokers, run one after another on the second cluster in the background (a
# `kchaos matrix` on its project and ports) while the tests on the first cluster go on; test_6_beside asserts on
# them, by when they have long finished.
BESIDE = ("at-least-once-leader-kill", "at-most-once-broker-pause", "acks1-isolate-leader",
          "transactional-read-committed-broker-kill")
BESIDE_LIMIT = 900   # seconds the four may take together (each takes 40-60 s alone)


@pytest.fixture(scope="session")
def beside(cluster, tmp_path_factory):
    """A function: scenario name -> that BESIDE scenario's matrix cell (exit_code, report, log), waiting for the
    background matrix to finish on first use."""
    work = tmp_path_factory.mktemp("beside")
    args = [sys.executable, "-m", "kafka_chaos", "matrix", *(ROOT / "scenarios" / f"{n}.yaml" for n in BESIDE),
            "--keep-cluster", "--project", SECOND[0], "--port-base", str(SECOND[1]), "--runs", work / "runs",
            "--json", work / "matrix.json"]
    started = time.time()
    with open(work / "matrix.log", "w") as log:
        proc = subprocess.Popen(list(map(str, args)), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    cells: dict = {}

    def cell(name: str) -> dict:
        if not cells:
            try:
                proc.wait(timeout=max(1, started + BESIDE_LIMIT - time.time()))
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGINT)   # the running cell heals and reports
                proc.wait(timeout=300)
            if (work / "matrix.json").exists():
                cells.update({c["scenario"]: c for c in json.loads((work / "matrix.json").read_text())})
        output = (work / "matrix.log").read_text(errors="replace")[-3000:]
        assert name in cells and cells[name]["report"], (name, proc.returncode, output)
        return cells[name]
    yield cell
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=300)
    ComposeCluster(COMPOSE, project=SECOND[0], port_base=SECOND[1]).down()


@pytest.fixture(scope="session", autouse=True)
def _beside_starts_first(request):
    """Start the background runs with the session when a collected test will want them."""
    if any("beside" in getattr(item, "fixturenames", ()) for item in request.session.items):
        request.getfixturevalue("beside")


@pytest.fixture
def healthy(cluster):
    """The cluster, with every broker running and registered before and after the test."""
    for b in cluster.broker_ids:
        cluster.start(b)
    metadata.wait_ready(cluster, timeout=120)
    yield cluster
    for b in cluster.broker_ids:
        cluster.start(b)
    metadata.wait_ready(cluster, timeout=120)


# Shipped scenarios whose faults hit only their own clients (crashes, fencing, crash points), each with its own
# topics, groups and tables: they run side by side on the shared cluster, as `kchaos run` processes, once per
# session; tests in several modules assert on their reports. Scenarios that fault brokers run alone.
SIDE_BY_SIDE = ("auto-commit-consumer-crash", "commit-after-process-consumer-crash",   # the longest first
                "commit-before-process-consumer-crash", "idempotent-producer-crash", "transactional-read-uncommitted",
                "transactional-producer-crash", "transactional-fence-producer", "transform-copier-crash", "transform-no-seek",
                "transform-offsets-after-commit", "sink-sqlite-crash", "sink-offsets-kafka", "outbox-relay-crash",
                "sink-postgresql-crash", "sink-postgresql-offsets-kafka")
POSTGRESQL = ("sink-postgresql-crash", "sink-postgresql-offsets-kafka")   # need $KCHAOS_PG_DSN
RUN_LIMIT = 600   # seconds all side-by-side runs may take together (each takes 30-90 s alone)
AT_ONCE = 7       # runs at a time; twelve at once made 2 cores the bottleneck (producers fell far
                  # behind their rate, consumers took over a minute to join); at 8 the transactional
                  # producers reached a quarter of their rate


def live(path: Path, cluster, out_dir: Path) -> Path:
    """A copy of a shipped scenario pointed at the running cluster's containers (kchaos neither starts nor
    removes them), so several runs share it."""
    names = ", ".join(f"{b}: {cluster.container_name(b)}" for b in cluster.broker_ids)
    text = re.sub(r"^cluster: .*$", f"cluster: {{bootstrap: \"{cluster.bootstrap}\", containers: {{{names}}}}}",
                  path.read_text(), count=1, flags=re.M)
    copy = out_dir / path.name
    copy.write_text(text)
    return copy


@pytest.fixture(scope="session")
def side_by_side(cluster, tmp_path_factory):
    """{scenario name: (exit code, JSON report or None, output)} of the SIDE_BY_SIDE scenarios."""
    for b in cluster.broker_ids:
        cluster.start(b)
    metadata.wait_ready(cluster, timeout=120)
    work = tmp_path_factory.mktemp("side-by-side")
    names = [n for n in SIDE_BY_SIDE if n not in POSTGRESQL or os.environ.get(scenario.PG_DSN_ENV)]
    waiting, running, out = list(names), {}, {}
    deadline = time.time() + RUN_LIMIT
    while waiting or running:
        while waiting and len(running) < AT_ONCE:
            name = waiting.pop(0)
            path = live(ROOT / "scenarios" / f"{name}.yaml", cluster, work)
            with open(work / f"{name}.log", "w") as log:
                running[name] = subprocess.Popen(
                    [sys.executable, "-m", "kafka_chaos", "run", str(path), "--json", str(work / f"{name}.json"),
                     "--runs", str(work / "runs")], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            time.sleep(0.5)   # staggered starts
        for name, proc in list(running.items()):
            if proc.poll() is None and time.time() < deadline:
                continue
            if proc.poll() is None:
                proc.terminate()   # kchaos heals and writes what it has
            code = proc.wait(timeout=90)
            del running[name]
            report = work / f"{name}.json"
            output = (work / f"{name}.log").read_text(errors="replace")
            out[name] = (code, json.loads(report.read_text()) if report.exists() else None, output)
        time.sleep(0.5)
    drop_topics(cluster)
    return out


def drop_topics(cluster) -> None:
    """Delete every topic but Kafka's own: a hundred partitions left behind slow the leader elections of the
    tests after this one."""
    with metadata.admin(cluster.bootstrap) as client:
        names = [t for t in client.list_topics() if not t.startswith("__")]
        if names:
            client.delete_topics(names)


def result(side_by_side, name):
    """(exit code, counts, report) of a side-by-side scenario that ran to a complete verdict, every fault
    applied and healed."""
    if name not in side_by_side:
        assert name in POSTGRESQL, f"{name} is not in SIDE_BY_SIDE"
        if os.environ.get("KCHAOS_REQUIRE_CLUSTER"):
            pytest.fail(f"{name} did not run: ${scenario.PG_DSN_ENV} is not set (scripts/install-postgres.sh)")
        pytest.skip(f"no PostgreSQL here: ${scenario.PG_DSN_ENV} is not set (scripts/install-postgres.sh prints it)")
    code, report, output = side_by_side[name]
    assert report is not None, f"{name}: no report (exit {code})\n{output[-3000:]}"
    assert report["complete"], (name, report["incomplete"], output[-2000:])
    assert not [f for f in report["faults"] if f.get("event") == "apply" and not f.get("ok")], report["faults"]
    assert "NOT healed" not in output, output[-2000:]
    assert report["counts"]["foreign"] == 0, (name, "another run wrote to this run's topic", output[-2000:])
    assert code == 0, (name, code, output[-3000:])   # every side-by-side verdict is expected to pass
    return code, report["counts"], report


def applied(faults, action):
    return [e for e in faults if e.get("event") == "apply" and e.get("action") == action and e.get("ok")]
