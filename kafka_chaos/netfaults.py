"""Network faults inside a broker's network namespace: iptables for partitions and loss, tc for shaping.

Rules are applied from a short-lived helper container that joins the broker's network namespace with
only NET_ADMIN (as Pumba does), so the broker image needs neither iptables nor extra capabilities and
the host's own chains are never touched. Each fault owns two chains, KC<id>-IN and KC<id>-OUT, hooked
into INPUT/OUTPUT; healing one fault removes its chains, healing a broker removes every KC chain and
the root qdisc. Traffic is only ever dropped or shaped, never sent anywhere.
"""

from __future__ import annotations

import os
import re

from kafka_chaos import engine, image
from kafka_chaos.errors import FaultError

CHAIN_PREFIX = "KC"
INTERNAL_PORT = 9092     # inter-broker (replication) listener in compose/kraft-3.yml
RATE_RE = re.compile(r"^\d+(\.\d+)?(bit|kbit|mbit|gbit)$")

# Fixed scripts (never built from scenario fields: values arrive as positional arguments).
_CLEAR_CHAIN = r"""
for dir in IN OUT; do
  hook=INPUT; [ "$dir" = OUT ] && hook=OUTPUT
  while iptables -D "$hook" -j "$1-$dir" 2>/dev/null; do :; done
  iptables -F "$1-$dir" 2>/dev/null; iptables -X "$1-$dir" 2>/dev/null
done
true
"""
_CLEAR_ALL = r"""
for chain in $(iptables -S | awk '$1 == "-N" && $2 ~ /^KC[0-9]/ {print $2}'); do
  while iptables -D INPUT -j "$chain" 2>/dev/null; do :; done
  while iptables -D OUTPUT -j "$chain" 2>/dev/null; do :; done
  iptables -F "$chain"; iptables -X "$chain"
done
for dev in $(ls /sys/class/net); do [ "$dev" = lo ] || tc qdisc del dev "$dev" root 2>/dev/null; done
true
"""
_CLEAR_QDISC = r"""
for dev in $(ls /sys/class/net); do [ "$dev" = lo ] || tc qdisc del dev "$dev" root 2>/dev/null; done
true
"""
_SHAPE = r"""
for dev in $(ls /sys/class/net); do
  [ "$dev" = lo ] && continue
  tc qdisc add dev "$dev" root "$@" || exit 1
done
"""
_LIST = "iptables -S; for dev in $(ls /sys/class/net); do tc qdisc show dev $dev; done"


def helper_image() -> str:
    """An image with iptables and tc: KCHAOS_NET_IMAGE, else the Debian base `kchaos image build` makes."""
    return os.environ.get("KCHAOS_NET_IMAGE", image.BASE)


def check_helper_image() -> None:
    name = helper_image()
    if not engine.image_exists(name):
        raise FaultError(f"network faults need an image with iptables and tc ({name} is missing): "
                         "run `kchaos image build` or set KCHAOS_NET_IMAGE")


def in_netns(container: str, args: list[str], stdin: str | None = None, timeout: float = 60) -> str:
    """Run an argument list in `container`'s network namespace, from a helper with NET_ADMIN only."""
    cmd = ["docker", "run", "--rm", *(["-i"] if stdin is not None else []), "--network", f"container:{container}",
           "--cap-add", "NET_ADMIN", "--label", "kchaos.helper=net", helper_image(), *args]
    return engine.run(cmd, timeout=timeout, input=stdin).stdout


def netem_supported() -> tuple[bool, str]:
    """Does the engine's kernel have the netem qdisc? Probed in a throwaway network namespace."""
    proc = engine.run(["docker", "run", "--rm", "--cap-add", "NET_ADMIN", helper_image(),
                       "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"], check=False, timeout=60)
    return proc.returncode == 0, (proc.stderr or proc.stdout).strip()


def chain(fault_id: str) -> str:
    return f"{CHAIN_PREFIX}{fault_id}"[:24]


def rules_text(name: str, inbound: list[list[str]], outbound: list[list[str]]) -> str:
    """iptables-restore input that creates the fault's chains, hooks them, and DROPs what they match."""
    lines = ["*filter", f":{name}-IN - [0:0]", f":{name}-OUT - [0:0]",
             f"-I INPUT 1 -j {name}-IN", f"-I OUTPUT 1 -j {name}-OUT"]
    lines += [" ".join([f"-A {name}-IN", *match, "-j DROP"]) for match in inbound]
    lines += [" ".join([f"-A {name}-OUT", *match, "-j DROP"]) for match in outbound]
    return "\n".join(lines + ["COMMIT", ""])


def drop(container: str, fault_id: str, inbound: list[list[str]], outbound: list[list[str]]) -> None:
    """Apply a fault's DROP rules (matches are argument lists of validated IPs, ports, probabilities)."""
    in_netns(container, ["iptables-restore", "--noflush"], stdin=rules_text(chain(fault_id), inbound, outbound))


def clear_fault(container: str, fault_id: str) -> None:
    in_netns(container, ["sh", "-c", _CLEAR_CHAIN, "sh", chain(fault_id)])


def clear_all(container: str) -> None:
    """Remove every kchaos chain and the root qdisc from a broker's namespace (idempotent)."""
    in_netns(container, ["sh", "-c", _CLEAR_ALL])


def clear_qdisc(container: str) -> None:
    in_netns(container, ["sh", "-c", _CLEAR_QDISC])


def shape(container: str, qdisc_args: list[str]) -> None:
    try:
        in_netns(container, ["sh", "-c", _SHAPE, "sh", *qdisc_args])
    except FaultError:
        raise
    except Exception as exc:  # ClusterError from engine.run carries tc's message
        raise FaultError(f"tc qdisc {qdisc_args[0]} failed in {container}: {exc}") from None


def listing(container: str) -> str:
    """iptables rules and qdiscs of a broker's namespace (for tests and `kchaos heal` checks)."""
    return in_netns(container, ["sh", "-c", _LIST])


def ip_matches(ips: list[str], direction: str, port: int | None = None) -> tuple[list, list]:
    """(inbound, outbound) matches that cut traffic with `ips`, optionally only to one TCP service port
    (both ways: peers' connections to our port, and ours to theirs)."""
    svc = ["-p", "tcp", "--dport", str(port)] if port else []
    inbound = [["-s", ip, *svc] for ip in ips] if direction in ("both", "in") else []
    outbound = [["-d", ip, *svc] for ip in ips] if direction in ("both", "out") else []
    return inbound, outbound


def port_matches(port: int) -> tuple[list, list]:
    """Cut one listener: packets to it in, packets from it out."""
    return [["-p", "tcp", "--dport", str(port)]], [["-p", "tcp", "--sport", str(port)]]


def loss_matches(probability: float) -> tuple[list, list]:
    """DROP each packet with `probability`, written with the 4 decimals scenario validation allows (0.0001 steps)."""
    p = f"{probability:.4f}"
    stat = ["-m", "statistic", "--mode", "random", "--probability", p]
    return [["!", "-i", "lo", *stat]], [["!", "-o", "lo", *stat]]


def tbf_args(rate: str) -> list[str]:
    if not RATE_RE.match(rate):
        raise FaultError(f"bandwidth rate {rate!r} is not like 1mbit")
    return ["tbf", "rate", rate, "burst", "32kbit", "latency", "400ms"]


def netem_args(latency: float, jitter: float) -> list[str]:
    """netem delay in whole microseconds (scenario validation allows latency from 1ms, so nothing rounds to 0)."""
    args = ["netem", "delay", f"{round(latency * 1e6)}us"]
    return args + [f"{round(jitter * 1e6)}us"] if jitter else args
