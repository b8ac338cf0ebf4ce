"""The heal ledger: written before a fault, emptied by its heal, readable after a crash."""

import json
import re
from pathlib import Path

import pytest

from kafka_chaos import faults
from kafka_chaos.cluster.containers import ContainerBrokers
from kafka_chaos.errors import FaultError, UsageError


def test_ledger_add_remove_round_trip(tmp_path):
    ledger = faults.Ledger(tmp_path)
    assert ledger.entries() == []
    ledger.add({"id": "0-1", "action": "pause", "broker": 1, "container": "k1", "heal": "unpause"})
    ledger.add({"id": "2-3", "action": "kill", "broker": 3, "container": "k3", "heal": "start"})
    assert [e["id"] for e in faults.Ledger(tmp_path).entries()] == ["0-1", "2-3"]
    ledger.remove("0-1")
    assert json.loads((tmp_path / faults.LEDGER).read_text())[0]["broker"] == 3


def test_heal_of_an_empty_run_dir_heals_nothing(tmp_path):
    (tmp_path / "scenario.json").write_text("{}")
    assert faults.heal_run_dir(tmp_path) == []


def test_heal_of_something_that_is_not_a_run_dir_is_refused(tmp_path):
    with pytest.raises(UsageError, match="not a kchaos run directory"):
        faults.heal_run_dir(tmp_path)


def test_every_action_has_a_catalog_entry():
    for action in ("pause", "unpause", "kill", "stop", "start", "restart", "crash"):
        assert action in faults.CATALOG


def test_heal_runs_when_the_recorded_kchaos_is_gone_and_refuses_while_it_lives(tmp_path):
    import subprocess
    import sys
    (tmp_path / "scenario.json").write_text("{}")
    (tmp_path / faults.PID_FILE).write_text("999999999")
    assert faults.live_owner(tmp_path) is None
    assert faults.heal_run_dir(tmp_path) == []
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "kafka_chaos"])
    try:
        import time
        for _ in range(50):   # until the child's command line is its own (just after exec)
            if b"kafka_chaos" in open(f"/proc/{alive.pid}/cmdline", "rb").read():
                break
            time.sleep(0.1)
        (tmp_path / faults.PID_FILE).write_text(str(alive.pid))
        assert faults.live_owner(tmp_path) == alive.pid
        with pytest.raises(UsageError, match="still going"):
            faults.heal_run_dir(tmp_path)
    finally:
        alive.kill()


def test_orphan_sweep_spares_a_process_that_is_not_this_runs_worker(tmp_path):
    import json
    import subprocess
    import sys
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / "status").mkdir()
        (tmp_path / "status" / "producer-0.json").write_text(json.dumps({"pid": other.pid}))
        assert faults.stop_orphan_workers(tmp_path) == []
        assert other.poll() is None
    finally:
        other.kill()


def test_orphan_sweep_stops_this_runs_worker(tmp_path):
    proc = fake_worker(tmp_path)
    try:
        assert faults.stop_orphan_workers(tmp_path) == [f"stop orphan worker producer-0 (pid {proc.pid})"]
        assert proc.wait(5) != 0
    finally:
        proc.kill()


def test_start_entry_heads_an_apply_and_a_heal_and_the_spec_reads_back():
    from kafka_chaos import scenario
    from kafka_chaos.schedule import Planned
    spec = scenario.FaultSpec("split", "", 2.0, None, None, 0.0, 3.0, 9, groups=((1,), (2, 3)))
    apply = faults.start_entry(Planned(2.0, "split", "", 3.0, spec, seq=4), t0=100.0)
    assert {k: v for k, v in apply.items() if k not in ("spec", "t_started")} == {
        "event": "apply", "seq": 4, "action": "split", "target": "", "t_scheduled": 102.0}
    assert apply["spec"]["groups"] == [[1], [2, 3]] and json.dumps(apply)
    assert scenario.fault_from_dict(apply["spec"]) == spec
    heal = faults.start_entry(Planned(5.0, "heal-network", "", None, spec, heal_of=4, seq=5), t0=100.0)
    assert {k: v for k, v in heal.items() if k != "t_started"} == {
        "event": "heal", "seq": 5, "heal_of": 4, "action": "heal-network", "t_scheduled": 105.0}
    assert heal["t_started"] >= apply["t_started"]


# -- kchaos heal reads a run directory as untrusted input: it does only what the run's own scenario allows

BASE = ("producer: {semantic: at-least-once}\nconsumer: {mode: auto-commit}\n"
        "topic: {name: chaos, partitions: 1, replication_factor: 1}\nduration: 10s\n")


def killed_run(tmp_path, cluster: str, *entries) -> "Path":
    """The run directory of a kchaos killed mid-fault: scenario.json and a ledger of `entries`."""
    from kafka_chaos import scenario
    run = tmp_path / "run"
    run.mkdir(exist_ok=True)
    (tmp_path / "s.yaml").write_text(f"name: killed\ncluster: {cluster}\n{BASE}")   # the user's own file
    s = scenario.load(tmp_path / "s.yaml")
    (run / "scenario.json").write_text(json.dumps(s.to_dict()))
    (run / faults.LEDGER).write_text(json.dumps(list(entries)))
    return run


def commands_run(tmp_path, *entries):
    marker = tmp_path / "started-host-a"
    cluster = (f"{{bootstrap: '127.0.0.1:9092', hosts: {{1: host-a, 2: host-b}}, "
               f"commands: {{kill: ['true'], start: [touch, '{tmp_path}/started-{{host}}']}}}}")
    return killed_run(tmp_path, cluster, *entries), marker


def user_scenario(tmp_path):
    from kafka_chaos import scenario
    return scenario.load(tmp_path / "s.yaml")


CONTAINERS = "{bootstrap: '127.0.0.1:19092', containers: {1: kafka-1, 2: kafka-2}}"
PAUSED = {"id": "0-1", "action": "pause", "broker": 1, "container": "kafka-1", "heal": "unpause"}
ISOLATED = {"id": "3-2", "action": "isolate", "broker": 2, "container": "kafka-2", "heal": "net-chain",
            "fault_id": "3-2"}


def test_heal_runs_a_ledger_command_only_when_it_is_the_runs_own_template(tmp_path):
    run, marker = commands_run(tmp_path)
    entry = {"id": "0-1", "action": "kill", "broker": 1, "container": "host-a", "heal": "start"}
    (run / faults.LEDGER).write_text(json.dumps([{**entry, "command": ["touch", str(marker)]}]))
    assert faults.heal_run_dir(run, user_scenario(tmp_path)) == ["start broker 1 (host-a)"]
    assert marker.exists() and faults.Ledger(run).read() == []


def test_heal_runs_no_command_on_the_word_of_the_run_directory_alone(tmp_path):
    """scenario.json can be forged along with the ledger: commands need the user's own scenario file."""
    run, marker = commands_run(tmp_path)
    entry = {"id": "0-1", "action": "kill", "broker": 1, "container": "host-a", "heal": "start",
             "command": ["touch", str(marker)]}
    (run / faults.LEDGER).write_text(json.dumps([entry]))
    with pytest.raises(UsageError, match="pass the scenario file you ran with --scenario"):
        faults.heal_run_dir(run)
    other = tmp_path / "other.yaml"
    other.write_text((tmp_path / "s.yaml").read_text().replace("touch", "rm"))
    from kafka_chaos import scenario
    with pytest.raises(UsageError, match="differ from the run's"):
        faults.heal_run_dir(run, scenario.load(other))
    assert not marker.exists() and len(faults.Ledger(run).read()) == 1


@pytest.mark.parametrize("command", [["sh", "-c", "touch {}"], ["touch", "{}", "-"], None])
def test_heal_refuses_a_ledger_command_the_scenario_does_not_declare(tmp_path, command):
    run, marker = commands_run(tmp_path)
    entry = {"id": "0-1", "action": "kill", "broker": 1, "container": "host-a", "heal": "start"}
    if command:
        entry["command"] = [a.replace("{}", str(marker)) for a in command]
    (run / faults.LEDGER).write_text(json.dumps([entry]))
    with pytest.raises(UsageError, match=r"faults-active.json: entry 0: command is not this run's"):
        faults.heal_run_dir(run, user_scenario(tmp_path))
    assert not marker.exists() and len(faults.Ledger(run).read()) == 1


@pytest.mark.parametrize("change, why", [
    ({"heal": "__init__"}, "heal '__init__' is not one of"),
    ({"heal": "exec"}, "heal 'exec' is not one of"),
    ({"broker": "1"}, "broker must be an integer"),
    ({"broker": True}, "broker must be an integer"),
    ({"container": ["kafka-1"]}, "container must be a str"),
    ({"id": "0-1; rm"}, "id '0-1; rm' is not like 3-1"),
    ({"action": "format"}, "action 'format' is not a fault action"),
    ({"extra": 1}, "unknown field 'extra'"),
    ({"command": ["x", 1]}, "command must be a list of strings"),
])
def test_heal_refuses_a_malformed_ledger_entry_naming_file_entry_and_field(tmp_path, change, why):
    run = killed_run(tmp_path, CONTAINERS, PAUSED, {**PAUSED, "id": "1-1", **change})
    with pytest.raises(UsageError, match=r"faults-active.json: entry 1: ") as exc:
        faults.heal_run_dir(run)
    assert why in str(exc.value)


@pytest.mark.parametrize("change, why", [
    ({"fault_id": "3-2$(reboot)"}, "fault_id"),
    ({"broker": 7}, "broker 7 is not a broker of this run"),
    ({"container": "postgres"}, "'postgres' is not the container of broker 2 in this run (kafka-2)"),
    ({"command": ["docker", "rm", "-f", "kafka-2"]}, "a command in a run of Docker containers; refused"),
])
def test_heal_refuses_entries_that_are_not_this_runs(tmp_path, change, why):
    run = killed_run(tmp_path, CONTAINERS, {**ISOLATED, **change})
    with pytest.raises(UsageError) as exc:
        faults.heal_run_dir(run)
    assert "faults-active.json: entry 0" in str(exc.value) and why in str(exc.value)


def test_heal_refuses_a_container_name_docker_would_not_accept(tmp_path):
    run = killed_run(tmp_path, CONTAINERS, {**PAUSED, "container": "--privileged"})
    forged = json.loads((run / "scenario.json").read_text())   # validation refuses it; a forged file may not
    forged["cluster"]["containers"]["1"] = "--privileged"
    (run / "scenario.json").write_text(json.dumps(forged))
    from kafka_chaos.errors import ExitCode, KchaosError
    with pytest.raises(KchaosError, match="scenario.json: cluster.containers.1: '--privileged'") as exc:
        faults.heal_run_dir(run)
    assert exc.value.exit_code == ExitCode.INVALID_INPUT


def test_heal_of_a_compose_run_accepts_only_the_container_docker_labels_with_that_broker(tmp_path, monkeypatch):
    from kafka_chaos.cluster import compose
    from kafka_chaos.cluster.containers import ContainerBrokers
    monkeypatch.setattr(compose, "discover", lambda project: {1: ("kchaos_kafka-1_1", 19092)})
    unpaused = []
    monkeypatch.setattr(ContainerBrokers, "unpause", lambda self, b: unpaused.append((b, self.containers[b])))
    cluster = f"{{compose: {Path('compose/kraft-3.yml').resolve()}}}"
    run = killed_run(tmp_path, cluster, {**PAUSED, "container": "some-other-container"})
    with pytest.raises(UsageError, match=r"'some-other-container' is not the container of broker 1 in this run "
                                         r"\(kchaos_kafka-1_1\)"):
        faults.heal_run_dir(run)
    run = killed_run(tmp_path, cluster, {**PAUSED, "container": "kchaos_kafka-1_1"})
    assert faults.heal_run_dir(run) == ["unpause broker 1 (kchaos_kafka-1_1)"]
    assert unpaused == [(1, "kchaos_kafka-1_1")]


@pytest.mark.parametrize("ledger", ["{not json", '{"id": "0-1"}', '[["0-1"]]', "\xff"])
def test_a_ledger_that_does_not_parse_is_exit_2_not_nothing_to_heal(tmp_path, ledger):
    from typer.testing import CliRunner

    from kafka_chaos.cli import app
    run = killed_run(tmp_path, CONTAINERS)
    (run / faults.LEDGER).write_text(ledger, encoding="latin-1")
    assert faults.Ledger(run).entries() == []   # the running engine stays robust
    with pytest.raises(UsageError, match="faults-active.json"):
        faults.Ledger(run).read()
    result = CliRunner().invoke(app, ["heal", str(run)])
    assert result.exit_code == 2 and "faults-active.json" in result.output, result.output


def test_a_ledger_that_is_a_symlink_is_refused(tmp_path):
    run = killed_run(tmp_path, CONTAINERS)
    (run / faults.LEDGER).unlink()
    (run / faults.LEDGER).symlink_to("/dev/zero")
    with pytest.raises(UsageError, match="symlink"):
        faults.heal_run_dir(run)


@pytest.fixture
def no_engine(monkeypatch):
    """A Docker engine that does not answer."""
    from kafka_chaos import engine
    from kafka_chaos.errors import ClusterError

    def client():
        raise ClusterError("no Docker engine answers (ConnectionError)")
    monkeypatch.setattr(engine, "client", client)


def test_an_engine_that_does_not_answer_fails_the_heal_and_keeps_the_entry(tmp_path, no_engine):
    from typer.testing import CliRunner

    from kafka_chaos.cli import app
    from kafka_chaos.errors import FaultError

    run = killed_run(tmp_path, CONTAINERS, PAUSED, ISOLATED)
    with pytest.raises(FaultError, match="no Docker engine answers") as exc:
        faults.heal_run_dir(run)
    assert "kept in" in str(exc.value)
    assert faults.Ledger(run).read() == [PAUSED, ISOLATED]
    result = CliRunner().invoke(app, ["heal", str(run)])
    assert result.exit_code == 3 and "no Docker engine answers" in result.output
    assert "fault(s) healed" not in result.output


def test_an_engine_that_does_not_answer_fails_the_heal_of_a_compose_run(tmp_path, no_engine):
    from kafka_chaos.errors import ClusterError

    run = killed_run(tmp_path, f"{{compose: {Path('compose/kraft-3.yml').resolve()}}}", PAUSED)
    with pytest.raises(ClusterError, match="nothing healed, 1 fault.* kept"):
        faults.heal_run_dir(run)
    assert faults.Ledger(run).read() == [PAUSED]


def fake_worker(run):
    """A process with a worker's command line (python -m kafka_chaos.workload.producer RUN_DIR 0) and its
    status file, as a killed kchaos leaves it."""
    import subprocess
    import sys
    import time
    fake = run / "kafka_chaos" / "workload"
    fake.mkdir(parents=True)
    (run / "kafka_chaos" / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "producer.py").write_text("import time\ntime.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, "-m", "kafka_chaos.workload.producer", str(run), "0"], cwd=run)
    time.sleep(0.3)
    (run / "status").mkdir()
    (run / "status" / "producer-0.json").write_text(json.dumps({"pid": proc.pid}))
    return proc


def test_heal_all_stops_the_workers_of_a_run_killed_before_its_first_fault(tmp_path):
    from typer.testing import CliRunner

    from kafka_chaos.cli import app
    run = tmp_path / "runs" / "20260101-000000-killed"
    run.mkdir(parents=True)
    (run / faults.PID_FILE).write_text("999999999")   # its kchaos is gone; it never wrote a ledger
    proc = fake_worker(run)
    try:
        result = CliRunner().invoke(app, ["heal", "--all", "--runs", str(tmp_path / "runs")])
        assert result.exit_code == 0, result.output
        assert "1 orphan worker(s) stopped" in result.output
        assert proc.wait(5) != 0
    finally:
        proc.kill()


def test_heal_all_skips_live_runs_and_heals_the_others_even_when_one_fails(tmp_path):
    import subprocess
    import sys
    import time
    from typer.testing import CliRunner

    from kafka_chaos.cli import app
    runs = tmp_path / "runs"
    live, bad, empty = runs / "a-live", runs / "b-bad", runs / "c-empty"
    for d in (live, bad, empty):
        d.mkdir(parents=True)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "kafka_chaos"])
    try:
        for _ in range(50):
            if b"kafka_chaos" in open(f"/proc/{alive.pid}/cmdline", "rb").read():
                break
            time.sleep(0.1)
        (live / faults.PID_FILE).write_text(str(alive.pid))
        (live / faults.LEDGER).write_text("{not json")
        (bad / faults.LEDGER).write_text("{not json")
        (empty / faults.PID_FILE).write_text("999999999")
        assert faults.leftover_runs(runs) == [bad, empty]
        result = CliRunner().invoke(app, ["heal", "--all", "--runs", str(runs)])
        assert result.exit_code == 2 and f"{bad / faults.LEDGER}" in result.output
        assert "a-live" not in result.output and "nothing to heal" in result.output
    finally:
        alive.kill()


def test_a_status_file_with_a_pid_that_is_not_a_process_id_is_refused(tmp_path):
    (tmp_path / "status").mkdir()
    for pid in ('"1/../../self"', "true", "1"):
        (tmp_path / "status" / "producer-0.json").write_text(f'{{"pid": {pid}}}')
        with pytest.raises(UsageError, match="producer-0.json: pid must be a process id"):
            faults.stop_orphan_workers(tmp_path)


# -- the fault catalog: one table that the validator, the scheduler, the engine and `kchaos faults` read ----

CATALOG_BASE = """\
duration: 60s
cluster: {bootstrap: "127.0.0.1:19092", containers: {1: kafka-1, 2: kafka-2, 3: kafka-3}}
producer: {semantic: transactional, transactional_id: app}
consumer: {mode: commit-after-process}
copier: {}
"""
EXAMPLE_TARGET = {"broker": "broker(1)", "leader": "leader(chaos,0)", "follower": "follower(chaos,1)",
                  "controller": "controller", "coordinator": "coordinator(consumer)",
                  "txn-coordinator": "txn-coordinator(tx)", "random": "random", "all": "all", "paused": "paused",
                  "killed": "killed", "partitioned": "partitioned", "producer": "producer", "consumer": "consumer",
                  "copier": "copier"}
EXAMPLE_FIELDS = {"split": "shape: majority", "loss": "probability: 0.1", "bandwidth": "rate: 1mbit",
                  "delay": "latency: 10ms"}


def catalog_fault(action: str, target: str | None, timing: str | None = "at: 1s", duration: str | None = None) -> str:
    duration = duration or ("1s" if action == "crash" else None)
    parts = [timing, f"action: {action}", target and f"target: '{target}'", EXAMPLE_FIELDS.get(action),
             duration and f"duration: {duration}"]
    return "{" + ", ".join(p for p in parts if p) + "}"


def catalog_scenario(*faults: str, nemesis: bool = False) -> str:
    if nemesis:
        return CATALOG_BASE + "nemesis:\n  interval: 10s\n  faults:\n" + "".join(f"    - {f}\n" for f in faults)
    return CATALOG_BASE + "faults:\n" + "".join(f"  - {f}\n" for f in faults)


def test_every_target_the_catalog_advertises_validates_and_no_other():
    from kafka_chaos import catalog, scenario
    from kafka_chaos.errors import ScenarioError
    for a in catalog.TABLE:
        for kind, example in EXAMPLE_TARGET.items():
            text = catalog_scenario(catalog_fault(a.name, example))
            if kind in a.targets:
                assert scenario.loads(text).faults[0].target == example, (a.name, kind)
            else:
                with pytest.raises(ScenarioError, match=r"faults\[0\]\.target: "):
                    scenario.loads(text)
        if not a.targets:   # split, rolling-restart: no target, and the validator says why as the catalog does
            assert scenario.loads(catalog_scenario(catalog_fault(a.name, None))).faults[0].target == ""
            with pytest.raises(ScenarioError, match=re.escape(f"{a.name} takes no target ({a.no_target})")):
                scenario.loads(catalog_scenario(catalog_fault(a.name, "all")))


def test_the_validator_allows_each_action_exactly_the_fields_the_catalog_lists():
    from kafka_chaos import catalog, scenario
    from kafka_chaos.errors import ScenarioError
    every_field = {f for a in catalog.TABLE for f in a.fields}
    for a in catalog.TABLE:
        target = EXAMPLE_TARGET[a.targets[0]] if a.targets else None
        for field in every_field - set(a.fields):
            text = catalog_scenario(catalog_fault(a.name, target)[:-1] + f", {field}: 1}}")
            with pytest.raises(ScenarioError, match=re.escape(f"faults[0].{field}: unknown key for {a.name}")):
                scenario.loads(text)


def test_the_nemesis_draws_exactly_the_actions_the_catalog_allows_it():
    from kafka_chaos import catalog, scenario
    from kafka_chaos.errors import ScenarioError
    for a in catalog.TABLE:
        target = EXAMPLE_TARGET[a.targets[0]] if a.targets else None
        text = catalog_scenario(catalog_fault(a.name, target, timing=None, duration="2s"), nemesis=True)
        if a.nemesis:
            assert scenario.loads(text).nemesis.faults[0].action == a.name
        else:
            with pytest.raises(ScenarioError, match="is not a nemesis fault"):
                scenario.loads(text)


def test_the_scheduler_heals_each_action_with_the_catalogs_heal():
    from kafka_chaos import catalog, scenario, schedule
    for a in catalog.TABLE:
        if a.healer or not a.targets and a.name != "split":
            continue
        target = EXAMPLE_TARGET[a.targets[0]] if a.targets else None
        s = scenario.loads(catalog_scenario(catalog_fault(a.name, target, duration="2s")))
        plan = schedule.plan(s.faults, s.duration, s.seed)
        assert [p.action for p in plan] == [a.name, *([a.heal] if a.heal else [])], a.name
        assert schedule.planned_actions(s.faults[0], s.duration) == len(plan)


def test_the_engine_constants_are_the_catalog():
    from kafka_chaos import catalog, scenario, schedule
    assert set(faults.CATALOG) == set(catalog.ACTIONS) == set(scenario.ACTIONS)
    assert faults.BROKER_ACTIONS == {"pause": ("pause", "unpause"), "kill": ("kill", "start"), "stop": ("stop", "start"),
                                     "restart": ("restart", None), "unpause": ("unpause", None),
                                     "start": ("start", None)}
    assert faults.NETWORK_ACTIONS == schedule.NETWORK_ACTIONS == scenario.NETWORK_ACTIONS == (
        "isolate", "split", "isolate-clients", "isolate-replication", "loss", "bandwidth", "delay")
    assert faults.QDISC_ACTIONS == ("bandwidth", "delay")
    assert schedule.HEALS == {"pause": "unpause", "kill": "start", "stop": "start", "crash": "restart-worker",
                              **{a: "heal-network" for a in faults.NETWORK_ACTIONS}}
    assert scenario.COMMAND_ACTIONS == tuple(faults.BROKER_ACTIONS)   # the keys of cluster.commands


def test_kchaos_faults_prints_what_the_validator_accepts(monkeypatch):
    from typer.testing import CliRunner

    from kafka_chaos import catalog, cli
    monkeypatch.setattr(cli.console, "width", 400)   # one line per action
    result = CliRunner().invoke(cli.app, ["faults"])
    assert result.exit_code == 0
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 4}
    for a in catalog.TABLE:
        row = " ".join(rows[a.name].split())
        assert " ".join(a.targets_text.split()) in row, a.name
        assert all(field in row for field in a.fields), a.name
    assert "all" not in " ".join(rows["isolate"].split("│")[2].split()).split(", ")   # was advertised, refused


class StatesCache:
    """Stands in for the MetadataCache: the partition states of each physical topic."""

    def __init__(self, states):
        self.states, self.asked, self.watched = states, [], []

    def partitions(self, topic):
        self.asked.append(topic)
        return self.states.get(topic, [])

    def watch(self, *topics):
        self.watched += topics


def test_leader_follower_and_coordinator_targets_resolve_from_the_runs_metadata_cache(tmp_path):
    from kafka_chaos import schedule
    from kafka_chaos.cluster.metadata import PartitionState, coordinator_partition

    engine = faults.FaultEngine(ContainerBrokers("", {1: "a", 2: "b", 3: "c"}), tmp_path, {"chaos": "chaos-run1"},
                                seed=1, group="g")
    offsets = [PartitionState("__consumer_offsets", p, 1 + p % 3, (1, 2, 3), (1, 2, 3)) for p in range(50)]
    engine.cache = StatesCache({"chaos-run1": [PartitionState("chaos-run1", 0, 2, (1, 2, 3), (2, 3)),
                                               PartitionState("chaos-run1", 1, -1, (1, 2, 3), ())],
                                "__consumer_offsets": offsets})
    assert engine.resolve("leader(chaos,0)") == [2]
    assert engine.resolve("follower(chaos,0)") == [3]
    assert engine.resolve("coordinator(consumer)") == [1 + coordinator_partition("g", 50) % 3]
    assert engine.cache.asked == ["chaos-run1", "chaos-run1", "__consumer_offsets"]   # the physical topics
    with pytest.raises(FaultError, match="no leader right now"):
        engine.resolve("leader(chaos,1)")
    with pytest.raises(FaultError, match="no such partition"):
        engine.resolve("leader(chaos,7)")
    plan = [schedule.Planned(1.0, "kill", "leader(chaos,0)", None), schedule.Planned(2.0, "pause", "broker(2)", None),
            schedule.Planned(3.0, "pause", "coordinator(consumer)", None)]
    engine.prepare(plan)   # no network fault: no helpers; the topics the targets name are sampled from now on
    assert engine.cache.watched == ["__consumer_offsets", "chaos-run1"] and engine.helpers is None


def test_per_broker_runs_brokers_side_by_side_each_brokers_calls_in_order_and_hands_back_every_failure():
    import threading

    seen, active, most = [], [0], [0]
    lock = threading.Lock()

    def call(broker, n):
        def go():
            with lock:
                active[0] += 1
                most[0] = max(most[0], active[0])
            threading.Event().wait(0.05)
            with lock:
                active[0] -= 1
                seen.append((broker, n))
            if n == "bad":
                raise FaultError(f"broker {broker} failed")
            return f"{broker}-{n}"
        return go
    jobs = [(1, call(1, "a")), (2, call(2, "a")), (1, call(1, "bad")), (3, call(3, "a")), (1, call(1, "c"))]
    results = faults.per_broker(jobs)
    assert [r[1] if r[0] else str(r[1]) for r in results] == ["1-a", "2-a", "broker 1 failed", "3-a", "1-c"]
    assert [n for b, n in seen if b == 1] == ["a", "bad", "c"]   # one broker's calls in order, after a failure too
    assert most[0] == 3   # three brokers at once, never two calls of one broker


def test_a_workers_pid_is_on_record_as_soon_as_it_is_launched(tmp_path, monkeypatch):
    """kchaos SIGKILLed a second after it launched a worker (still importing, its own status not yet written):
    `kchaos heal` finds that worker through the status file the launcher wrote."""
    import types
    from kafka_chaos.workload import launcher, read_status
    monkeypatch.setattr(launcher.subprocess, "Popen", lambda *a, **k: types.SimpleNamespace(pid=4242))
    launcher.Workers(tmp_path, {"counts": {}}).start("producer", 10)
    assert read_status(tmp_path)["producer-0"]["pid"] == 4242
