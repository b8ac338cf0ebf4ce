"""Network faults inside a broker's network namespace: iptables for partitions and loss, tc for shaping.

Rules are applied from a helper container that joins the broker's network namespace with only NET_ADMIN
(as Pumba does), so the broker image needs neither iptables nor extra capabilities and the host's own
chains are never touched. During a run the fault engine keeps one idle helper per broker (HelperPool,
started ahead of time: a command there is one `exec`, ~50 ms, instead of a new container, ~0.5-1 s); each
also joins the broker's PID namespace, so it dies with the broker's process and never acts on the namespace
of an earlier incarnation. Without a live pooled helper a short-lived one is started as before. Each fault owns two chains, KC<id>-IN and KC<id>-OUT, hooked
into INPUT/OUTPUT; healing one fault removes its chains, healing a broker removes every KC chain and
the root qdisc. Traffic is only ever dropped or shaped, never sent anywhere.
"""

from __future__ import annotations

import functools
import os
import re
import threading

from kafka_chaos import engine, image
from kafka_chaos.errors import ClusterError, FaultError

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
    _check_image(helper_image())


@functools.lru_cache(maxsize=4)
def _check_image(name: str) -> None:
    """Asked of the engine once per image (an image found stays found for the run; a missing one raises, so
    it is asked again next time)."""
    if not engine.image_exists(name):
        raise FaultError(f"network faults need an image with iptables and tc ({name} is missing): "
                         "run `kchaos image build` or set KCHAOS_NET_IMAGE")


def in_netns(container: str, args: list[str], timeout: float = 60) -> str:
    """Run an argument list in `container`'s network namespace, from a helper with NET_ADMIN only: the pooled
    helper of that container when one is alive, else a new short-lived one."""
    pool = _POOL
    if pool is not None:
        out = pool.run(container, args)
        if out is not None:
            return out
    cmd = ["docker", "run", "--rm", "--network", f"container:{container}",
           "--cap-add", "NET_ADMIN", "--label", "kchaos.helper=net", helper_image(), *args]
    return engine.run(cmd, timeout=timeout).stdout


HELPER_LABEL = "kchaos.helper"
HELPER_LIFETIME = 86400   # seconds a pooled helper idles at most (one left by a killed kchaos ends by itself)
_POOL: "HelperPool | None" = None   # the pool of the run going on in this process, if any


class HelperPool:
    """One idle helper container per broker container, in its network and PID namespaces. `ensure(name)`
    starts one (in the background with wait=False) where none is alive; `run` executes in it; `close`
    removes them all. Every failure falls back to the short-lived helper: the pool only saves time."""

    def __init__(self, client):
        self.client = client
        self._helpers: dict[str, object] = {}   # broker container name -> helper container
        self._lock = threading.Lock()
        self._closed = False   # set by close(): a helper started after it would idle unremoved

    def __enter__(self) -> "HelperPool":
        global _POOL
        _POOL = self
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def ensure(self, container: str, wait: bool = True) -> None:
        if not wait:
            threading.Thread(target=self.ensure, args=(container,), name="net-helper", daemon=True).start()
            return
        with self._lock:
            if self._closed or (self._helpers.get(container) is not None and _running(self._helpers[container])):
                return
            try:
                self._helpers[container] = self.client.containers.run(
                    helper_image(), ["sleep", str(HELPER_LIFETIME)], detach=True, auto_remove=True,
                    network_mode=f"container:{container}", pid_mode=f"container:{container}",
                    cap_add=["NET_ADMIN"], labels={HELPER_LABEL: "net-pool"})
            except Exception:   # noqa: BLE001 - e.g. the broker is stopped: a fault then uses a short-lived helper
                self._helpers.pop(container, None)

    def run(self, container: str, args: list[str]) -> str | None:
        """`args` in the container's pooled helper: its stdout, a ClusterError when the command failed, None
        when there is no live helper (then the caller starts one of its own)."""
        helper = self._helpers.get(container)
        if helper is None:
            return None
        try:
            code, (out, err) = helper.exec_run(args, demux=True)
        except Exception:   # noqa: BLE001 - the helper died with its broker: forget it, start one for next time
            with self._lock:   # unless another thread already put a new one in its place
                if self._helpers.get(container) is helper:
                    del self._helpers[container]
            self.ensure(container, wait=False)
            return None
        out, err = (out or b"").decode(errors="replace"), (err or b"").decode(errors="replace")
        if code != 0:
            tail = (err or out).strip().splitlines()[-3:]
            raise ClusterError(f"{' '.join(args[:3])} … failed in {container} (exit {code}): {' | '.join(tail)}")
        return out

    def close(self) -> None:
        global _POOL
        if _POOL is self:
            _POOL = None
        with self._lock:
            helpers, self._helpers, self._closed = list(self._helpers.values()), {}, True
        for helper in helpers:
            try:
                helper.remove(force=True)
            except Exception:   # noqa: BLE001 - gone already (it died with its broker)
                pass


def remove_pool_helpers(client, containers: list[str]) -> list[str]:
    """Remove the pooled helpers a killed kchaos left in `containers`' namespaces (`kchaos heal`); their names."""
    ids = set()
    for name in containers:
        try:
            ids.update((name, client.containers.get(name).id))
        except Exception:   # noqa: BLE001 - the broker is gone: so are helpers in its PID namespace
            pass
    removed = []
    for helper in client.containers.list(all=True, filters={"label": f"{HELPER_LABEL}=net-pool"}):
        if helper.attrs.get("HostConfig", {}).get("NetworkMode", "").removeprefix("container:") in ids:
            helper.remove(force=True)
            removed.append(helper.name)
    return removed


def _running(helper) -> bool:
    try:
        helper.reload()
        return helper.status == "running"
    except Exception:   # noqa: BLE001 - removed
        return False


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
    # the rules travel as an argument (data, never code): the pooled helper's exec has no stdin
    in_netns(container, ["sh", "-c", 'printf %s "$1" | iptables-restore --noflush', "sh",
                         rules_text(chain(fault_id), inbound, outbound)])


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
