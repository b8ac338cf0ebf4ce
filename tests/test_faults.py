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
