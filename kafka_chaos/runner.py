"""Runs one scenario: cluster up, topic, workers, fault timeline, heal, drain, audit, verdict.

Whatever happens (normal end, error, Ctrl-C, SIGTERM) the `finally` block kills the workers, heals
every fault in the ledger and, if kchaos started the cluster, removes it unless asked to keep it.
The history is on disk throughout, so an interrupted run can still be verified.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml
from rich.console import Console
from rich.markup import escape

from kafka_chaos import catalog, faults, history, netfaults, rundir, schedule, scenario, store, verify
from kafka_chaos.cluster import ComposeCluster, metadata, open_cluster
from kafka_chaos.errors import ClusterError, FaultError, PreflightError
from kafka_chaos.files import write_atomic
from kafka_chaos.history import HistoryWriter, new_run_id
from kafka_chaos.leaders import LeaderWatch
from kafka_chaos.masking import mask
from kafka_chaos.progress import Progress
from kafka_chaos.workload import DRAIN_FLAG, SETTINGS, consumer, read_status
from kafka_chaos.workload import drain
from kafka_chaos.workload.drain import RELAY_DRAIN
from kafka_chaos.workload.launcher import Workers

FLUSH_GRACE = 60.0   # seconds a producer may take past `duration` to flush in-flight sends
TICK = 0.2   # seconds between checks of the workers and progress while no fault is due sooner
CONSUMER_READY = 60.0   # seconds the consumer may take to join its group before the clock starts


@dataclass(frozen=True)
class RunResult:
    verdict: verify.Verdict
    run_dir: Path
    heals: list[str]
    seconds: float
    unhealed: list[str] = dataclasses.field(default_factory=list)


def broker_override(run_dir: Path, compose_file: Path, broker_config: dict[str, str]) -> Path:
    """A compose override that adds `broker_config` as KAFKA_* variables to every broker service. Compose
    interpolates `$` in environment values, so each `$` is written `$$`: the broker gets the value exactly."""
    env = {"KAFKA_" + k.upper().replace("_", "__").replace("-", "___").replace(".", "_"): str(v).replace("$", "$$")
           for k, v in broker_config.items()}
    doc = {"services": {name: {"environment": env} for name in scenario.compose_brokers(compose_file).values()}}
    path = run_dir / "compose-override.yml"
    path.write_text(yaml.safe_dump(doc))
    return path


def replay_plan(run_dir: Path) -> list:
    """The planned actions that replay a recorded run's fault timeline (meta.json and timeline.jsonl checked
    first: a malformed one is exit 2 naming the file and line)."""
    t0 = rundir.start_time(run_dir)
    return schedule.replay(rundir.replay_timeline(run_dir), t0, scenario.fault_from_dict)


scenario_of = rundir.scenario_of


def all_faults(s) -> list:
    return list(s.faults) + list(s.nemesis.faults if getattr(s, "nemesis", None) else [])


def preflight(s, replayed: list | None = None) -> None:
    """Refuse, before anything starts, faults this machine cannot do (exit 2, cluster untouched)."""
    if s.database == "postgresql" and not store.is_postgresql(os.environ.get(scenario.PG_DSN_ENV, "")):
        raise PreflightError(f"{s.path}: database: postgresql needs the DSN in ${scenario.PG_DSN_ENV} "
                             "(postgresql://user:password@127.0.0.1:5432/db; scripts/install-postgres.sh prints one)")
    actions = {f.action for f in all_faults(s)} | {p.action for p in replayed or []}
    network = actions & set(schedule.NETWORK_ACTIONS)
    if not network:
        return
    try:
        netfaults.check_helper_image()
        if "delay" in actions:
            ok, why = netfaults.netem_supported()
            if not ok:
                raise PreflightError(
                    f"{s.path}: action delay needs the kernel's netem qdisc (sch_netem), which this Docker "
                    f"engine's kernel lacks (tc: {why or 'failed'}); use loss (iptables statistic) or "
                    "bandwidth (tbf) instead, or run on a kernel with netem")
    except FaultError as exc:
        raise PreflightError(f"{s.path}: {exc}") from None


def _on_sigterm(*_):
    raise KeyboardInterrupt


def run(s, runs_dir: Path = Path("runs"), keep_cluster: bool = False, kafka_version: str = "4.1.1",
        console: Console | None = None, replay_from: Path | None = None, project: str | None = None,
        port_base: int | None = None) -> RunResult:
    """Run scenario `s`; with `replay_from`, play that run's recorded fault timeline instead of planning one.
    `project` and `port_base` place a compose cluster (see cluster.compose.deployment)."""
    console = console or Console()
    replayed = replay_plan(replay_from) if replay_from else None
    preflight(s, replayed)
    started_at = time.time()
    stamp = _unique_stamp(Path(runs_dir), s.name)
    run_dir = Path(runs_dir) / f"{stamp}-{s.name}"
    run_dir.mkdir(parents=True)
    s, chosen = scenario.for_version(s, kafka_version)   # before scenario.json: the verdict reads its expect
    if chosen:
        console.print(escape(chosen + ("" if s.cluster.compose else " (the version --kafka-version names)")),
                      highlight=False)
    (run_dir / faults.PID_FILE).write_text(str(os.getpid()))
    (run_dir / "scenario.json").write_text(json.dumps(mask(s.to_dict()), indent=1, default=str))
    run_id = new_run_id()
    topic, group = run_names(s, stamp, run_id)
    override = (broker_override(run_dir, Path(s.cluster.compose), s.cluster.broker_config)
                if s.cluster.compose and s.cluster.broker_config else None)
    brokers = open_cluster(s.cluster, override, project, port_base)
    started, engine, workers, watch = False, None, None, None
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    console.print(f"run directory: {escape(str(run_dir))}", highlight=False)
    try:
        if isinstance(brokers, ComposeCluster):
            started = True   # from here on a failure still removes what `up` created
            with console.status("starting the cluster …"):
                console.print(f"image: {escape(brokers.up(kafka_version))}", highlight=False)
        with console.status("waiting for every broker …"):
            metadata.wait_ready(brokers, timeout=180)
        with metadata.admin(brokers.bootstrap) as client:
            for name in (topic, *([output_topic(topic)] if s.copier else [])):
                metadata.create_topic(client, name, s.topic.partitions, s.topic.replication_factor, s.topic.config)
                metadata.wait_topic_ready(client, name)
        held = consumer.log_size(brokers.bootstrap, topic)
        if held:
            _warn(console, run_dir, f"topic {topic} already held {held} records before the run: they are not "
                                    "this run's and are counted as foreign, never as ours")
        engine = faults.FaultEngine(brokers, run_dir, {s.topic.name: topic}, s.seed, group)
        plan = replayed if replayed is not None else schedule.plan(s.faults, s.duration, s.seed, s.nemesis)
        engine.prepare(plan)   # metadata client and network helpers warm before the first fault
        ready_by = time.time() + CONSUMER_READY
        settings = {
            "bootstrap": brokers.bootstrap, "topic": topic, "group": group, "run_id": run_id,
            "rate": s.producer.rate, "value_size": s.producer.value_size, "counts": {},
            "deadline": ready_by + s.duration, "flush_timeout": FLUSH_GRACE / 2,
            "producer_config": s.producer.config, "mode": s.consumer.mode,
            "process_time": s.consumer.process_time, "consumer_config": s.consumer.config,
            "hard_deadline": ready_by + s.duration + FLUSH_GRACE + s.drain_timeout + 120,
            "txn": txn_settings(s, run_id), "seed": s.seed, "copier": copier_settings(s, run_id, topic, group)}
        db = database(s, run_dir, run_id)
        if s.sink:
            settings["sink"] = {**db, "offsets": s.sink.offsets, "dedup": s.sink.dedup,
                                "process_time": s.sink.process_time, "group": group + "-sink"}
        if s.producer.semantic == "outbox":
            settings["outbox"] = {**db, "count": 0, "rate": s.producer.rate or 0, "batch": 10,
                                  "payload_size": s.producer.value_size}
            settings["relay"] = {"producer_config": s.producer.config}
        settings["producer_client"] = s.producer.client   # the producer worker's client library
        workers = Workers(run_dir, settings)
        total = s.producer.count if s.producer.count else int((s.producer.rate or 0) * s.duration) + 1
        for role in readers(s):
            workers.start(role)
        for role in readers(s):   # each its own CONSUMER_READY seconds
            with console.status(f"waiting for the {role} to join its group …"):
                joined = _wait_joined(workers, run_dir, time.time() + CONSUMER_READY, role)
            if not joined:
                _warn(console, run_dir, f"the {role} had no partitions after {CONSUMER_READY:.0f} s (group "
                                        "coordinator not ready?); the workload starts anyway")
        t0 = time.time()   # the clock starts with a consumer in place: faults at +3s hit a running workload
        settings["deadline"] = t0 + s.duration
        (run_dir / "meta.json").write_text(json.dumps({
            "t0": t0, "run_id": run_id, "topic": topic, "output_topic": output_topic(topic) if s.copier else None,
            "records_before": held, "bootstrap": brokers.bootstrap,
            "containers": brokers.containers, "image": getattr(brokers, "image", ""),
            "project": getattr(brokers, "project", None),
            "replay_of": str(replay_from or ""),
            "planned": [{k: v for k, v in p.__dict__.items() if k != "spec"} for p in plan]}, indent=1, default=str))
        watch = LeaderWatch(brokers.bootstrap, topic, run_dir)   # for the report's timeline; never fails the run
        watch.start()
        for role in writers(s):
            workers.start(role, total)
        _play(console, s, plan, engine, workers, brokers, run_dir, t0, total, replaying=replay_from is not None)
        _finish(console, s, engine, workers, brokers, run_dir, topic, group, run_id, touched=touches_cluster(plan))
    finally:
        if watch is not None:
            watch.stop()
        failing = sys.exc_info()[0] is not None
        # nothing may interrupt the clean-up: a second Ctrl-C would leave faults applied
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        unhealed = _clean_up(console, run_dir, workers, engine, brokers, started and not keep_cluster, failing)
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
    verdict = verify.verify_run_dir(run_dir)
    return RunResult(verdict, run_dir, engine.heals if engine else [], time.time() - started_at, unhealed)


def readers(s) -> tuple[str, ...]:
    """The roles that read the topic and drain at the end: the consumer, and the copier or sink if any."""
    return ("consumer", *(("copier",) if s.copier else ()), *(("sink",) if s.sink else ()))


def writers(s) -> tuple[str, ...]:
    """The roles that write the topic: the producer, or the outbox application step and its relay."""
    return ("outbox", "relay") if s.producer.semantic == "outbox" else ("producer",)


def database(s, run_dir: Path, run_id: str) -> dict | None:
    """The sink's and outbox's database: {"dsn", "prefix"} (a SQLite file in the run directory, or the
    PostgreSQL DSN from the environment with tables of this run's own prefix), None when neither runs."""
    if not s.sink and s.producer.semantic != "outbox":
        return None
    if s.database == "postgresql":   # checked by preflight
        dsn = os.environ.get(scenario.PG_DSN_ENV, "")
    else:
        dsn = str((run_dir / "store.db").resolve())
    return {"dsn": dsn, "prefix": store.table_prefix(run_id)}


def output_topic(topic: str) -> str:
    return topic + "-out"


def copier_settings(s, run_id: str, topic: str, group: str) -> dict | None:
    """The copier's settings (None without a copier). Its transactional id is the same for every instance:
    a restarted copier fences the crashed one and aborts its open transaction (init_transactions)."""
    c = s.copier
    if c is None:
        return None
    return {"topic_out": output_topic(topic), "group": group + "-copier", "transactional_id": f"kchaos-{run_id}-copier",
            "txn_size": c.txn_size, "abort_ratio": c.abort_ratio, "timeout": c.transaction_timeout,
            "on_abort": c.on_abort, "offsets": c.offsets}


def _wait_joined(workers, run_dir: Path, deadline: float, role: str = "consumer") -> bool:
    """Until the `role` worker reports partitions assigned (it joined its group), or `deadline`."""
    while time.time() < deadline:
        workers.check(role)
        if any(v.get("assigned") for k, v in read_status(run_dir).items() if k.startswith(role + "-")):
            return True
        time.sleep(0.1)
    return False


def txn_settings(s, run_id: str) -> dict | None:
    """The transactional producer's settings (None for any other semantic). Without a transactional_id in the
    scenario each producer instance gets its own, kchaos-<run id>-<name>-<instance> (the random run id: two runs
    started in the same second must never fence each other's producers): a restarted producer
    then leaves the crashed one's open transaction to the coordinator's timeout instead of fencing it."""
    p = s.producer
    if p.semantic != "transactional":
        return None
    return {"transactional_id": p.transactional_id or f"kchaos-{run_id}-{s.name}", "given": bool(p.transactional_id),
            "txn_size": p.txn_size, "abort_ratio": p.abort_ratio, "timeout": p.transaction_timeout, "seed": s.seed}


def audit_timeout(s) -> float:
    """Seconds the audit may take: at least a minute, and with transactions long enough for the coordinator
    to abort one a killed producer left open (transaction_timeout, then its 10 s cleanup interval)."""
    txn = s.producer.transaction_timeout or 0.0
    return max(60.0, s.drain_timeout, txn + 30.0 if txn else 0.0)


def run_names(s, stamp: str, run_id: str) -> tuple[str, str]:
    """The run's topic and consumer group: the stamp for people, the run id so that no two runs share them (two
    runs started in the same second from different run directories once shared a topic, and each counted the
    other's records as foreign and their copies as duplicate effects)."""
    return f"{s.topic.name}-{stamp}-{run_id[:8]}", f"kchaos-{stamp}-{run_id[:8]}-{s.name}"


def _unique_stamp(runs_dir: Path, name: str) -> str:
    """A timestamp no other run directory of this scenario uses (with the run id it names the topic and group)."""
    base = time.strftime("%Y%m%d-%H%M%S")
    stamp, n = base, 1
    while (runs_dir / f"{stamp}-{name}").exists():
        n += 1
        stamp = f"{base}.{n}"
    return stamp


def _clean_up(console, run_dir, workers, engine, brokers, remove_cluster: bool, failing: bool) -> list[str]:
    """Stop workers, heal every fault, remove the cluster; each step runs even if one before it failed.
    Returns what could not be healed."""
    steps = [("stop workers", lambda: workers and workers.stop_all()),
             ("heal faults", lambda: engine and engine.heal_all()),
             ("remove the cluster", lambda: remove_cluster and brokers.down())]
    for what, step in steps:
        try:
            with console.status(f"{what} …"):
                step()
        except Exception as exc:  # noqa: BLE001 - report and go on: the next steps still matter
            console.print(f"[yellow]warning:[/] could not {what}: {escape(str(exc))}", highlight=False)
    (run_dir / SETTINGS).unlink(missing_ok=True)   # it holds the raw client settings
    (run_dir / faults.PID_FILE).unlink(missing_ok=True)
    unhealed = [f"{e['action']} broker {e['broker']}" for e in (engine.ledger.entries() if engine else [])]
    if failing or unhealed:
        healed = "; ".join(engine.heals) if engine and engine.heals else "nothing was left applied"
        console.print(f"healed: {escape(healed)}", highlight=False)
        if unhealed:
            console.print(f"[red]NOT healed:[/] {escape(', '.join(unhealed))} "
                          f"(retry: kchaos heal {escape(str(run_dir))})", highlight=False)
        console.print(f"history kept: kchaos verify {escape(str(run_dir))}", highlight=False)
    return unhealed


def _play(console, s, plan, engine, workers, brokers, run_dir, t0, total, replaying=False) -> None:
    """The workload phase: fire planned faults on time until `duration`. A replay keeps the recorded
    heal times; otherwise a fault that fired late has its heal moved so it lasts its full duration."""
    pending = list(plan)
    crashed: set[str] = set()
    with Progress(console, run_dir, s.duration, t0, engine) as progress:
        while True:
            now = time.time() - t0
            while pending and pending[0].t <= now:
                p = pending.pop(0)
                entry = _fire(p, s, engine, workers, crashed, run_dir, t0, total)
                late = entry.get("t_applied", 0) - entry.get("t_scheduled", 0)
                if p.heal_of < 0 and late > 0 and not replaying:
                    pending = schedule.delay_heals(pending, p.seq, late)
                progress.event(entry)
            for role in (*writers(s), *readers(s)):
                workers.check(role, expected_dead=role in crashed)
            if now >= s.duration:   # the producer stops by itself; faults are healed before it flushes
                break
            progress.update(now)
            time.sleep(schedule.sleep_for(pending, time.time() - t0, TICK))


def _fire(p, s, engine, workers, crashed, run_dir, t0, total) -> dict:
    if p.action == "crash":
        entry = faults.start_entry(p, t0)
        try:
            entry.update(resolved=workers.crash(p.target, p.spec.point), ok=True)
            crashed.add(p.target)
        except ClusterError as exc:
            entry.update(ok=False, error=str(exc))
        entry["t_applied"] = time.time()
        engine.record(entry)
        return entry
    if p.action in ("restart-worker", "fence-producer"):   # fence: a new producer with the same transactional.id
        role = p.spec.target
        remaining = None
        if role in ("producer", "outbox"):
            sent = sum(v.get("sent", 0) for k, v in read_status(run_dir).items() if k.startswith(role + "-"))
            remaining = max(0, total - sent)
        entry = faults.start_entry(p, t0)
        entry.update(resolved="started " + workers.start(role, remaining), ok=True, t_applied=time.time())
        crashed.discard(role)
        engine.record(entry)
        return entry
    if p.heal_of >= 0:
        return engine.heal_planned(p, t0)
    return engine.apply(p, t0)


def touches_cluster(plan) -> bool:
    """Whether a planned action acts on the cluster (brokers, network), not only on the workers (crash,
    restart-worker, fence-producer): only then must the end of the run prove the cluster alive again."""
    workers_only = {n for a in catalog.TABLE if a.family == "client" for n in (a.name, a.heal) if n}
    return any(p.action not in workers_only for p in plan)


def _finish(console, s, engine, workers, brokers, run_dir, topic, group, run_id, touched: bool = True) -> None:
    """Heal, let the producer flush, drain the consumer (and copier), then audit the log (and the output).
    A run whose faults never touched the cluster skips the proof of life (every broker registered, a record
    written and read back: ~0.4 s) it passed at the start; the topic's full ISR is checked either way."""
    relay_done = True
    db = database(s, run_dir, run_id)   # the sink's and outbox's, if either runs
    start = time.monotonic()
    with console.status("healing faults and waiting for a healthy cluster …"):
        engine.heal_all()
        try:
            if touched or engine.heals:
                metadata.wait_ready(brokers, timeout=180)
            with metadata.admin(brokers.bootstrap) as client:
                metadata.wait_topic_ready(client, topic, timeout=60)
        except ClusterError as exc:
            _warn(console, run_dir, f"cluster not fully healthy after healing: {exc}")
    console.print(f"cluster healthy again after {time.monotonic() - start:.1f} s", highlight=False)
    _stop_writer(console, workers, writers(s)[0], FLUSH_GRACE)
    if "relay" in writers(s):   # the outbox step is done: the relay publishes what is left, then stops
        if not workers.alive("relay"):
            console.print(f"relay not running at the end; started {workers.start('relay')} to drain")
        drain.write(run_dir / RELAY_DRAIN, time.time() + s.drain_timeout)
        with console.status("the relay publishes the rest of the outbox …"):
            _stop_writer(console, workers, "relay", s.drain_timeout + 15)
        relays = [v for k, v in read_status(run_dir).items() if k.startswith("relay-")]
        relay_done = not any(v.get("drain_timed_out") or v.get("hard_deadline") for v in relays)
        if not relay_done:
            _warn(console, run_dir, f"the relay did not publish the whole outbox within drain_timeout "
                                    f"({s.drain_timeout:.0f} s): the effects are not judged; raise drain_timeout")
    for role in readers(s):
        workers.check(role)
        if not workers.alive(role):
            console.print(f"{role} not running at the end; started {workers.start(role)} to drain")
    deadline = time.time() + s.drain_timeout
    try:   # the writers are done: what the readers must reach is fixed now (no idle wait at the end)
        ends = consumer.high_watermarks(brokers.bootstrap, topic)
    except ClusterError as exc:
        ends = None
        _warn(console, run_dir, f"could not read where the log ends before the drain ({exc}); each reader reads "
                                "the end offsets itself")
    drain.write(run_dir / DRAIN_FLAG, deadline, ends)
    writer = HistoryWriter(run_dir / "history" / "audit-0.bin")
    stop, pool = threading.Event(), ThreadPoolExecutor(1)
    try:   # the writers are done, so the log's audit need not wait for the readers: it runs beside their drain
        log_read = pool.submit(consumer.read_log, brokers.bootstrap, topic, writer, audit_timeout(s), run_id, stop=stop)
        effects_done = _drain(console, s, workers, run_dir, deadline)
        with console.status("auditing the log …"):
            consumer.record_committed(brokers.bootstrap, topic, group, writer)   # the readers are done
            audit = log_read.result()
            if s.copier:   # the copier's output, judged only when the copier copied everything it could
                out = consumer.read_log(brokers.bootstrap, output_topic(topic), writer, audit_timeout(s), run_id,
                                        stream=history.OUTPUT)
                audit["output"] = {**out, "complete": effects_done}
            if s.sink:
                audit["effects"] = {"rows": store.audit_effects(db["dsn"], db["prefix"], writer),
                                    "complete": effects_done}
            if "relay" in writers(s):
                audit["outbox"] = {"rows": store.audit_outbox(db["dsn"], db["prefix"], writer),
                                   "complete": relay_done}
    finally:
        stop.set()   # a run that failed on the way stops the log's reader at its next poll
        pool.shutdown(wait=True)
        writer.close()
        if db and store.is_postgresql(db["dsn"]):   # the history holds it all now (or the run failed)
            try:
                store.drop_tables(db["dsn"], db["prefix"])
            except store.StoreError as exc:
                _warn(console, run_dir, f"could not drop this run's tables ({db['prefix']}*): {exc}")
    write_atomic(run_dir / verify.AUDIT, json.dumps({"complete": True, **audit}))   # only a complete audit counts
    waited = f" (waited {audit['lso_wait_s']:.1f} s for an open transaction to end)" if audit["lso_wait_s"] >= 1 else ""
    console.print(f"audit: {audit['records']} records in the log{waited}", highlight=False)


def _drain(console, s, workers, run_dir: Path, deadline: float) -> bool:
    """Wait for each reader to stop at the ends in the drain file (or its deadline); warn about any that did
    not catch up. Returns whether the copier or sink caught up (its effects can be judged)."""
    effects_done = False
    for role in readers(s):
        start = time.monotonic()
        with console.status(f"draining the {role} (at most {s.drain_timeout:.0f} s) …"):
            drained = workers.wait(role, deadline - time.time() + 15)
            if not drained:
                console.print(f"[yellow]{role} did not stop at the drain deadline; stopping it[/]")
                workers.current(role).terminate()
                workers.wait(role, 10)
        workers.check(role)
        console.print(f"{role} drained in {time.monotonic() - start:.1f} s", highlight=False)
        stopped = {k: v for k, v in read_status(run_dir).items() if k.startswith(role + "-")}
        last = stopped[max(stopped, key=lambda k: int(k.rsplit("-", 1)[1]))] if stopped else {}   # the newest
        if role in ("copier", "sink") and drained and not last.get("caught_up"):
            _warn(console, run_dir, f"the {role} stopped before it caught up (see logs/{role}-*.log): "
                                    "its effects are not judged")
        elif any(v.get("drain_timed_out") or v.get("hard_deadline") for v in stopped.values()) or not drained:
            _warn(console, run_dir, f"the {role} did not catch up within drain_timeout ({s.drain_timeout:.0f} s): "
                                    + ("records it never reached are counted as unread, not lost; raise drain_timeout"
                                       if role == "consumer" else "its effects are not judged; raise drain_timeout"))
        elif role in ("copier", "sink"):
            effects_done = True
    return effects_done


def _stop_writer(console, workers, role: str, grace: float) -> None:
    """Let a writer finish (flush, publish) within `grace` seconds, then stop it: nothing may write while the
    audit reads the log."""
    if workers.alive(role) and not workers.wait(role, grace):
        console.print(f"[yellow]{role} still writing after {grace:.0f} s; stopping it[/]")
        workers.current(role).terminate()
        if not workers.wait(role, 10):
            workers.current(role).kill()
            workers.wait(role, 10)
    workers.check(role)


def _warn(console, run_dir: Path, text: str) -> None:
    """Print a warning and keep it in the run directory (the report and --json show it)."""
    console.print(f"[yellow]warning:[/] {escape(text)}", highlight=False)
    with open(run_dir / verify.WARNINGS, "a") as f:
        f.write(text.replace("\n", " ") + "\n")
