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
