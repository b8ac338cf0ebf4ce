"""The heal ledger: written before a fault, emptied by its heal, readable after a crash."""

import json

import pytest

from kafka_chaos import faults
from kafka_chaos.errors import UsageError


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
    import json
    import subprocess
    import sys
    # a stand-in with a worker's command line: python -m kafka_chaos.workload.producer RUN_DIR 0
    fake = tmp_path / "kafka_chaos" / "workload"
    fake.mkdir(parents=True)
    (tmp_path / "kafka_chaos" / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "producer.py").write_text("import time\ntime.sleep(30)\n")
    proc = subprocess.Popen([sys.executable, "-m", "kafka_chaos.workload.producer", str(tmp_path), "0"], cwd=tmp_path)
    try:
        import time
        time.sleep(0.3)
        (tmp_path / "status").mkdir()
        (tmp_path / "status" / "producer-0.json").write_text(json.dumps({"pid": proc.pid}))
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
