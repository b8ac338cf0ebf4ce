"""Fault actions on brokers and workers, their targets, and the heal ledger that undoes them no matter what.

Every fault is an (apply, heal) pair. The ledger (RUN_DIR/faults-active.json) gets the fault *before*
it is applied and loses it only after its heal succeeded, so `kchaos heal RUN_DIR` can restore a cluster
even after kchaos itself was killed with SIGKILL mid-fault.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import time
from pathlib import Path

from kafka_chaos import history, netfaults, schedule
from kafka_chaos.cluster import metadata
from kafka_chaos.cluster.containers import ContainerBrokers
from kafka_chaos.errors import ClusterError, FaultError, UsageError

LEDGER = "faults-active.json"
TIMELINE = history.TIMELINE

BROKER_TARGETS = "broker(N), leader(T,P), follower(T,P), controller, coordinator(G), txn-coordinator(ID), random, all"
CATALOG = {
    "pause": (BROKER_TARGETS, "docker pause: the broker freezes, sockets stay open; heal: unpause"),
    "unpause": ("paused, broker(N), all", "resume paused brokers"),
    "kill": (BROKER_TARGETS, "SIGKILL the broker: no flush, no controlled shutdown; heal: start"),
    "stop": (BROKER_TARGETS, "graceful stop (SIGTERM, controlled shutdown); heal: start"),
    "start": ("killed, broker(N), all", "start brokers this run killed or stopped"),
    "restart": (BROKER_TARGETS, "graceful stop then start"),
    "rolling-restart": ("(none)", "restart every broker in turn, each once the cluster is back to full ISR"),
    "crash": ("producer, consumer", "SIGKILL the client worker; a fresh one starts after `duration`"),
    "isolate": (BROKER_TARGETS, "iptables: cut the broker from every other broker (clients still reach it); "
                "direction: both | in | out"),
    "split": ("(groups: [[1],[2,3]] or shape: majority | minority)",
              "iptables: brokers talk only within their group; minority puts the controller in the smaller group"),
    "isolate-clients": (BROKER_TARGETS, "iptables: drop the broker's external (client) listener; brokers still talk"),
    "isolate-replication": ("leader(T,P)", "iptables: cut the leader's inter-broker listener traffic (port 9092) "
                            "both ways; the controller link stays"),
    "loss": (BROKER_TARGETS, "iptables statistic: drop each packet in and out with `probability`"),
    "bandwidth": (BROKER_TARGETS, "tc tbf: limit every interface to `rate` (e.g. 1mbit)"),
    "delay": (BROKER_TARGETS, "tc netem: add `latency` (± `latency_jitter`); needs the kernel's netem qdisc"),
    "heal-network": ("partitioned, broker(N), all", "remove every network fault of this run from those brokers"),
}
# apply action -> (broker method, heal method)
BROKER_ACTIONS = {"pause": ("pause", "unpause"), "kill": ("kill", "start"), "stop": ("stop", "start"),
                  "restart": ("restart", None), "unpause": ("unpause", None), "start": ("start", None)}
NETWORK_ACTIONS = schedule.NETWORK_ACTIONS
QDISC_ACTIONS = ("bandwidth", "delay")

_TARGET = re.compile(r"^(broker|leader|follower|coordinator|txn-coordinator)\((.*)\)$")


class Ledger:
    """The faults currently applied, kept on disk: [{"id", "action", "broker", "container", "heal"}]."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LEDGER

    def entries(self) -> list[dict]:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return []

    def _save(self, entries: list[dict]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entries, indent=1))
        tmp.replace(self.path)

    def add(self, entry: dict) -> None:
        self._save(self.entries() + [entry])

    def remove(self, entry_id: str) -> None:
        self._save([e for e in self.entries() if e["id"] != entry_id])


def heal_entry(entry: dict) -> str:
    """Undo one ledger entry using only what the entry says (so it works after kchaos was killed)."""
    broker, container, heal = entry["broker"], entry["container"], entry["heal"]
    brokers = ContainerBrokers("", {broker: container})
    if entry.get("command"):
        from kafka_chaos import engine
        if engine.run(entry["command"], timeout=120, check=False).returncode != 0:
            raise ClusterError(f"the {heal} command for broker {broker} failed")
    elif heal.startswith("net-") and brokers.state(broker) not in ("running", "paused"):
        return f"nothing to remove for broker {broker} ({container}): stopped, its network namespace is gone"
    elif heal == "net-chain":
        netfaults.clear_fault(container, entry["fault_id"])
    elif heal == "net-qdisc":
        netfaults.clear_qdisc(container)
    else:
        getattr(brokers, heal)(broker)
    what = {"net-chain": f"remove {entry['action']} rules", "net-qdisc": f"remove {entry['action']} qdisc"}
    return f"{what.get(heal, heal)} broker {broker} ({container})"


def heal_run_dir(run_dir: Path) -> list[str]:
    """Undo every fault a run's ledger still lists (used by `kchaos heal` after kchaos was killed)."""
    run_dir = Path(run_dir)
    if not (run_dir / LEDGER).exists() and not (run_dir / "scenario.json").exists():
        raise UsageError(f"{run_dir}: not a kchaos run directory")
    owner = live_owner(run_dir)
    if owner:
        raise UsageError(f"{run_dir}: its run is still going (kchaos pid {owner}); Ctrl-C or SIGTERM it, "
                         "and it heals itself")
    ledger, done, errors = Ledger(run_dir), stop_orphan_workers(run_dir), []
    for entry in ledger.entries():
        try:
            done.append(heal_entry(entry))
            ledger.remove(entry["id"])
        except Exception as exc:  # noqa: BLE001 - heal what can be healed, then report the rest
            errors.append(f"{entry['heal']} broker {entry['broker']}: {exc}")
    (run_dir / "workers.json").unlink(missing_ok=True)   # raw client settings of the killed run
    if errors:
        raise FaultError(f"{run_dir}: could not heal: {'; '.join(errors)} (healed: {'; '.join(done) or 'nothing'})")
    return done


PID_FILE = "kchaos.pid"


def live_owner(run_dir: Path) -> int | None:
    """The pid of the kchaos still running this run, if any."""
    try:
        pid = int((Path(run_dir) / PID_FILE).read_text())
        argv = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"kafka_chaos" in argv or b"kchaos" in argv else None


def stop_orphan_workers(run_dir: Path) -> list[str]:
    """SIGKILL workers a killed kchaos left running; a pid counts only while its command line still
    names this run's worker (so a reused pid is spared)."""
    done = []
    for status in sorted((run_dir / "status").glob("*.json")):
        try:
            pid = json.loads(status.read_text())["pid"]
            argv = [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")]
            cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
        except (OSError, ValueError, KeyError):
            continue
        role = status.stem.rsplit("-", 1)[0]
        if argv[2:4] and argv[2] == f"kafka_chaos.workload.{role}" and \
                (cwd / argv[3]).resolve() == run_dir.resolve():
            os.kill(pid, signal.SIGKILL)
            done.append(f"stop orphan worker {status.stem} (pid {pid})")
    return done


class FaultEngine:
    """Resolves targets at fire time, applies faults, records the timeline and heals."""

    def __init__(self, brokers, run_dir: Path, topic_names: dict[str, str], seed: int, group: str = ""):
        self.brokers = brokers
        self.run_dir = Path(run_dir)
        self.topic_names = topic_names      # scenario topic name -> this run's physical topic
        self.group = group                  # this run's consumer group, for coordinator(consumer)
        self.rng = random.Random(seed)
        self.ledger = Ledger(run_dir)
        self.heals: list[str] = []

    # -- targets
    def resolve(self, target: str) -> list[int]:
        """Broker ids a target names right now (from live metadata)."""
        faulted = {"killed": ("kill", "stop"), "paused": ("pause",), "partitioned": NETWORK_ACTIONS}
        if target in faulted:
            return sorted({e["broker"] for e in self.ledger.entries() if e["action"] in faulted[target]})
        if target == "all":
            return list(self.brokers.broker_ids)
        if target == "random":
            running = [b for b in self.brokers.broker_ids if self.brokers.state(b) == "running"]
            if not running:
                raise FaultError("no running broker to pick at random")
            return [self.rng.choice(running)]
        if target == "controller":
            return [metadata.active_controller(self.brokers)]
        m = _TARGET.match(target)
        if not m:
            raise FaultError(f"unknown target {target!r}")
        kind, arg = m.groups()
        if kind == "broker":
            return [int(arg)]
        if kind in ("coordinator", "txn-coordinator"):
            key = self.group if (kind, arg) == ("coordinator", "consumer") else arg
            topic = "__consumer_offsets" if kind == "coordinator" else "__transaction_state"
            return [self._admin(lambda c: metadata.coordinator(c, key, topic))]
        topic, _, part = arg.rpartition(",")
        physical = self.topic_names.get(topic.strip(), topic.strip())
        state = self._admin(lambda c: next(s for s in metadata.partitions(c, [physical]) if s.partition == int(part)))
        if kind == "leader":
            if state.leader < 0:
                raise FaultError(f"{target}: the partition has no leader right now")
            return [state.leader]
        followers = [b for b in state.isr if b != state.leader]
        if not followers:
            raise FaultError(f"{target}: no in-sync follower right now")
        return [self.rng.choice(sorted(followers))]

    def _admin(self, fn):
        with metadata.admin(self.brokers.bootstrap) as client:
            return fn(client)

    # -- apply / heal
    def apply(self, planned, t0: float) -> dict:
        """Fire one planned action; returns its timeline entry (ok or not, never raises)."""
        spec = planned.spec
        entry = start_entry(planned, t0)
        try:
            if planned.action == "split":
                groups = self._groups(spec)
                entry["groups"] = groups
                targets = sorted(b for g in groups for b in g)
            elif planned.action == "rolling-restart":
                targets = list(self.brokers.broker_ids)
            elif planned.fixed is not None:
                targets = [b for b in planned.fixed if b in self.brokers.broker_ids]
            else:
                targets = self.resolve(planned.target)
            entry["brokers"] = targets
            entry["resolved"] = ", ".join(f"broker {b}" for b in targets) or "nothing"
            if planned.action in NETWORK_ACTIONS:
                self._network(planned, spec, targets, entry)
            elif planned.action == "rolling-restart":
                self._rolling_restart(planned.seq)
            elif planned.action == "heal-network":
                _, errors = self._heal_where(lambda e: e["broker"] in targets and e["action"] in NETWORK_ACTIONS)
                if errors:
                    raise FaultError("; ".join(errors))
            else:
                self._broker_action(planned, targets)
            entry["ok"] = True
        except (ClusterError, FaultError) as exc:
            entry.update(ok=False, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - e.g. a metadata lookup timing out during a fault
            entry.update(ok=False, error=f"{type(exc).__name__}: {exc}")
        entry["t_applied"] = time.time()
        self.record(entry)
        return entry

    def _broker_action(self, planned, targets: list[int]) -> None:
        method, heal = BROKER_ACTIONS[planned.action]
        for b in targets:
            if heal:
                self._ledger_add(f"{planned.seq}-{b}", planned.action, b, heal,
                                 command=self.brokers.heal_command(heal, b))
            getattr(self.brokers, method)(b)
            if planned.action in ("start", "unpause"):
                undone = {"start": ("kill", "stop"), "unpause": ("pause",)}[planned.action]
                self._heal_where(lambda e: e["broker"] == b and e["action"] in undone, run=False)

    def _network(self, planned, spec, targets: list[int], entry: dict) -> None:
        """Apply a network fault in each target broker's namespace (ledger first, then the rules)."""
        netfaults.check_helper_image()
        direction = getattr(spec, "direction", "both") or "both"
        groups = entry.get("groups")
        for b in targets:
            container = self.brokers.container_name(b)
            fault_id = f"{planned.seq}-{b}"
            if self.brokers.state(b) not in ("running", "paused"):
                if planned.action == "split":
                    continue   # a stopped broker is cut off from everyone already
                raise FaultError(f"broker {b} is not running: it has no network to fault")
            if planned.action in QDISC_ACTIONS:
                if any(e["broker"] == b and e["heal"] == "net-qdisc" for e in self.ledger.entries()):
                    raise FaultError(f"broker {b} is already shaped (one bandwidth/delay fault at a time)")
                args = (netfaults.tbf_args(spec.rate) if planned.action == "bandwidth"
                        else netfaults.netem_args(spec.latency, spec.latency_jitter))
                self._ledger_add(fault_id, planned.action, b, "net-qdisc")
                netfaults.shape(container, args)
                continue
            if planned.action == "isolate-clients":
                inbound, outbound = netfaults.port_matches(self.brokers.external_port(b))
            elif planned.action == "loss":
                inbound, outbound = netfaults.loss_matches(spec.probability)
            else:
                others = ([o for g in groups if b not in g for o in g] if groups is not None
                          else [o for o in self.brokers.broker_ids if o != b])
                ips = [ip for o in others if self.brokers.state(o) in ("running", "paused")
                       for ip in self.brokers.ips(o)]
                port = netfaults.INTERNAL_PORT if planned.action == "isolate-replication" else None
                if not ips:
                    raise FaultError(f"broker {b}: no running peer to cut it off from")
                inbound, outbound = netfaults.ip_matches(ips, direction, port)
            self._ledger_add(fault_id, planned.action, b, "net-chain", fault_id=netfaults.chain(fault_id)[2:])
            netfaults.drop(container, fault_id, inbound, outbound)

    def _groups(self, spec) -> list[list[int]]:
        if spec.groups:
            return [list(g) for g in spec.groups]
        ids = list(self.brokers.broker_ids)
        self.rng.shuffle(ids)
        small = len(ids) // 2 if len(ids) > 1 else 1
        if spec.shape == "minority":
            controller = metadata.active_controller(self.brokers)
            rest = [b for b in ids if b != controller]
            return [sorted([controller] + rest[:small - 1]), sorted(rest[small - 1:])]
        return [sorted(ids[small:]), sorted(ids[:small])]

    def _rolling_restart(self, seq: int) -> None:
        """Each broker in turn: graceful restart, then wait for every partition to be fully in sync."""
        for b in self.brokers.broker_ids:
            self._ledger_add(f"{seq}-{b}", "stop", b, "start", command=self.brokers.heal_command("start", b))
            self.brokers.restart(b)
            self.ledger.remove(f"{seq}-{b}")
            metadata.wait_ready(self.brokers, timeout=180)
            self._admin(lambda c: [metadata.wait_topic_ready(c, t, timeout=120) for t in self.topic_names.values()])

    def _ledger_add(self, entry_id: str, action: str, broker: int, heal: str, **extra) -> None:
        self.ledger.add({"id": entry_id, "action": action, "broker": broker,
                         "container": self.brokers.container_name(broker), "heal": heal,
                         **{k: v for k, v in extra.items() if v is not None}})

    def _heal_where(self, wanted, run: bool = True) -> tuple[list[str], list[str]]:
        """Heal (or, with run=False, just forget) the ledger entries `wanted` selects."""
        done, errors = [], []
        for e in self.ledger.entries():
            if not wanted(e):
                continue
            try:
                line = heal_entry(e) if run else f"{e['heal']} broker {e['broker']} (by the scenario)"
                self.ledger.remove(e["id"])
                done.append(line)
            except Exception as exc:  # noqa: BLE001 - one failed heal must not stop the others
                errors.append(f"{e['heal']} broker {e['broker']}: {exc}")
        self.heals += done
        return done, errors

    def heal_planned(self, planned, t0: float) -> dict:
        """The automatic heal of a fault with `duration`: undo exactly what that fault did."""
        entry = start_entry(planned, t0)
        done, errors = self._heal_where(lambda e: e["id"].split("-")[0] == str(planned.heal_of))
        entry.update(resolved="; ".join(done) or "nothing left to heal", ok=not errors, t_applied=time.time())
        if errors:
            entry["error"] = "; ".join(errors)
        self.record(entry)
        return entry

    def heal_all(self) -> list[str]:
        """Undo everything still in the ledger (end of run, error, Ctrl-C, SIGTERM); retried once."""
        done = []
        for attempt in range(2):
            lines, errors = self._heal_where(lambda e: True)
            done += lines
            for line in lines:
                self.record({"event": "heal", "action": "heal", "resolved": line, "ok": True,
                             "t_applied": time.time(), "final": True})
            if not self.ledger.entries():
                break
            if attempt:
                for err in errors:
                    self.record({"event": "heal", "action": "heal", "ok": False, "error": err,
                                 "t_applied": time.time(), "final": True})
            time.sleep(1)
        return done

    def record(self, entry: dict) -> None:
        with open(self.run_dir / TIMELINE, "a") as f:
            f.write(json.dumps(entry, default=str) + "\n")


def start_entry(planned, t0: float) -> dict:
    """The head of the timeline entry of `planned`, stamped as it starts: an apply with its target and
    spec, or the automatic heal of fault `heal_of`."""
    entry = {"event": "apply" if planned.heal_of < 0 else "heal", "seq": planned.seq, "action": planned.action,
             "t_scheduled": t0 + planned.t, "t_started": time.time()}
    if planned.heal_of >= 0:
        entry["heal_of"] = planned.heal_of
    else:
        entry.update(target=planned.target, spec=planned.spec.to_dict() if planned.spec is not None else None)
    return entry
