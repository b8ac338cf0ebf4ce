"""Fault actions on brokers and workers, their targets, and the heal ledger that undoes them no matter what.

Every fault is an (apply, heal) pair. The ledger (RUN_DIR/faults-active.json) gets the fault *before*
it is applied and loses it only after its heal succeeded, so `kchaos heal RUN_DIR` can restore a cluster
even after kchaos itself was killed with SIGKILL mid-fault.
"""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

from kafka_chaos.cluster import metadata
from kafka_chaos.cluster.containers import ContainerBrokers
from kafka_chaos.errors import ClusterError, FaultError

LEDGER = "faults-active.json"
TIMELINE = "timeline.jsonl"

BROKER_TARGETS = "broker(N), leader(TOPIC,P), follower(TOPIC,P), controller, random, all"
CATALOG = {
    "pause": (BROKER_TARGETS, "docker pause: the broker freezes (SIGSTOP-like), sockets stay open; heal: unpause"),
    "unpause": ("paused, broker(N), all", "resume paused brokers"),
    "kill": (BROKER_TARGETS, "SIGKILL the broker: no flush, no controlled shutdown; heal: start"),
    "stop": (BROKER_TARGETS, "graceful stop (SIGTERM, controlled shutdown); heal: start"),
    "start": ("killed, broker(N), all", "start brokers this run killed or stopped"),
    "restart": (BROKER_TARGETS, "graceful stop then start (one rolling-restart step)"),
    "crash": ("producer, consumer", "SIGKILL the client worker; a fresh one starts after `duration`"),
}
# apply action -> (broker method, heal method)
BROKER_ACTIONS = {"pause": ("pause", "unpause"), "kill": ("kill", "start"), "stop": ("stop", "start"),
                  "restart": ("restart", None), "unpause": ("unpause", None), "start": ("start", None)}

_TARGET = re.compile(r"^(broker|leader|follower)\((.*)\)$")


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


def heal_entry(brokers: ContainerBrokers, entry: dict) -> str:
    getattr(brokers, entry["heal"])(entry["broker"])
    return f"{entry['heal']} broker {entry['broker']} ({entry['container']})"


def heal_run_dir(run_dir: Path) -> list[str]:
    """Undo every fault a run's ledger still lists (used by `kchaos heal` after kchaos was killed)."""
    if not (Path(run_dir) / LEDGER).exists() and not (Path(run_dir) / "scenario.json").exists():
        from kafka_chaos.errors import UsageError
        raise UsageError(f"{run_dir}: not a kchaos run directory")
    ledger, done = Ledger(run_dir), []
    for entry in ledger.entries():
        brokers = ContainerBrokers("", {entry["broker"]: entry["container"]})
        done.append(heal_entry(brokers, entry))
        ledger.remove(entry["id"])
    return done


class FaultEngine:
    """Resolves targets at fire time, applies faults to brokers, records the timeline and heals."""

    def __init__(self, brokers: ContainerBrokers, run_dir: Path, topic_names: dict[str, str], seed: int):
        self.brokers = brokers
        self.run_dir = Path(run_dir)
        self.topic_names = topic_names      # scenario topic name -> this run's physical topic
        self.rng = random.Random(seed)
        self.ledger = Ledger(run_dir)
        self.heals: list[str] = []
        self.resolved: dict[int, list[int]] = {}   # planned seq -> brokers it hit

    # -- targets
    def resolve(self, target: str, action: str) -> list[int]:
        """Broker ids a target names right now (from live metadata)."""
        faulted = {"killed": ("kill", "stop"), "paused": ("pause",)}
        if target in faulted:
            return sorted({e["broker"] for e in self.ledger.entries() if e["action"] in faulted[target]})
        if target == "all":
            return list(self.brokers.broker_ids)
        running = [b for b in self.brokers.broker_ids if self.brokers.state(b) == "running"]
        if target == "random":
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
        topic, _, part = arg.rpartition(",")
        physical = self.topic_names.get(topic.strip(), topic.strip())
        client = metadata.admin(self.brokers.bootstrap)
        try:
            state = next(s for s in metadata.partitions(client, [physical]) if s.partition == int(part))
        finally:
            client.close()
        if kind == "leader":
            if state.leader < 0:
                raise FaultError(f"{target}: the partition has no leader right now")
            return [state.leader]
        followers = [b for b in state.isr if b != state.leader]
        if not followers:
            raise FaultError(f"{target}: no in-sync follower right now")
        return [self.rng.choice(sorted(followers))]

    # -- apply / heal
    def apply(self, planned, t0: float) -> dict:
        """Fire one planned broker action; returns its timeline entry (ok or not, never raises)."""
        entry = {"event": "apply", "seq": planned.seq, "action": planned.action, "target": planned.target,
                 "t_scheduled": t0 + planned.t}
        try:
            targets = self.resolve(planned.target, planned.action)
            entry["resolved"] = ", ".join(f"broker {b}" for b in targets) or "nothing"
            self.resolved[planned.seq] = targets
            method, heal = BROKER_ACTIONS[planned.action]
            for b in targets:
                ledger_id = f"{planned.seq}-{b}"
                if heal:
                    self.ledger.add({"id": ledger_id, "action": planned.action, "broker": b,
                                     "container": self.brokers.container_name(b), "heal": heal})
                getattr(self.brokers, method)(b)
                if planned.action in ("start", "unpause"):
                    self._forget(b, {"start": ("kill", "stop"), "unpause": ("pause",)}[planned.action])
            entry["ok"] = True
        except (ClusterError, FaultError) as exc:
            entry.update(ok=False, error=str(exc))
        entry["t_applied"] = time.time()
        self.record(entry)
        return entry

    def heal_planned(self, planned, t0: float) -> dict:
        """The automatic heal of a fault with `duration`: undo exactly the brokers it hit."""
        entry = {"event": "heal", "seq": planned.seq, "action": planned.action, "t_scheduled": t0 + planned.t}
        targets = self.resolved.get(planned.heal_of, [])
        done, errors = [], []
        for e in self.ledger.entries():
            if e["id"].split("-")[0] == str(planned.heal_of) and e["broker"] in targets:
                try:
                    done.append(heal_entry(self.brokers, e))
                    self.ledger.remove(e["id"])
                except ClusterError as exc:
                    errors.append(str(exc))
        entry.update(resolved="; ".join(done) or "nothing left to heal", ok=not errors, t_applied=time.time())
        if errors:
            entry["error"] = "; ".join(errors)
        self.heals += done
        self.record(entry)
        return entry

    def heal_all(self) -> list[str]:
        """Undo everything still in the ledger (end of run, error, Ctrl-C, SIGTERM); retried once."""
        done = []
        for attempt in range(2):
            for e in self.ledger.entries():
                try:
                    line = heal_entry(self.brokers, e)
                    self.ledger.remove(e["id"])
                    done.append(line)
                    self.record({"event": "heal", "action": e["heal"], "resolved": line, "ok": True,
                                 "t_applied": time.time(), "final": True})
                except ClusterError as exc:
                    if attempt:
                        self.record({"event": "heal", "action": e["heal"], "ok": False, "error": str(exc),
                                     "t_applied": time.time(), "final": True})
            if not self.ledger.entries():
                break
            time.sleep(1)
        self.heals += done
        return done

    def _forget(self, broker: int, actions: tuple[str, ...]) -> None:
        for e in self.ledger.entries():
            if e["broker"] == broker and e["action"] in actions:
                self.ledger.remove(e["id"])
                self.heals.append(f"{e['heal']} broker {broker} (by the scenario)")

    def record(self, entry: dict) -> None:
        with open(self.run_dir / TIMELINE, "a") as f:
            f.write(json.dumps(entry) + "\n")
