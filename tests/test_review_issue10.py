"""Review of the day's changes: hostile or careless input to matrix, --set, expect_by_version, verify and report
is a one-line error with exit 2 (never an internal error), and no secret reaches a message or a report."""

import json
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kafka_chaos import files, matrix as m, scenario
from kafka_chaos.cli import app
from kafka_chaos.cluster.compose import deployment
from kafka_chaos.errors import ScenarioError, UsageError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_report_html import T0, TIMELINE, write_run  # noqa: E402

A, B = Path("scenarios/a.yaml"), Path("scenarios/b.yaml")
SCENARIO = """\
name: s
duration: 10s
cluster: {bootstrap: "127.0.0.1:9092"}
topic: {name: chaos, partitions: 1, replication_factor: 1}
producer: {semantic: at-least-once, rate: 10}
consumer: {mode: commit-after-process}
"""


def refused(exc_type, fn, *args) -> str:
    with pytest.raises(exc_type) as info:
        fn(*args)
    return str(info.value)


# --set printed the VALUE of a secret setting in its error messages (the password on the terminal and in CI logs)
@pytest.mark.parametrize("given", ["producer.config.ssl_password=[hunter2]", "producer.config.ssl_password='hunter2",
                                   "producer.config.sasl_plain_password=@hunter2",
                                   "producer.config.sasl.jaas.config=hunter2"])
def test_a_set_of_a_secret_setting_never_shows_its_value(given):
    key, value = given.split("=", 1)
    message = refused(ScenarioError, scenario.loads, SCENARIO, "<string>", [(key, value)])
    assert "hunter2" not in message and key in message


# matrix: a secret --set value was the grid's column name, and so in the terminal, --json, --junit and --markdown
def test_a_matrix_cell_never_shows_a_secret_value(tmp_path):
    [cell] = m.plan([A], ["producer.config.ssl_password=hunter2"], 0, [])
    assert "hunter2" not in cell.column and "hunter2" not in cell.name
    assert "producer.config.ssl_password=hunter2" in cell.args()   # the cell's run still gets it
    m.write_json(tmp_path / "m.json", [m.Outcome(cell, 0, None, tmp_path / "cell-000.log", 1.0)])
    assert "hunter2" not in (tmp_path / "m.json").read_text()


# matrix: --seeds 10**12 built the list of every seed before the cell bound was checked (MemoryError: exit 3)
def test_huge_seeds_are_refused_before_any_list_is_built():
    assert "at most 500" in refused(UsageError, m.plan, [A], [], 10**12, [])


# matrix: many --set values built every combination before the cell bound was checked (minutes and gigabytes)
def test_many_set_values_are_refused_before_the_combinations_are_built():
    values = ",".join(map(str, range(1000)))
    start = time.monotonic()
    assert "at most 500" in refused(UsageError, m.plan, [A], [f"k{i}={values}" for i in range(4)], 0, [])
    assert time.monotonic() - start < 5


# --kafka-version was never checked: "../x" or "4.1.1;rm" reached a docker image tag in every cell (exit 3, after
# starting clusters), and "4.1.1;rm" picked 4.1.1's expect_by_version entry
@pytest.mark.parametrize("version", ["../x", "4.1.1;rm", "latest", "-v", "4.1.1 "])
def test_a_kafka_version_that_is_not_a_release_is_refused_before_any_cell(version):
    assert "--kafka-version" in refused(UsageError, m.plan, [A], [], 0, [version])


@pytest.mark.parametrize("version", ["../x", "4.1.1;rm"])
def test_kchaos_run_refuses_a_kafka_version_that_is_not_a_release_before_the_run(tmp_path, version):
    # the scenario file is missing, so a run that did not check the version first fails fast, not on a broker
    result = CliRunner().invoke(app, ["run", str(tmp_path / "missing.yaml"), "--kafka-version", version,
                                      "--runs", str(tmp_path / "runs")])
    assert result.exit_code == 2 and "--kafka-version" in result.output
    assert not (tmp_path / "runs").exists()


# matrix: two cells with one row and column (a file given twice, a.yaml in two folders, a value repeated) overwrote
# each other in the grid, so a failed cell could be hidden behind a passing one
@pytest.mark.parametrize("paths, sets, versions", [
    ([A, A], [], []), ([A, Path("other/a.yaml")], [], []), ([A], ["producer.rate=1,1"], []),
    ([A], [], ["4.1.1", "4.1.1"])])
def test_two_cells_that_would_share_a_grid_cell_are_refused(paths, sets, versions):
    assert "twice" in refused(UsageError, m.plan, paths, sets, 0, versions)


# report: a timeline entry whose action is a list or mapping was an internal error (unhashable type)
@pytest.mark.parametrize("action", [[1], {"a": 1}])
def test_report_draws_a_timeline_entry_with_an_odd_action(tmp_path, action):
    run = write_run(tmp_path / "run", timeline=[dict(e, action=action) for e in TIMELINE])
    result = CliRunner().invoke(app, ["report", str(run), "--html", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output


# verify/report: a time or t0 that is a huge integer was an internal error (numpy's isfinite, int to float overflow)
@pytest.mark.parametrize("where", ["t0", "t_applied", "t_started"])
@pytest.mark.parametrize("value", [10**30, 10**400])
def test_huge_integer_times_are_not_an_internal_error(tmp_path, where, value):
    run = write_run(tmp_path / "run")
    if where == "t0":
        (run / "meta.json").write_text(json.dumps({"t0": value}))
    else:
        (run / "timeline.jsonl").write_text("".join(json.dumps(dict(e, **{where: value})) + "\n" for e in TIMELINE))
    for cmd in (["verify", str(run)], ["report", str(run), "--html", str(tmp_path / "r.html")]):
        result = CliRunner().invoke(app, cmd)
        assert "internal error" not in result.output and result.exit_code in (0, 1, 2), result.output


# a run directory's JSON with an integer of more than 4300 digits was an internal error (Python's int limit)
def test_a_json_file_with_an_endless_integer_is_a_usage_error(tmp_path):
    (tmp_path / "meta.json").write_text('{"t0": 1' + "0" * 5000 + "}")
    assert "meta.json" in refused(UsageError, files.read_json, tmp_path / "meta.json", 2**20, "meta.json")


# expect_by_version with a merge key (<<) was an internal error (ConstructorError)
def test_expect_by_version_takes_a_merge_key():
    text = SCENARIO + "expect_by_version: {'<3.9': {lost: 0}, <<: {'>=4': {lost: 1}}}\n"
    assert set(scenario.loads(text).expect_by_version) == {"<3.9", ">=4"}


# expect_by_version: an unquoted 3.9 (a YAML number; 3.10 would read as 3.1) got "3.9 is not a version spec (e.g. <3.9)"
def test_an_unquoted_version_is_told_to_be_quoted():
    assert "quote" in refused(ScenarioError, scenario.loads, SCENARIO + "expect_by_version: {3.9: {lost: 0}}\n")


# a compose project name with a trailing newline passed the check ($ matches before a final newline)
def test_a_project_name_with_a_newline_is_refused(tmp_path):
    assert "project" in refused(UsageError, deployment, "kchaos\n")
    run = write_run(tmp_path / "run")
    (run / "meta.json").write_text(json.dumps({"t0": T0, "project": "kchaos\n"}))
    from kafka_chaos import rundir
    assert "project" in refused(UsageError, rundir.compose_project, run, "kchaos")


# matrix --parallel 2 on a cluster kchaos does not start (cluster.bootstrap) ran cells side by side on the same brokers,
# so one cell's faults hit the other's workload (the slots' own projects and ports only place clusters kchaos starts)
def test_parallel_cells_need_a_cluster_kchaos_starts(tmp_path, monkeypatch):
    (tmp_path / "s.yaml").write_text(SCENARIO)
    monkeypatch.setattr(m, "run_cells", lambda *a, **k: pytest.fail("cells started"))
    result = CliRunner().invoke(app, ["matrix", str(tmp_path / "s.yaml"), "--seeds", "2", "--parallel", "2",
                                      "--runs", str(tmp_path / "runs")])
    assert result.exit_code == 2 and "--parallel" in result.output, result.output
