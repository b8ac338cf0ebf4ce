"""`kchaos matrix` planning, grid and exit code (pure; the real matrix runs in tests/integration)."""

from pathlib import Path

import pytest

from kafka_chaos import matrix as m
from kafka_chaos.errors import ExitCode, UsageError

A, B = Path("scenarios/a.yaml"), Path("scenarios/b.yaml")


def test_every_combination_of_scenarios_values_seeds_and_versions_is_one_cell():
    cells = m.plan([A, B], ["producer.config.acks=1,all", "producer.rate=100,200"], 2, ["3.9.1", "4.1.1"])
    assert len(cells) == 2 * 2 * 2 * 2 * 2
    assert cells[0] == m.Cell(A, (("producer.config.acks", "1"), ("producer.rate", "100")), 1, "3.9.1")
    assert cells[0].column == "acks=1 · producer.rate=100 · seed 1 · kafka 3.9.1"
    assert cells[0].args() == ["scenarios/a.yaml", "--set", "producer.config.acks=1", "--set", "producer.rate=100",
                               "--set", "seed=1", "--kafka-version", "3.9.1"]
    [only] = m.plan([A], [], 0, [])
    assert (only.column, only.args()) == ("as written", ["scenarios/a.yaml"])


@pytest.mark.parametrize("given, message", [
    (["acks"], "expected KEY=VALUE"), (["=1"], "expected KEY=VALUE"), (["a.b=1,,2"], "an empty value"),
])
def test_a_bad_set_is_one_line_naming_it(given, message):
    with pytest.raises(UsageError, match=message):
        m.plan([A], given, 0, [])


def test_a_matrix_is_bounded_and_needs_a_scenario():
    with pytest.raises(UsageError, match="at most 500"):
        m.plan([A], ["seed=" + ",".join(map(str, range(600)))], 0, [])
    with pytest.raises(UsageError, match="at least one scenario"):
        m.plan([], [], 0, [])
    with pytest.raises(UsageError, match="--seeds -1"):
        m.plan([A], [], -1, [])


def test_folders_stand_for_their_scenarios(tmp_path):
    (tmp_path / "b.yaml").write_text("x")
    (tmp_path / "a.yaml").write_text("x")
    (tmp_path / "notes.txt").write_text("x")
    assert m.scenario_files([tmp_path]) == [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    with pytest.raises(UsageError, match="no such scenario"):
        m.scenario_files([tmp_path / "missing.yaml"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match="no \\*.yaml scenario"):
        m.scenario_files([tmp_path / "empty"])


def outcome(cell, code, counts=None):
    report = None if counts is None else {"counts": counts}
    return m.Outcome(cell, code, report, Path("x.log"), 1.0)


def test_the_grid_has_a_row_per_scenario_and_a_column_per_setting():
    cells = m.plan([A, B], ["producer.config.acks=1,all"], 0, [])
    outs = [outcome(cells[0], 1, {"lost": 7, "duplicates": 2}), outcome(cells[1], 0, {"lost": 0}),
            outcome(cells[2], 3, {"lost": 0}), outcome(cells[3], 2)]
    rows, columns, grid = m.grid(outs)
    assert rows == ["a", "b"] and columns == ["acks=1", "acks=all"]
    assert m.cell_text(grid[("a", "acks=1")]) == "FAIL lost 7 dup 2"
    assert m.cell_text(grid[("a", "acks=all")]) == "PASS lost 0 dup 0"
    assert m.cell_text(grid[("b", "acks=1")]) == "INCOMPLETE lost 0 dup 0"
    assert m.cell_text(grid[("b", "acks=all")]) == "invalid input"


def test_the_exit_code_is_the_worst_cell_and_a_cell_that_never_ran_is_never_a_pass():
    cells = m.plan([A], ["x=1,2"], 0, [])
    assert m.exit_code([outcome(cells[0], 0, {}), outcome(cells[1], 0, {})], 2) == ExitCode.PASSED
    assert m.exit_code([outcome(cells[0], 0, {}), outcome(cells[1], 1, {})], 2) == ExitCode.VIOLATED
    assert m.exit_code([outcome(cells[0], 3, {}), outcome(cells[1], 0, {})], 2) == ExitCode.INFRASTRUCTURE
    assert m.exit_code([outcome(cells[0], 0, {})], 2) == ExitCode.INFRASTRUCTURE
    assert m.exit_code([], 2) == ExitCode.INFRASTRUCTURE


def test_each_parallel_slot_gets_its_own_project_and_ports():
    assert m.placements(1, "kchaos", None, 19092) == [("kchaos", None)]
    assert m.placements(3, "ci", None, 19092) == [("ci", None), ("ci-1", 19192), ("ci-2", 19292)]
    assert m.placements(2, "ci", 29092, 19092) == [("ci", 29092), ("ci-1", 29192)]


def test_a_cell_report_that_is_missing_or_broken_reads_as_none(tmp_path):
    assert m.read_report(tmp_path / "none.json") is None
    (tmp_path / "bad.json").write_text("{")
    assert m.read_report(tmp_path / "bad.json") is None
    (tmp_path / "list.json").write_text("[]")
    assert m.read_report(tmp_path / "list.json") is None


def test_every_cell_is_a_junit_case_and_one_without_a_report_is_an_error_not_a_pass(tmp_path):
    from xml.etree import ElementTree as ET

    from kafka_chaos.report import junit

    cells = m.plan([A], ["producer.config.acks=1,all"], 0, [])
    failed = {"counts": {"lost": 3}, "passed": False, "complete": True, "anomalies": [],
              "violations": [{"count": "lost", "value": 3, "bound": 0}], "run_dir": str(tmp_path / "r1")}
    rows = m.report_rows([m.Outcome(cells[0], 1, failed, tmp_path / "c0.log", 1.0),
                          m.Outcome(cells[1], 3, None, tmp_path / "c1.log", 1.0)])
    suite = ET.fromstring(junit.render(rows))
    cases = suite.findall(".//testcase")
    assert [c.get("name") for c in cases] == ["a [acks=1]", "a [acks=all]"]
    assert "lost = 3" in cases[0].find("failure").get("message")
    assert "wrote no report (exit 3)" in cases[1].find("error").get("message")
