"""What the network faults write for iptables and tc is exactly what scenario validation allowed."""

import pytest

from kafka_chaos import netfaults, scenario

BASE = """\
duration: 60s
cluster: {bootstrap: "h:1", containers: {1: kafka-1}}
topic: {replication_factor: 1}
producer: {semantic: at-least-once}
consumer: {mode: commit-after-process}
faults:
"""


def fault(line: str) -> scenario.FaultSpec:
    return scenario.loads(BASE + f"  - {line}\n").faults[0]


@pytest.mark.parametrize("p", ["0.0001", "0.1", "0.2", "0.3333", "0.9999", "1"])
def test_loss_writes_the_probability_validation_accepted(p):
    spec = fault(f"{{at: 1s, action: loss, target: all, probability: {p}}}")
    inbound, _ = netfaults.loss_matches(spec.probability)
    assert float(inbound[0][-1]) == spec.probability == float(p)


@pytest.mark.parametrize("latency, jitter, args", [
    ("1ms", None, ["netem", "delay", "1000us"]),
    ("1.5ms", "0.25ms", ["netem", "delay", "1500us", "250us"]),
    ("100ms", "20ms", ["netem", "delay", "100000us", "20000us"]),
    ("60s", "60s", ["netem", "delay", "60000000us", "60000000us"]),
])
def test_delay_writes_whole_microseconds_never_zero(latency, jitter, args):
    extra = f", latency_jitter: {jitter}" if jitter else ""
    spec = fault(f"{{at: 1s, action: delay, target: all, latency: {latency}{extra}}}")
    assert netfaults.netem_args(spec.latency, spec.latency_jitter) == args


@pytest.mark.parametrize("rate", ["8kbit", "1mbit", "2.5gbit", "100gbit"])
def test_bandwidth_rates_that_validate_are_rates_tc_takes(rate):
    assert netfaults.tbf_args(fault(f"{{at: 1s, action: bandwidth, target: all, rate: {rate}}}").rate)[2] == rate


class Helper:
    def __init__(self, result=(0, (b"out", b"")), error=None):
        self.result, self.error, self.ran = result, error, []

    def exec_run(self, args, demux):
        self.ran.append(args)
        if self.error:
            raise self.error
        return self.result


def pool_with(helper):
    pool = netfaults.HelperPool(client=None)
    pool._helpers["kafka-1"] = helper
    pool.ensure = lambda container, wait=True: None
    return pool


def test_a_pooled_helper_runs_the_rules_and_a_failed_command_is_a_cluster_error():
    from kafka_chaos.errors import ClusterError

    helper = Helper()
    with pool_with(helper):
        netfaults.drop("kafka-1", "3-1", *netfaults.port_matches(19092))
    args = helper.ran[0]
    assert args[:3] == ["sh", "-c", 'printf %s "$1" | iptables-restore --noflush']   # fixed script,
    assert args[4] == netfaults.rules_text("KC3-1", *netfaults.port_matches(19092))  # rules as data
    with pool_with(Helper(result=(1, (b"", b"iptables-restore: line 3 failed")))):
        with pytest.raises(ClusterError, match="line 3 failed"):
            netfaults.clear_fault("kafka-1", "3-1")
    assert netfaults._POOL is None   # the pool is the run's only while it lasts


def test_without_a_live_pooled_helper_a_short_lived_one_does_it(monkeypatch):
    from kafka_chaos import engine

    ran = []
    monkeypatch.setattr(engine, "run", lambda cmd, timeout, **kw: ran.append(cmd) or type("P", (), {"stdout": ""})())
    dead = Helper(error=RuntimeError("container is not running"))
    with pool_with(dead) as pool:
        netfaults.clear_qdisc("kafka-1")
        assert "kafka-1" not in pool._helpers   # forgotten; a new one is started for the next fault
        netfaults.clear_qdisc("kafka-2")        # never pooled
    assert [cmd[:4] for cmd in ran] == [["docker", "run", "--rm", "--network"]] * 2


class Containers:
    """The docker SDK's `client.containers`, enough for the pool and for `kchaos heal`."""

    def __init__(self, listed=()):
        self.started, self.listed = [], list(listed)

    def run(self, image, args, **kw):
        self.started.append(kw["network_mode"])
        return Helper()

    def get(self, name):
        return type("C", (), {"id": f"id-{name}"})()

    def list(self, all, filters):
        assert filters == {"label": f"{netfaults.HELPER_LABEL}=net-pool"}
        return self.listed


def test_a_closed_pool_starts_no_helper_and_a_dead_helper_never_evicts_its_replacement():
    client = type("Client", (), {"containers": Containers()})()
    pool = netfaults.HelperPool(client)
    dead, fresh = Helper(error=RuntimeError("gone")), Helper()
    pool._helpers["kafka-1"] = dead
    pool.ensure = lambda container, wait=True: pool._helpers.__setitem__(container, fresh)   # a racing restart
    assert pool.run("kafka-1", ["true"]) is None
    assert pool._helpers["kafka-1"] is fresh   # the restart's helper stays known, so close() removes it
    pool = netfaults.HelperPool(client)
    pool.close()
    pool.ensure("kafka-1")   # e.g. a background restart after heal_all closed the pool
    assert client.containers.started == [] and pool._helpers == {}


def test_kchaos_heal_removes_the_pooled_helpers_of_a_killed_run_and_no_one_elses(tmp_path, monkeypatch):
    import json

    from kafka_chaos import engine, faults

    removed = []

    def helper(name, mode):
        return type("H", (), {"name": name, "attrs": {"HostConfig": {"NetworkMode": mode}},
                              "remove": lambda self, force: removed.append(self.name)})()

    listed = [helper("ours-by-name", "container:kchaos_kafka-1_1"), helper("ours-by-id", "container:id-kchaos_kafka-2_1"),
              helper("another-cluster", "container:other_kafka-1_1")]
    monkeypatch.setattr(engine, "client", lambda: type("Client", (), {"containers": Containers(listed)})())
    (tmp_path / "scenario.json").write_text(json.dumps({"cluster": {"compose": "compose/kraft-3.yml"}}))
    (tmp_path / "meta.json").write_text(json.dumps({"containers": {"1": "kchaos_kafka-1_1", "2": "kchaos_kafka-2_1"}}))
    assert faults.remove_pool_helpers(tmp_path) == ["removed network helper ours-by-name",
                                                    "removed network helper ours-by-id"]
    assert removed == ["ours-by-name", "ours-by-id"]
    (tmp_path / "scenario.json").write_text(json.dumps({"cluster": {"commands": {"pause": "x"}}}))
    assert faults.remove_pool_helpers(tmp_path) == []   # a run on commands: no Docker asked at all
