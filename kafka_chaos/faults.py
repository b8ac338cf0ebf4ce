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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kafka_chaos import catalog, files, history, netfaults, rundir, scenario
from kafka_chaos.cluster import metacache, metadata
from kafka_chaos.cluster.containers import NAME_RE, ContainerBrokers
from kafka_chaos.errors import ClusterError, FaultError, KchaosError, UsageError

LEDGER = "faults-active.json"
TIMELINE = history.TIMELINE

# Derived from the one fault table, kafka_chaos.catalog
BROKER_TARGETS = catalog.ACTIONS["kill"].targets_text
CATALOG = {a.name: (a.targets_text, a.doc) for a in catalog.TABLE}   # action -> (targets, what it does)
# apply action -> (broker method, heal method)
BROKER_ACTIONS = {name: (catalog.ACTIONS[name].method, catalog.ACTIONS[name].heal_method)
                  for name in catalog.BROKER_ACTIONS}
NETWORK_ACTIONS = catalog.NETWORK_ACTIONS
QDISC_ACTIONS = catalog.QDISC_ACTIONS

_TARGET = re.compile(r"^(broker|leader|follower|coordinator|txn-coordinator)\((.*)\)$")


class Ledger:
    """The faults currently applied, kept on disk: [{"id", "action", "broker", "container", "heal"}]."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / LEDGER

    def entries(self) -> list[dict]:
        """What the ledger lists; [] when it cannot be read (the running engine goes on healing regardless)."""
        try:
            return self.read()
        except KchaosError:
            return []

    def read(self) -> list[dict]:
        """What the ledger lists, checked entry by entry ([] when there is none); a ledger that is not a list
        of well-formed entries is a UsageError naming the file, entry and field."""
        if not self.path.exists() and not self.path.is_symlink():
            return []
        data = files.read_json(self.path, MAX_LEDGER, "heal ledger")
        if not isinstance(data, list):
            raise UsageError(f"{self.path}: the heal ledger must be a JSON list of faults, not {type(data).__name__}")
        for i, entry in enumerate(data):
            problem = _entry_problem(entry)
            if problem:
                raise UsageError(f"{self.path}: entry {i}: {problem}")
        return data

    def _save(self, entries: list[dict]) -> None:
        files.write_atomic(self.path, json.dumps(entries, indent=1))

    def add(self, entry: dict) -> None:
        self._save(self.entries() + [entry])

    def remove(self, entry_id: str) -> None:
        self._save([e for e in self.entries() if e["id"] != entry_id])


MAX_LEDGER = 4 * 2**20
FAULT_ID = re.compile(r"^[0-9]{1,9}-[0-9]{1,9}$")   # "<seq>-<broker>": ledger ids and netfaults chain ids (KC<id>)
# ledger heal name -> how it is undone; a ledger only ever selects one of these, it never names code to run
HEALERS = {
    "unpause": lambda brokers, broker, entry: brokers.unpause(broker),
    "start": lambda brokers, broker, entry: brokers.start(broker),
    "net-chain": lambda brokers, broker, entry: netfaults.clear_fault(brokers.container_name(broker),
                                                                      entry["fault_id"]),
    "net-qdisc": lambda brokers, broker, entry: netfaults.clear_qdisc(brokers.container_name(broker)),
}
_ENTRY_FIELDS = {"id": str, "action": str, "broker": int, "container": str, "heal": str}
_ENTRY_OPTIONAL = {"command": list, "fault_id": str}


def _entry_problem(entry) -> str | None:
    """What is wrong with one ledger entry's shape, or None."""
    if not isinstance(entry, dict):
        return "must be a JSON object"
    for key, kind in {**_ENTRY_FIELDS, **_ENTRY_OPTIONAL}.items():
        if key not in entry:
            if key in _ENTRY_FIELDS:
                return f"{key} is missing"
        elif not isinstance(entry[key], kind) or isinstance(entry[key], bool):
            return f"{key} must be {'an integer' if kind is int else 'a ' + kind.__name__}, not {entry[key]!r}"
    unknown = sorted(set(entry) - set(_ENTRY_FIELDS) - set(_ENTRY_OPTIONAL))
    if unknown:
        return f"unknown field {unknown[0]!r}"
    if entry["heal"] not in HEALERS:
        return f"heal {entry['heal']!r} is not one of {', '.join(HEALERS)}"
    if entry["action"] not in scenario.ACTIONS:
        return f"action {entry['action']!r} is not a fault action"
    if not FAULT_ID.match(entry["id"]):
        return f"id {entry['id']!r} is not like 3-1 (fault seq - broker)"
    if entry["heal"] == "net-chain" and not FAULT_ID.match(entry.get("fault_id", "")):
        return f"fault_id {entry.get('fault_id')!r} is not like 3-1 (a kchaos chain id)"
    if not all(isinstance(a, str) for a in entry.get("command", [])):
        return "command must be a list of strings"
    return None


def heal_entry(entry: dict, brokers) -> str:
    """Undo one ledger entry on `brokers`: the heal it names, from HEALERS, on the broker it names."""
    broker, heal = entry["broker"], entry["heal"]
    if heal not in HEALERS:
        raise FaultError(f"unknown heal {heal!r} for broker {broker}")
    container = brokers.container_name(broker)
    if heal.startswith("net-") and brokers.state(broker) not in ("running", "paused"):
        return f"nothing to remove for broker {broker} ({container}): stopped, its network namespace is gone"
    HEALERS[heal](brokers, broker, entry)
    what = {"net-chain": f"remove {entry['action']} rules", "net-qdisc": f"remove {entry['action']} qdisc"}
    return f"{what.get(heal, heal)} broker {broker} ({container})"


def run_brokers(run_dir: Path, ledger: Ledger, entries: list[dict], trusted=None):
    """The brokers of a run, from its validated scenario.json, once every ledger entry is shown to be theirs:
    the broker is one of the scenario's, the container is the one playing it (the scenario's `containers`,
    or for a compose cluster the container Docker labels with the project and broker id) and a stored
    command is exactly the scenario's template rendered for that heal and broker.

    A run directory may be forged, scenario.json included, so it never decides alone which program runs:
    a run healed by `cluster.commands` needs `trusted`, the scenario the user ran (their own file), and its
    hosts and commands must be the run's."""
    from kafka_chaos.cluster.commands import CommandBrokers
    from kafka_chaos.cluster.compose import deployment, discover

    s = rundir.scenario_of(run_dir)
    c = s.cluster
    if c.commands:
        if trusted is None:
            raise UsageError(f"{run_dir}: this run's faults are healed by running cluster.commands; kchaos does not "
                             "run commands a run directory names: pass the scenario file you ran with "
                             "--scenario FILE")
        if (dict(trusted.cluster.commands), dict(trusted.cluster.hosts)) != (dict(c.commands), dict(c.hosts)):
            raise UsageError(f"{trusted.path}: its cluster.commands or cluster.hosts differ from the run's "
                             f"({run_dir / 'scenario.json'}): not the scenario this run ran; refused")
        c = trusted.cluster
        brokers = CommandBrokers(c.bootstrap or "", dict(c.hosts), dict(c.commands))
    elif c.compose:
        project = rundir.compose_project(run_dir, deployment()[0])
        brokers = ContainerBrokers("", {b: name for b, (name, _) in discover(project).items()
                                        if b in c.broker_ids})
    else:
        brokers = ContainerBrokers("", dict(c.containers))
    for i, e in enumerate(entries):
        where, broker = f"{ledger.path}: entry {i}", e["broker"]
        if broker not in c.broker_ids:
            raise UsageError(f"{where}: broker {broker} is not a broker of this run "
                             f"({', '.join(map(str, c.broker_ids))})")
        expected = brokers.containers.get(broker)
        if e["container"] != expected:
            raise UsageError(f"{where}: {e['container']!r} is not the container of broker {broker} in this run "
                             f"({expected or 'none found'})")
        if isinstance(brokers, CommandBrokers):
            try:
                template = brokers.render(e["heal"], broker)
            except ClusterError as exc:
                raise UsageError(f"{where}: {exc}") from None
            if e.get("command") != template:
                raise UsageError(f"{where}: command is not this run's cluster.commands.{e['heal']} for broker "
                                 f"{broker}; refused")
        elif "command" in e:
            raise UsageError(f"{where}: a command in a run of Docker containers; refused")
        elif not NAME_RE.match(expected):
            raise UsageError(f"{where}: {expected!r} is not a Docker container name")
    return brokers


def remove_pool_helpers(run_dir: Path) -> list[str]:
    """Remove the network helpers a killed run had started ahead of its faults (idle containers with NET_ADMIN
    in its brokers' namespaces, which outlive the run while the brokers run); what was done."""
    cluster = rundir.read_object(run_dir / "scenario.json", "scenario", required=False).get("cluster")
    containers = rundir.read_object(run_dir / "meta.json", "run facts", required=False).get("containers")
    names = [n for n in containers.values() if isinstance(n, str) and NAME_RE.match(n)] \
        if isinstance(containers, dict) else []
    if not names or not isinstance(cluster, dict) or cluster.get("commands"):
        return []   # a run on commands has no containers; one killed before it knew them started no helper
    from kafka_chaos import engine as docker_engine
    try:
        removed = netfaults.remove_pool_helpers(docker_engine.client(), names)
    except KchaosError:
        raise
    except Exception as exc:  # noqa: BLE001 - the SDK's own errors
        raise ClusterError(f"cannot remove the run's network helpers ({type(exc).__name__}: {exc})") from None
    return [f"removed network helper {name}" for name in removed]


def heal_run_dir(run_dir: Path, trusted=None) -> list[str]:
    """Undo every fault a run's ledger still lists (used by `kchaos heal` after kchaos was killed).

    Only what the run's own scenario allows is done (see run_brokers; `trusted`: the user's scenario,
    needed for runs healed by commands); an engine that does not answer fails the heal and keeps the
    entry in the ledger."""
    run_dir = Path(run_dir)
    if not any((run_dir / name).exists() for name in (LEDGER, "scenario.json", PID_FILE)):
        raise UsageError(f"{run_dir}: not a kchaos run directory")
    owner = live_owner(run_dir)
    if owner:
        raise UsageError(f"{run_dir}: its run is still going (kchaos pid {owner}); Ctrl-C or SIGTERM it, "
                         "and it heals itself")
    ledger = Ledger(run_dir)
    entries = ledger.read()
    done, errors = stop_orphan_workers(run_dir), []
    try:
        done += remove_pool_helpers(run_dir)
    except KchaosError as exc:
        errors.append(f"network helpers: {exc}")
    if entries:
        try:
            brokers = run_brokers(run_dir, ledger, entries, trusted)
        except ClusterError as exc:
            raise ClusterError(f"{run_dir}: nothing healed, {len(entries)} fault(s) kept in {ledger.path}: "
                               f"{exc}") from None
    for entry in entries:
        try:
            done.append(heal_entry(entry, brokers))
            ledger.remove(entry["id"])
        except Exception as exc:  # noqa: BLE001 - heal what can be healed, then report the rest
            errors.append(f"{entry['heal']} broker {entry['broker']}: {exc}")
    (run_dir / "workers.json").unlink(missing_ok=True)   # raw client settings of the killed run
    if errors:
        raise FaultError(f"{run_dir}: could not heal: {'; '.join(errors)} (kept in {ledger.path}; healed: "
                         f"{'; '.join(done) or 'nothing'})")
    return done


PID_FILE = "kchaos.pid"


def leftover_runs(runs_dir: Path) -> list[Path]:
    """Run directories under `runs_dir` a killed kchaos may have left faults or workers in (a ledger, a pid
    file or worker status files), except runs whose kchaos is still alive."""
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise UsageError(f"--runs: {runs_dir} is not a folder")
    marks = (LEDGER, PID_FILE, "status")
    return [d for d in sorted(runs_dir.iterdir())
            if d.is_dir() and any((d / m).exists() for m in marks) and not live_owner(d)]


def live_owner(run_dir: Path) -> int | None:
    """The pid of the kchaos still running this run, if any."""
    try:
        pid = int(files.read_bounded(Path(run_dir) / PID_FILE, 32, PID_FILE))
        argv = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (KchaosError, OSError, ValueError):
        return None
    return pid if b"kafka_chaos" in argv or b"kchaos" in argv else None


def stop_orphan_workers(run_dir: Path) -> list[str]:
    """SIGKILL workers a killed kchaos left running; a pid counts only while its command line still
    names this run's worker (so a reused pid is spared). A status file that is not a worker's is an error."""
    done = []
    for status in sorted((run_dir / "status").glob("*.json")):
        data = files.read_json(status, 64 * 1024, "worker status")
        pid = data.get("pid") if isinstance(data, dict) else None
        if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 1:
            raise UsageError(f"{status}: pid must be a process id, not {pid!r}")
        try:
            argv = [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")]
            cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
        except (OSError, ValueError):
            continue
        role = status.stem.rsplit("-", 1)[0]
        if argv[2:4] and argv[2] == f"kafka_chaos.workload.{role}" and \
                (cwd / argv[3]).resolve() == run_dir.resolve():
            os.kill(pid, signal.SIGKILL)
            done.append(f"stop orphan worker {status.stem} (pid {pid})")
    return done


class FaultEngine:
    """Resolves targets at fire time (partition targets from the run's metadata sample, at most
    metacache.MAX_AGE old), applies faults, records the timeline and heals."""

    def __init__(self, brokers, run_dir: Path, topic_names: dict[str, str], seed: int, group: str = ""):
        self.brokers = brokers
        self.run_dir = Path(run_dir)
        self.topic_names = topic_names      # scenario topic name -> this run's physical topic
        self.group = group                  # this run's consumer group, for coordinator(consumer)
        self.rng = random.Random(seed)
        self.ledger = Ledger(run_dir)
        self.heals: list[str] = []
        self.cache = None    # MetadataCache, made by prepare() or at the first lookup
        self.helpers = None  # netfaults.HelperPool, made by prepare() for a plan with network faults

    def prepare(self, plan) -> None:
        """Before the clock starts: one admin client sampling the partitions the plan's targets name, and a
        network helper per broker when the plan has network faults, so a fault pays neither at fire time.
        Costs nothing when the plan needs neither; heal_all() releases both."""
        topics = {self._topic_of(p.target) for p in plan if _TARGET.match(p.target or "")} - {None}
        if topics:
            self._cache().watch(*sorted(topics))
        if any(p.action in NETWORK_ACTIONS for p in plan) and hasattr(self.brokers, "ips"):
            try:
                netfaults.check_helper_image()
                from kafka_chaos import engine as docker_engine

                self.helpers = netfaults.HelperPool(docker_engine.client()).__enter__()
                for b in self.brokers.broker_ids:
                    self.helpers.ensure(self.brokers.container_name(b), wait=False)
            except (ClusterError, FaultError):
                pass   # each network fault then says what is missing, as it fired

    def close(self) -> None:
        """Stop the metadata client and remove the network helpers (lookups after this start a new client)."""
        cache, helpers, self.cache, self.helpers = self.cache, self.helpers, None, None
        if cache is not None:
            cache.close()
        if helpers is not None:
            helpers.close()

    def _cache(self):
        if self.cache is None:
            servers = self.brokers.bootstrap.split(",")
            self.cache = metacache.MetadataCache(
                lambda n: metadata.admin(servers[n % len(servers)], timeout_ms=metacache.TIMEOUT_MS,
                                         bootstrap_timeout_ms=metacache.TIMEOUT_MS)).start()
        return self.cache

    def _topic_of(self, target: str) -> str | None:
        """The physical topic whose metadata resolves `target` (None for targets that need none)."""
        m = _TARGET.match(target)
        if not m or m.group(1) == "broker":
            return None
        kind, arg = m.groups()
        if kind == "coordinator":
            return "__consumer_offsets"
        if kind == "txn-coordinator":
            return "__transaction_state"
        topic = arg.rpartition(",")[0].strip()
        return self.topic_names.get(topic, topic)

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
        states = self._cache().partitions(self._topic_of(target))
        if kind in ("coordinator", "txn-coordinator"):
            key = self.group if (kind, arg) == ("coordinator", "consumer") else arg
            return [metadata.coordinator_of(states, key, self._topic_of(target))]
        part = int(arg.rpartition(",")[2])
        state = next((s for s in states if s.partition == part), None)
        if state is None:
            raise FaultError(f"{target}: no such partition")
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
            if planned.action in ("start", "restart"):
                self._new_helper(b)
            if planned.action in ("start", "unpause"):
                undone = {"start": ("kill", "stop"), "unpause": ("pause",)}[planned.action]
                self._heal_where(lambda e: e["broker"] == b and e["action"] in undone, run=False)

    def _network(self, planned, spec, targets: list[int], entry: dict) -> None:
        """Apply a network fault in each target broker's namespace (ledger first, then the rules)."""
        netfaults.check_helper_image()
        jobs: list[tuple[int, object]] = []   # the rule changes, run side by side once every one is in the ledger
        try:
            self._network_jobs(planned, spec, targets, entry, jobs)
        finally:   # a broker that cannot be faulted still leaves the others faulted, as they are in the ledger
            failed = [str(result) for ok, result in per_broker(jobs) if not ok]
        if failed:
            raise FaultError("; ".join(failed))

    def _network_jobs(self, planned, spec, targets: list[int], entry: dict, jobs: list) -> None:
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
                jobs.append((b, lambda container=container, args=args: netfaults.shape(container, args)))
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
            jobs.append((b, lambda c=container, f=fault_id, i=inbound, o=outbound: netfaults.drop(c, f, i, o)))

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

    def _new_helper(self, broker: int) -> None:
        """A started broker is a new process: its network helper (which died with the old one) is started
        again in the background, ready for the next network fault."""
        if self.helpers is not None:
            self.helpers.ensure(self.brokers.container_name(broker), wait=False)

    def _ledger_add(self, entry_id: str, action: str, broker: int, heal: str, **extra) -> None:
        self.ledger.add({"id": entry_id, "action": action, "broker": broker,
                         "container": self.brokers.container_name(broker), "heal": heal,
                         **{k: v for k, v in extra.items() if v is not None}})

    def _heal_where(self, wanted, run: bool = True) -> tuple[list[str], list[str]]:
        """Heal (or, with run=False, just forget) the ledger entries `wanted` selects."""
        done, errors = [], []
        chosen = [e for e in self.ledger.entries() if wanted(e)]

        def heal(e):
            line = heal_entry(e, self.brokers) if run else f"{e['heal']} broker {e['broker']} (by the scenario)"
            if run and e["heal"] == "start":
                self._new_helper(e["broker"])
            return line
        # brokers side by side (a split heals three namespaces at once), each broker's entries in ledger order
        for e, (ok, result) in zip(chosen, per_broker([(e["broker"], lambda e=e: heal(e)) for e in chosen])):
            if ok:
                self.ledger.remove(e["id"])   # only once its heal succeeded
                done.append(result)
            else:   # one failed heal must not stop the others
                errors.append(f"{e['heal']} broker {e['broker']}: {result}")
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
        """Undo everything still in the ledger (end of run, error, Ctrl-C, SIGTERM); retried once. Then the
        metadata client and network helpers go (close()): heal_all ends the fault phase."""
        try:
            return self._heal_all()
        finally:
            self.close()

    def _heal_all(self) -> list[str]:
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


def per_broker(jobs: list[tuple[int, object]]) -> list[tuple[bool, object]]:
    """Run (broker, call) jobs: one thread per broker, each broker's calls in order (two iptables in one
    namespace at once would fight over its lock). [(True, result) or (False, exception)] in the jobs' order."""
    results: list = [None] * len(jobs)
    order: dict[int, list[int]] = {}
    for i, (broker, _) in enumerate(jobs):
        order.setdefault(broker, []).append(i)

    def run(indexes):
        for i in indexes:
            try:
                results[i] = (True, jobs[i][1]())
            except Exception as exc:  # noqa: BLE001 - handed back to the caller, which reports every one
                results[i] = (False, exc)
    if len(order) <= 1:
        for indexes in order.values():
            run(indexes)
        return results
    with ThreadPoolExecutor(max_workers=len(order)) as pool:
        list(pool.map(run, order.values()))
    return results


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
