"""Broker <-> container mapping, compose discovery and quorum parsing (no engine needed)."""

from pathlib import Path

import pytest

from kafka_chaos.cluster import metadata
from kafka_chaos import rundir
from kafka_chaos.cluster.compose import ComposeCluster, brokers_in_file, containers_by_broker, deployment, host_ports
from kafka_chaos.errors import ClusterError, UsageError
from kafka_chaos.runner import broker_override, mask

COMPOSE = """
services:
  kafka-1: {image: x, labels: {kchaos.broker.id: "1", kchaos.external.port: "19092"}}
  kafka-2: {image: x, labels: ["kchaos.broker.id=2", "kchaos.external.port=19093"]}
  sidecar: {image: y}
"""


def test_brokers_in_file_reads_labels_in_both_forms(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text(COMPOSE)
    assert brokers_in_file(path) == {1: 19092, 2: 19093}


def test_brokers_in_file_without_brokers_is_an_error(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text("services: {a: {image: x}}\n")
    with pytest.raises(ClusterError, match="no service has a kchaos.broker.id label"):
        brokers_in_file(path)


def test_shipped_compose_file_has_three_brokers_on_loopback_ports():
    assert brokers_in_file(__import__("pathlib").Path("compose/kraft-3.yml")) == {1: 19092, 2: 19093, 3: 19094}


SHIPPED = Path(__file__).resolve().parent.parent / "compose" / "kraft-3.yml"


def test_a_port_base_moves_every_broker_and_the_variables_compose_fills_in(monkeypatch):
    monkeypatch.delenv("KCHAOS_PORT_BASE", raising=False)
    assert host_ports(SHIPPED) == ({1: 19092, 2: 19093, 3: 19094},
                                   {"KCHAOS_PORT_1": "19092", "KCHAOS_PORT_2": "19093", "KCHAOS_PORT_3": "19094"})
    ports, env = host_ports(SHIPPED, 29092)
    assert ports == {1: 29092, 2: 29093, 3: 29094} and env["KCHAOS_PORT_3"] == "29094"
    c = ComposeCluster(SHIPPED, project="second", port_base=29092)
    assert (c.project, c.bootstrap) == ("second", "127.0.0.1:29092,127.0.0.1:29093,127.0.0.1:29094")
    assert c.port_env == env


def test_the_shipped_compose_file_uses_each_port_variable_everywhere_the_port_appears():
    # published port, listener and advertised listener must move together, or clients reach a broker that
    # advertises another cluster's port
    text = SHIPPED.read_text()
    for n, port in ((1, 19092), (2, 19093), (3, 19094)):
        assert text.count(f"${{KCHAOS_PORT_{n}:-{port}}}") == 5, n
        assert str(port) not in text.replace(f"${{KCHAOS_PORT_{n}:-{port}}}", ""), port


def test_fixed_ports_cannot_move_and_bad_names_or_bases_are_usage_errors(tmp_path, monkeypatch):
    path = tmp_path / "c.yml"
    path.write_text(COMPOSE)
    with pytest.raises(UsageError, match="fixed port, so --port-base cannot move it"):
        host_ports(path, 29092)
    for bad in ("Bad Name", "-x", "a" * 64, "x;rm"):
        with pytest.raises(UsageError, match="not a compose project name"):
            deployment(bad)
    for base in (80, 65001):
        with pytest.raises(UsageError, match="allowed 1024-65000"):
            deployment("x", base)
    with pytest.raises(UsageError, match="would pass 65535"):
        host_ports(SHIPPED, 65534)
    monkeypatch.setenv("KCHAOS_PROJECT", "fromenv")
    monkeypatch.setenv("KCHAOS_PORT_BASE", "39092")
    assert deployment() == ("fromenv", 39092) and deployment("arg", 29092) == ("arg", 29092)
    monkeypatch.setenv("KCHAOS_PORT_BASE", "x")
    with pytest.raises(UsageError, match="KCHAOS_PORT_BASE"):
        deployment()


def test_heal_finds_a_run_s_containers_in_the_project_it_ran_in(tmp_path):
    (tmp_path / "meta.json").write_text('{"t0": 1, "project": "second"}')
    assert rundir.compose_project(tmp_path, "kchaos") == "second"
    (tmp_path / "meta.json").write_text('{"t0": 1}')
    assert rundir.compose_project(tmp_path, "kchaos") == "kchaos"   # runs before projects were recorded
    (tmp_path / "meta.json").write_text('{"t0": 1, "project": "x; docker rm -f y"}')
    with pytest.raises(UsageError, match="project must be a compose project name"):
        rundir.compose_project(tmp_path, "kchaos")


def test_containers_map_to_brokers_by_label_whatever_their_names():
    found = containers_by_broker([
        ("proj_kafka-2_1", {"kchaos.broker.id": "2", "kchaos.external.port": "19093"}),
        ("proj_kafka-1_1", {"kchaos.broker.id": "1"}),
        ("proj_other_1", {}),
    ])
    assert found == {1: ("proj_kafka-1_1", 0), 2: ("proj_kafka-2_1", 19093)}


def test_two_containers_claiming_one_broker_is_an_error():
    with pytest.raises(ClusterError, match="two containers claim broker 1"):
        containers_by_broker([("a", {"kchaos.broker.id": "1"}), ("b", {"kchaos.broker.id": "1"})])


def test_quorum_leader_is_parsed_from_the_tool_output():
    out = "ClusterId: x\nLeaderId:               2\nLeaderEpoch: 5\n"
    assert metadata.parse_quorum_leader(out) == 2
    with pytest.raises(ClusterError):
        metadata.parse_quorum_leader("nothing here")


def test_broker_config_becomes_kafka_variables_for_broker_services_only(tmp_path):
    compose = tmp_path / "c.yml"
    compose.write_text(COMPOSE)
    path = broker_override(tmp_path, compose, {"unclean.leader.election.enable": "true", "log.flush_x": "1"})
    import yaml

    doc = yaml.safe_load(path.read_text())
    assert set(doc["services"]) == {"kafka-1", "kafka-2"}  # labels in both forms, as scenario validation reads them
    env = doc["services"]["kafka-1"]["environment"]
    assert env == {"KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE": "true", "KAFKA_LOG_FLUSH__X": "1"}


def test_broker_config_values_reach_the_broker_exactly_through_compose_interpolation(tmp_path):
    compose = tmp_path / "c.yml"
    compose.write_text(COMPOSE)
    path = broker_override(tmp_path, compose, {"ssl.keystore.password": "pa$word$$x${HOME}"})
    import yaml

    env = yaml.safe_load(path.read_text())["services"]["kafka-1"]["environment"]
    assert env == {"KAFKA_SSL_KEYSTORE_PASSWORD": "pa$$word$$$$x$${HOME}"}   # compose reads $$ as $


def test_secrets_are_masked_in_what_a_run_writes():
    doc = {"producer": {"config": {"sasl_plain_password": "hunter2", "acks": "all"}}}
    assert mask(doc) == {"producer": {"config": {"sasl_plain_password": "***", "acks": "all"}}}


def test_admin_that_reaches_no_broker_raises_cluster_error_and_leaks_no_thread():
    import threading
    import time

    from kafka_chaos.cluster import metadata
    from kafka_chaos.errors import ClusterError
    before = threading.active_count()
    with pytest.raises(ClusterError, match="cannot reach Kafka at 127.0.0.1:1,127.0.0.1:2"):
        metadata.admin("127.0.0.1:1,127.0.0.1:2", bootstrap_timeout_ms=300)
    time.sleep(0.5)
    assert threading.active_count() == before, "kafka-python's network thread must be stopped"


def test_bootstrapped_tries_each_address_and_starts_with_the_last_that_answered(monkeypatch):
    from kafka.errors import KafkaTimeoutError

    from kafka_chaos import clients
    from kafka_chaos.errors import ClusterError
    monkeypatch.setattr(clients, "_last_good", {})
    tried, answering = [], {"127.0.0.1:19093"}

    def make(bootstrap_servers, bootstrap_timeout_ms):
        tried.append((bootstrap_servers, bootstrap_timeout_ms))
        if bootstrap_servers not in answering:
            raise KafkaTimeoutError("paused")
        return bootstrap_servers
    servers = "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094"
    assert clients.bootstrapped(servers, make, 300) == "127.0.0.1:19093"
    assert tried == [("127.0.0.1:19092", 300), ("127.0.0.1:19093", 300)]
    tried.clear()
    answering.add("127.0.0.1:19094")
    assert clients.bootstrapped(servers, make, 300) == "127.0.0.1:19093"   # the last good one first
    assert tried == [("127.0.0.1:19093", 300)]
    answering.clear()
    with pytest.raises(ClusterError, match="cannot reach Kafka at 127.0.0.1:19092,.*KafkaTimeoutError"):
        clients.bootstrapped(servers, make, 300)


class _Engine:
    """A docker client whose containers.get raises `exc`."""

    def __init__(self, exc):
        self.containers = self
        self.exc = exc

    def get(self, name):
        raise self.exc


def test_a_container_the_engine_does_not_know_is_missing(monkeypatch):
    import docker.errors

    from kafka_chaos import engine
    from kafka_chaos.cluster import ContainerBrokers
    monkeypatch.setattr(engine, "client", lambda: _Engine(docker.errors.NotFound("no such container")))
    assert ContainerBrokers("", {1: "kafka-1"}).state(1) == "missing"
    assert ContainerBrokers("", {1: "kafka-1"}).state(2) == "missing"


def test_an_engine_that_does_not_answer_is_an_error_not_a_missing_broker(monkeypatch):
    import requests

    from kafka_chaos import engine
    from kafka_chaos.cluster import ContainerBrokers
    monkeypatch.setattr(engine, "client", lambda: _Engine(requests.ConnectionError("refused")))
    with pytest.raises(ClusterError, match="the Docker engine did not answer about container kafka-1"):
        ContainerBrokers("", {1: "kafka-1"}).state(1)

    def no_engine():
        raise ClusterError("no Docker engine answers")
    monkeypatch.setattr(engine, "client", no_engine)
    with pytest.raises(ClusterError, match="no Docker engine answers"):
        ContainerBrokers("", {1: "kafka-1"}).state(1)


def test_pause_tries_again_when_the_cgroup_freezer_does_not_settle(monkeypatch):
    from kafka_chaos.cluster import containers
    from kafka_chaos.errors import ClusterError
    monkeypatch.setattr(containers.time, "sleep", lambda s: None)
    calls = []

    def flaky(self, broker, what, fn, failures=2, message="OCI runtime pause failed: unable to freeze: unknown"):
        calls.append(what)
        if len(calls) <= failures:
            raise ClusterError(f"pause broker {broker} (kafka-1) failed: Cannot pause container: {message}")

    brokers = containers.ContainerBrokers("", {1: "kafka-1"})
    monkeypatch.setattr(containers.ContainerBrokers, "_do", flaky)
    brokers.pause(1)
    assert calls == ["pause"] * 3
    calls.clear()
    monkeypatch.setattr(containers.ContainerBrokers, "_do", lambda *a: flaky(*a, failures=99))
    with pytest.raises(ClusterError, match="unable to freeze"):
        brokers.pause(1)
    assert len(calls) == containers.FREEZE_TRIES
    calls.clear()
    monkeypatch.setattr(containers.ContainerBrokers, "_do", lambda *a: flaky(*a, message="is not running"))
    with pytest.raises(ClusterError, match="is not running"):
        brokers.pause(1)
    assert calls == ["pause"]   # any other failure is final at once


def test_compose_up_runs_again_after_docker_compose_v1_loses_its_renaming_race(monkeypatch, tmp_path):
    from kafka_chaos import image
    from kafka_chaos.cluster import compose
    from kafka_chaos.errors import ClusterError
    monkeypatch.setattr(compose.time, "sleep", lambda s: None)
    monkeypatch.setattr(image, "resolve", lambda v: ("kchaos/kafka:4.1.1", "local"))
    monkeypatch.setattr(compose, "discover", lambda project: {})
    calls = []

    def flaky(self, *args, **kw):
        calls.append(args[0])
        if len(calls) == 1:
            raise ClusterError("docker-compose -p kchaos … failed (exit 1): ERROR: for kafka-3  Renaming a container "
                               "with the same name as its current name")
        return ""

    monkeypatch.setattr(compose.ComposeCluster, "_compose", flaky)
    c = compose.ComposeCluster(Path(__file__).resolve().parents[1] / "compose" / "kraft-3.yml")
    assert c.up("4.1.1").startswith("kchaos/kafka:4.1.1")
    assert calls == ["up", "up"]
    calls.clear()
    monkeypatch.setattr(compose.ComposeCluster, "_compose",
                        lambda self, *a, **k: calls.append(a[0]) or (_ for _ in ()).throw(ClusterError("port is taken")))
    with pytest.raises(ClusterError, match="port is taken"):
        c.up("4.1.1")
    assert calls == ["up"]   # any other failure is final at once
