"""`kchaos matrix`: every scenario × setting × seed × Kafka version, each cell one `kchaos run`, and a grid.

Each cell runs as its own `kchaos run` process (its own run directory, JSON report and log), so a cell
that fails, hangs or is interrupted heals its own faults and cannot take the others with it. Cells one
after another share one cluster (`--keep-cluster`; a cell's topics and groups are its own); with
`--parallel N`, slot i runs its cells on its own compose project and host ports, so no two cells ever
share brokers that the other's faults hit.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from kafka_chaos import files, image
from kafka_chaos.errors import ExitCode, KchaosError, UsageError
from kafka_chaos.masking import MASK, is_secret
from kafka_chaos.verify import Verdict

MAX_CELLS = 500            # a matrix is a CI job, not a search
MAX_REPORT = 64 * 2**20    # a cell's JSON report (its anomaly list is bounded by the verifier)
SLOT_PORTS = 100           # slot i's brokers listen from port_base + i * SLOT_PORTS
CELL_TIMEOUT = 3600        # seconds a cell may run before it is interrupted (it heals and reports)


@dataclass(frozen=True)
class Cell:
    scenario: Path
    sets: tuple[tuple[str, str], ...] = ()     # (dotted key, value) overrides, in --set order
    seed: int | None = None
    kafka_version: str | None = None

    @property
    def row(self) -> str:
        return self.scenario.stem

    @property
    def column(self) -> str:
        """The cell's settings, versions and seed: what tells it apart within its row."""
        parts = [f"{k.rsplit('.', 1)[-1] if '.config.' in k else k}={v}" for k, v in shown(self.sets)]
        parts += [f"seed {self.seed}"] if self.seed is not None else []
        parts += [f"kafka {self.kafka_version}"] if self.kafka_version else []
        return " · ".join(parts) or "as written"

    @property
    def name(self) -> str:
        return f"{self.row} [{self.column}]"

    def args(self) -> list[str]:
        """The cell's `kchaos run` options (an argument list; values are never parsed by a shell)."""
        out = [str(self.scenario)]
        for k, v in self.sets:
            out += ["--set", f"{k}={v}"]
        if self.seed is not None:
            out += ["--set", f"seed={self.seed}"]
        if self.kafka_version:
            out += ["--kafka-version", self.kafka_version]
        return out


@dataclass
class Outcome:
    cell: Cell
    code: int                  # the cell's exit code (kchaos run's)
    report: dict | None        # its JSON report, None when it wrote none
    log: Path
    seconds: float
    slot: int = 0
    warnings: list[str] = field(default_factory=list)


def shown(sets) -> list[tuple[str, str]]:
    """The (key, value) pairs as a grid, log or report may show them: a secret setting's value masked."""
    return [(k, MASK if is_secret(k) else v) for k, v in sets]


def parse_sets(given: list[str]) -> list[list[tuple[str, str]]]:
    """--set KEY=V1,V2 options -> one list of (key, value) choices per key (values split on commas)."""
    out = []
    for item in given:
        key, sep, values = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--set {item[:80]!r}: expected KEY=VALUE or KEY=V1,V2,... "
                             "(e.g. --set producer.config.acks=1,all)")
        choices = [v.strip() for v in values.split(",")]
        if any(not v for v in choices):
            raise UsageError(f"--set {item[:80]!r}: an empty value in the list")
        out.append([(key.strip(), v) for v in choices])
    return out


def plan(scenarios: list[Path], sets: list[str], seeds: int, versions: list[str]) -> list[Cell]:
    """Every combination, scenario-major (a row's cells run together, so the grid fills row by row)."""
    if not scenarios:
        raise UsageError("give at least one scenario file or folder")
    if seeds < 0:
        raise UsageError(f"--seeds {seeds}: must be 0 (each scenario's own seed) or more")
    for version in versions:
        image.major(version)   # a release (3.9.1), never "../x": it becomes an image tag in every cell
    choices = parse_sets(sets)
    total = len(scenarios) * max(1, len(versions)) * math.prod(map(len, choices)) * max(1, seeds)
    if total > MAX_CELLS:   # counted before anything is built: --seeds 10**12 is one line, not a MemoryError
        raise UsageError(f"the matrix has {total} cells (allowed: at most {MAX_CELLS}); fewer values or seeds")
    seed_list = list(range(1, seeds + 1)) or [None]
    cells = [Cell(path, tuple(combo), seed, version)
             for path in scenarios
             for version in (versions or [None])
             for combo in itertools.product(*choices)
             for seed in seed_list]
    seen = {}
    for cell in cells:   # the grid, JSON and reports name a cell by row and column: two must never share them
        first = seen.setdefault((cell.row, cell.column), cell)
        if first is not cell:
            raise UsageError(f"{cell.name} is in the matrix twice ({first.scenario} and {cell.scenario}): give each "
                             "scenario file, value and version once (rows are named by file name)")
    return cells


def scenario_files(paths: list[Path]) -> list[Path]:
    """The files given, a folder standing for its *.yaml files (sorted, not recursive)."""
    out = []
    for p in paths:
        if p.is_dir():
            found = sorted(p.glob("*.yaml"))
            if not found:
                raise UsageError(f"{p}: no *.yaml scenario in this folder")
            out += found
        elif p.is_file():
            out.append(p)
        else:
            raise UsageError(f"{p}: no such scenario file or folder")
    return out


def placements(parallel: int, project: str, port_base: int | None, first_port: int) -> list[tuple[str, int | None]]:
    """(compose project, port base or None for the compose file's own) of each slot: slot 0 where a single run
    would go, slot i on `<project>-<i>` from `first_port + i*SLOT_PORTS`."""
    start = first_port if port_base is None else port_base
    return [(project, port_base)] + [(f"{project}-{i}", start + i * SLOT_PORTS) for i in range(1, parallel)]


def run_cells(cells: list[Cell], work: Path, runs: Path, slots: list[tuple[str, int | None]],
              on_done=lambda outcome, done, total: None, on_start=lambda cell, slot: None,
              terminated=lambda: False) -> list[Outcome]:
    """Run every cell, one per slot at a time, each slot on its own cluster (`placements`). Ctrl-C reaches
    the cells too (same process group): each heals and writes its report, and Interrupted carries the
    outcomes of the cells that finished. When `terminated()` says the interrupt was a SIGTERM to the matrix
    alone, the running cells get a SIGTERM too (they heal the same way)."""
    parallel = len(slots)
    work.mkdir(parents=True, exist_ok=True)
    waiting = list(enumerate(cells))
    running: dict[int, tuple[int, Cell, subprocess.Popen, float, Path]] = {}   # slot -> ...
    done: list[Outcome] = []
    try:
        while waiting or running:
            for slot in range(parallel):
                if slot in running or not waiting:
                    continue
                index, cell = waiting.pop(0)
                log = work / f"cell-{index:03d}.log"
                args = [sys.executable, "-m", "kafka_chaos", "run", *cell.args(), "--keep-cluster",
                        "--runs", str(runs), "--json", str(work / f"cell-{index:03d}.json"),
                        "--project", slots[slot][0],
                        *(["--port-base", str(slots[slot][1])] if slots[slot][1] is not None else [])]
                with open(log, "w") as out:
                    proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
                running[slot] = (index, cell, proc, time.monotonic(), log)
                on_start(cell, slot)
            for slot, (index, cell, proc, started, log) in list(running.items()):
                if proc.poll() is None and time.monotonic() - started < CELL_TIMEOUT:
                    continue
                if proc.poll() is None:
                    proc.send_signal(2)   # SIGINT: it heals, verifies what it has and reports
                code = proc.wait()
                del running[slot]
                done.append(Outcome(cell, code, read_report(work / f"cell-{index:03d}.json"), log,
                                    time.monotonic() - started, slot))
                on_done(done[-1], len(done), len(cells))
            time.sleep(0.2)
    except KeyboardInterrupt:
        if terminated():   # not a Ctrl-C at the terminal, which the cells got themselves
            for _, _, proc, _, _ in running.values():
                proc.terminate()
        for index, cell, proc, started, log in running.values():
            try:
                code = proc.wait(timeout=300)   # it heals first
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            done.append(Outcome(cell, code, read_report(work / f"cell-{index:03d}.json"), log,
                                time.monotonic() - started, 0))
        raise Interrupted(done) from None
    return done


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during a matrix, carrying the outcomes of the cells that finished (or were stopped)."""

    def __init__(self, outcomes: list[Outcome]):
        super().__init__("interrupted")
        self.outcomes = outcomes


def read_report(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        doc = files.read_json(path, MAX_REPORT, path.name)
    except KchaosError:   # unreadable: the cell's exit code says what happened
        return None
    return doc if isinstance(doc, dict) else None


def cell_text(o: Outcome) -> str:
    """A grid cell: the outcome and the counts a reader checks first."""
    r = o.report
    if r is None:
        return {ExitCode.INVALID_INPUT: "invalid input", ExitCode.INTERRUPTED: "interrupted"}.get(o.code, f"no report (exit {o.code})")
    c = r.get("counts") or {}
    dup = c.get("duplicates", 0) + c.get("duplicate_effects", 0)
    word = "PASS" if o.code == ExitCode.PASSED else ("FAIL" if o.code == ExitCode.VIOLATED else "INCOMPLETE")
    return f"{word} lost {c.get('lost', 0)} dup {dup}"


def grid(outcomes: list[Outcome]) -> tuple[list[str], list[str], dict[tuple[str, str], Outcome]]:
    """(rows, columns, (row, column) -> outcome), rows and columns in first-seen order."""
    rows, columns, cells = [], [], {}
    for o in outcomes:
        if o.cell.row not in rows:
            rows.append(o.cell.row)
        if o.cell.column not in columns:
            columns.append(o.cell.column)
        cells[(o.cell.row, o.cell.column)] = o
    return rows, columns, cells


def exit_code(outcomes: list[Outcome], total: int) -> ExitCode:
    """1 if a cell violated an expectation; else 3 if a cell was incomplete, failed to run or never ran
    (a matrix that did not check every cell never passes); else 0."""
    codes = [o.code for o in outcomes]
    if ExitCode.VIOLATED in codes:
        return ExitCode.VIOLATED
    if any(c == ExitCode.INVALID_INPUT for c in codes):
        return ExitCode.INVALID_INPUT
    if len(outcomes) < total or any(c != ExitCode.PASSED for c in codes):
        return ExitCode.INFRASTRUCTURE
    return ExitCode.PASSED


def report_rows(outcomes: list[Outcome]) -> list[tuple[str, Verdict, Path]]:
    """(cell name, verdict, run directory) per cell for the JUnit and Markdown renderers; a cell that wrote no
    report is an incomplete verdict naming its exit code and log (never a pass)."""
    rows = []
    for o in outcomes:
        r = o.report
        if r is None or not isinstance(r.get("counts"), dict):
            verdict = Verdict({}, [], [], False, False, [f"the cell wrote no report (exit {o.code}); its log: {o.log}"])
            rows.append((o.cell.name, verdict, o.log.parent))
            continue
        verdict = Verdict(r["counts"], list(r.get("anomalies") or []), list(r.get("violations") or []),
                          bool(r.get("passed")), bool(r.get("complete", True)), list(r.get("incomplete") or []),
                          list(r.get("warnings") or []))
        rows.append((o.cell.name, verdict, Path(str(r.get("run_dir", o.log.parent)))))
    return rows


def write_json(path: Path, outcomes: list[Outcome]) -> None:
    files.write_atomic(path, json.dumps([{
        "scenario": o.cell.row, "settings": o.cell.column, "sets": [list(kv) for kv in shown(o.cell.sets)],
        "seed": o.cell.seed, "kafka_version": o.cell.kafka_version, "exit_code": o.code,
        "seconds": round(o.seconds, 1), "log": str(o.log), "report": o.report} for o in outcomes], indent=1) + "\n")
