"""Any mutation of a shipped scenario is validated or refused in one line by `kchaos validate`: exit 0 or 2, never
a traceback or an "internal error" (exit 3), and never slow."""

import os
import shutil
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kafka_chaos.cli import app

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
TEXTS = [p.read_text() for p in SHIPPED]
SECONDS = 10.0   # per example, the CLI included: an unbounded parse takes minutes; margin for a loaded machine
runner = CliRunner()

# YAML as written in a file: what replaces a value (or a key) of a shipped scenario
HOSTILE = [
    "1" * 5000, "-1", "0", "-0.0", "9223372036854775808", "1.0e+400", "-1.0e+400", ".inf", ".nan", "1e400", "'1e400s'",
    "'" + "x" * 100_000 + "'", "'" + "9" * 400 + "s'", '"a\\x00b"', '"\\x1b[31mred"', '"line\\nbreak"', '"\\u202eevil"',
    "'[/x]'", "'[bold]x[/bold]'", "'²'", "'٣'", "'broker(²)'", "'leader(chaos,٣)'", "'{x}'", "'{host}'", "''", "' '",
    "'-oProxyCommand=touch /tmp/pwned'", "'pa$word'", "'a b'", "'..'", "'~nobody/x.yml'", "'/dev/zero'", "'/tmp'",
    "{a: {b: {c: [1, [2, [3, {d: e}]]]}}}", "[[[[[[[[[[]]]]]]]]]]", "[" * 40 + "]" * 40, "[]", "{}", "~", "true", "no",
    "&h [1, *h]", "[&h 1, *h, *h]", "{<<: {a: 1}, b: 2}", "*undefined", "!!python/object/apply:os.system ['true']",
    "!custom x", "!!binary aGVsbG8=", "!!set {a, b}", "!!omap [a: 1]", "2001-12-14", "2001-13-45", "0x1F", "0o17",
    "1_000", "190:20:30", "'1ms'", "'100ms'", "'24h'", "'25h'", "0.00004", "0.12345", "'0.0000001bit'", "'800bit'",
    "'broker(1)'", "'all'", "random", "kill", "split", "consumer", "any", "idempotent", "'min.insync.replicas'",
]
HOSTILE_KEYS = ["'\\x00'", "'[/x]'", "'" + "k" * 60_000 + "'", "1", "~", "'²'", "'<<'", "line", "path", "broker_ids",
                "every", "duration", "count", "'a.b'", "'KAFKA_X'", "aborted_reads", "torn_transactions", "lots"]
PREFIXES = ["", "x: &a [1, 2, 3]\n", "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}" if i else "1"] * 9) + "]\n"
                                                 for i in range(8))]


def paths(value, prefix=()):
    """Every (key or index) path into a parsed scenario."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield (*prefix, k)
            yield from paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield (*prefix, i)
            yield from paths(v, (*prefix, i))


def parent_of(doc, path):
    for step in path[:-1]:
        doc = doc[step]
    return doc


@st.composite
def mutated(draw) -> str:
    """A shipped scenario with a value replaced, a key renamed, deleted or doubled, text inserted or cut."""
    text = draw(st.sampled_from(TEXTS))
    doc = yaml.safe_load(text)
    kind = draw(st.sampled_from(["value", "value", "value", "key", "delete", "double", "truncate", "prefix"]))
    if kind == "truncate":
        return text[:draw(st.integers(0, len(text)))]
    if kind == "double":
        lines = text.splitlines(keepends=True)
        i = draw(st.integers(0, len(lines) - 1))
        return "".join(lines[:i + 1] + [lines[i]] + lines[i + 1:])
    if kind == "prefix":
        return draw(st.sampled_from(PREFIXES)) + text
    path = draw(st.sampled_from(list(paths(doc))))
    parent = parent_of(doc, path)
    if kind == "delete":
        del parent[path[-1]]
        return yaml.safe_dump(doc, sort_keys=False)
    if kind == "key" and isinstance(parent, dict):
        parent["HOSTILE_KEY_MARK"] = parent.pop(path[-1])
        return yaml.safe_dump(doc, sort_keys=False).replace("HOSTILE_KEY_MARK", draw(st.sampled_from(HOSTILE_KEYS)))
    parent[path[-1]] = "HOSTILE_VALUE_MARK"
    return yaml.safe_dump(doc, sort_keys=False, width=10**6).replace("HOSTILE_VALUE_MARK",
                                                                    draw(st.sampled_from(HOSTILE)))


@pytest.fixture(scope="module")
def place(tmp_path_factory):
    """scenarios/ next to compose/kraft-3.yml, as in the repository; the cwd is elsewhere."""
    root = tmp_path_factory.mktemp("fuzz")
    (root / "compose").mkdir()
    shutil.copy(ROOT / "compose" / "kraft-3.yml", root / "compose" / "kraft-3.yml")
    (root / "scenarios").mkdir()
    (root / "cwd").mkdir()
    return root


def validate(path) -> tuple[int, str, float]:
    start = time.monotonic()
    result = runner.invoke(app, ["validate", str(path)])
    seconds = time.monotonic() - start
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output, seconds


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=mutated())
def test_a_mutated_shipped_scenario_is_valid_or_refused_in_one_line(place, text):
    path = place / "scenarios" / "fuzzed.yaml"
    path.write_text(text)
    cwd = os.getcwd()
    os.chdir(place / "cwd")
    try:
        code, output, seconds = validate(path)
    finally:
        os.chdir(cwd)
    assert code in (0, 2), output
    assert "internal error" not in output and "Traceback" not in output, output
    assert seconds < SECONDS, f"{seconds:.1f} s"
    if code == 2:
        assert output.startswith("error: ") and len(output.strip().splitlines()) == 1, output


def test_every_shipped_scenario_is_valid():
    for path in SHIPPED:
        code, output, _ = validate(path)
        assert code == 0 and output.startswith("ok "), output


def write(place, name, text) -> Path:
    path = place / "scenarios" / name
    path.write_text(text)
    return path


BOMB = "".join(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}" if i else '"lol"'] * 9) + "]\n" for i in range(9))
SCENARIO = TEXTS[0]


@pytest.mark.parametrize("make, fragment", [
    (lambda p: write(p, "bomb.yaml", BOMB + SCENARIO), "yaml: more than 10000 values"),
    (lambda p: write(p, "keys.yaml", "".join(f"k{i}: {i}\n" for i in range(200_000))), "bytes (allowed: at most"),
    (lambda p: write(p, "name.yaml", SCENARIO.replace("name: ", "name: " + "n" * 100_000, 1)), "name: is 100"),
    (lambda p: write(p, "sup.yaml", SCENARIO.replace("compose: compose/kraft-3.yml",
                                                     "bootstrap: 'h:1', containers: {'²': kafka-1}")),
     "keys are broker ids"),
    (lambda p: write(p, "int.yaml", SCENARIO.replace("seed: ", "seed: " + "1" * 5000, 1)), "too large"),
    (lambda p: write(p, "path.yaml", SCENARIO.replace("compose/kraft-3.yml", "c" * 300 + ".yml")),
     "File name too long"),
    (lambda p: p / "scenarios", "a directory, not a regular file"),
    (lambda p: p / ("s" * 300 + ".yaml"), "File name too long"),
], ids=["alias bomb", "3 MB of keys", "100k-character name", "superscript digit", "5000-digit int",
        "300-character compose path", "directory", "300-character file name"])
def test_each_hostile_input_is_exit_2_in_one_line_and_quickly(place, make, fragment):
    code, output, seconds = validate(make(place))
    assert (code, output.count("\n")) == (2, 1) and fragment in output, output
    assert seconds < SECONDS


def validate_elsewhere(path) -> tuple[int, str]:
    """`kchaos validate PATH` in its own process, bounded in time and memory (as it was not, for these inputs)."""
    import resource
    import subprocess
    import sys
    limit = lambda: resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))   # noqa: E731
    done = subprocess.run([sys.executable, "-m", "kafka_chaos", "validate", str(path)], capture_output=True,
                          text=True, timeout=60, preexec_fn=limit)
    return done.returncode, done.stderr


def test_dev_zero_is_exit_2_without_reading_it():
    assert validate_elsewhere("/dev/zero") == (2, "error: /dev/zero: cannot read the scenario (a device, not a "
                                                  "regular file)\n")


def test_a_fifo_is_exit_2_without_blocking(place):
    fifo = place / "scenarios" / "fifo.yaml"
    os.mkfifo(fifo)
    assert validate_elsewhere(fifo) == (2, f"error: {fifo}: cannot read the scenario (a FIFO, not a regular file)\n")


# -- scenario.json, read back by `kchaos run --replay` and `kchaos heal` ---------------------------

DEEP: list = []
for _ in range(40):
    DEEP = [DEEP]
HOSTILE_JSON = [None, True, -1, 0, 2**63, 10**5000, 1e308, float("inf"), float("nan"), "", "x" * 100_000, "\x00",
                "[/x]", "²", "-oProxyCommand=x", "{cmd}", "../../etc", [], {}, DEEP, {"a": {"b": [1, {"c": None}]}},
                ["ssh", "{host}"], {"1": "a"}, [1, 2, 3]]


@st.composite
def mutated_record(draw):
    from kafka_chaos import scenario
    record = scenario.load(draw(st.sampled_from(SHIPPED))).to_dict()
    path = draw(st.sampled_from(list(paths(record))))
    parent = parent_of(record, path)
    if draw(st.booleans()) or not isinstance(parent, dict):
        parent[path[-1]] = draw(st.sampled_from(HOSTILE_JSON))
    else:
        del parent[path[-1]]
    return record


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record=mutated_record())
def test_a_mutated_scenario_json_is_a_scenario_or_a_scenario_error(record):
    from kafka_chaos import scenario
    from kafka_chaos.errors import ScenarioError
    start = time.monotonic()
    try:
        s = scenario.from_dict(record, "run/scenario.json")
        assert scenario.from_dict(s.to_dict()) == s
    except ScenarioError as e:
        assert str(e).startswith("run/scenario.json: ") and "\n" not in str(e), str(e)
    assert time.monotonic() - start < SECONDS
