"""The `kchaos` command: thin typer layer that calls the library and maps errors to exit codes."""

from __future__ import annotations

import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kafka_chaos import __version__
from kafka_chaos.errors import ClusterError, ExitCode, KchaosError, UsageError
from kafka_chaos.starter import SEMANTICS

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

DEFAULT_COMPOSE = Path("compose/kraft-3.yml")
DEFAULT_VERSION = os.environ.get("KCHAOS_KAFKA_VERSION", "4.1.1")
EXIT_CODES = """Exit codes:

\b
  0    every expect: bound held
  1    an expectation was violated
  2    invalid input (scenario, flag or run directory); nothing touched the cluster
  3    infrastructure failure (engine, image, broker, a heal that failed), or an
       incomplete verdict: some counts could not be measured (no complete audit
       of the log, the consumer's drain timed out); the report says why
  130  interrupted (faults were healed first)"""

JUNIT_HELP = ("Also write a JUnit XML report here (one testcase: a violated expectation is a failure, "
              "an incomplete verdict an error), for CI test views.")
MARKDOWN_HELP = "Also write a short Markdown summary here, fit for a pull-request comment."

app = typer.Typer(
    help="kchaos: run a Kafka workload under a fault schedule and verify what was lost, duplicated "
         "or reordered.\n\nStart here: kchaos image build (once, no registry needed), then "
         "kchaos run scenarios/at-least-once-leader-kill.yaml.\n\nExit codes: 0 expectations met, "
         "1 expectation violated, 2 invalid input, 3 infrastructure failure or incomplete verdict, "
         "130 interrupted.",
    no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
    rich_markup_mode=None)   # click's plain help: typer's rich help shows "<bool>" after flags, as if they took a value
image_app = typer.Typer(help="Build the Kafka image locally (Maven Central jars on Debian; no registry).",
                        no_args_is_help=True, rich_markup_mode=None)
cluster_app = typer.Typer(help="Start, inspect and remove the local 3-broker KRaft cluster.", no_args_is_help=True,
                          rich_markup_mode=None)
app.add_typer(image_app, name="image")
app.add_typer(cluster_app, name="cluster")

_debug = False


def _project_option():
    return typer.Option(None, "--project", envvar="KCHAOS_PROJECT", show_envvar=True,
                        help="Compose project name of a cluster kchaos starts (default kchaos); with --port-base, "
                             "a second cluster runs beside the first.")


def _port_base_option():
    return typer.Option(None, "--port-base", envvar="KCHAOS_PORT_BASE", show_envvar=True,
                        help="First host port of a cluster kchaos starts: its brokers listen on 127.0.0.1 from "
                             "there up (default: the compose file's, 19092-19094).")


def _version(value: bool):
    if value:
        console.print(f"kchaos {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Print the version and exit."),
          debug: bool = typer.Option(False, "--debug", help="Show tracebacks for errors.")):
    global _debug
    _debug = debug


def fail(exc: BaseException) -> typer.Exit:
    """Print one line for a KchaosError (a traceback only with --debug) and pick the exit code."""
    if _debug:
        traceback.print_exception(exc)
    if isinstance(exc, KeyboardInterrupt):
        err.print("[yellow]interrupted[/]")
        return typer.Exit(ExitCode.INTERRUPTED)
    if isinstance(exc, KchaosError):
        err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return typer.Exit(exc.exit_code)
    err.print(f"[red]internal error:[/] {type(exc).__name__}: {escape(str(exc))} (rerun with --debug for a traceback)",
              highlight=False, soft_wrap=True)
    return typer.Exit(ExitCode.INFRASTRUCTURE)


def guarded(fn):
    """Run a command body, turning errors into one line and an exit code."""
    try:
        return fn()
    except typer.Exit:
        raise
    except (KchaosError, KeyboardInterrupt, Exception) as exc:  # noqa: B014 - the edge of the program
        raise fail(exc) from None


# ---------------------------------------------------------------- image
@image_app.command("build")
def image_build(kafka_version: str = typer.Option(DEFAULT_VERSION, help="Kafka release, e.g. 3.9.1 or 4.1.1."),
                force: bool = typer.Option(False, "--force", help="Rebuild even if the image exists.")):
    """Build kchaos/kafka:VERSION from Maven Central jars on a Debian root filesystem.

    Needs root, a Docker engine, debootstrap and Maven (scripts/install-docker.sh installs them).
    Inside the image the usual tools run as in the distribution, for example:
    docker exec kchaos_kafka-1_1 kafka-producer-perf-test.sh --topic t --num-records 100000
    --record-size 100 --throughput -1 --producer-props bootstrap.servers=localhost:9092
    """
    from kafka_chaos import image

    def body():
        with console.status(f"building kchaos/kafka:{escape(kafka_version)} …"):
            result = image.build(kafka_version, force=force)
        for step, how in result.steps.items():
            console.print(f"  {step}: {escape(str(how))}", highlight=False)
        console.print(f"[green]built[/] {escape(result.tag)} in {result.seconds:.0f} s")
    guarded(body)


# ---------------------------------------------------------------- cluster
def _compose_cluster(compose: Path, project: str | None = None, port_base: int | None = None):
    from kafka_chaos.cluster import ComposeCluster

    if not compose.is_file():
        raise UsageError(f"--compose: {compose} does not exist (run from the repository root or pass --compose)")
    return ComposeCluster(compose, project=project, port_base=port_base)


@cluster_app.command("up")
def cluster_up(compose: Path = typer.Option(DEFAULT_COMPOSE, help="Compose file of the cluster."),
               kafka_version: str = typer.Option(DEFAULT_VERSION, help="Kafka version of the image."),
               timeout: float = typer.Option(180, help="Seconds to wait for all brokers."),
               project: Optional[str] = _project_option(), port_base: Optional[int] = _port_base_option()):
    """Start the cluster and wait until every broker is registered and an RF=3 topic works.

    Example: kchaos cluster up --project second --port-base 29092   (a second cluster on 29092-29094)
    """
    from kafka_chaos.cluster import metadata

    def body():
        cluster = _compose_cluster(compose, project, port_base)
        start = time.monotonic()
        with console.status("starting containers …"):
            used = cluster.up(kafka_version)
        console.print(f"image: {escape(used)}", highlight=False)
        with console.status("waiting for brokers …"):
            metadata.wait_ready(cluster, timeout)
        console.print(f"[green]cluster up[/] in {time.monotonic() - start:.1f} s; "
                      f"bootstrap {escape(cluster.bootstrap)}")
        _print_status(cluster)
    guarded(body)


@cluster_app.command("status")
def cluster_status(compose: Path = typer.Option(DEFAULT_COMPOSE, help="Compose file of the cluster."),
                   project: Optional[str] = _project_option(), port_base: Optional[int] = _port_base_option()):
    """Table of brokers: id, container, state, host port, active controller, partitions led."""
    def body():
        cluster = _compose_cluster(compose, project, port_base)
        cluster.refresh()
        _print_status(cluster)
    guarded(body)


@cluster_app.command("down")
def cluster_down(compose: Path = typer.Option(DEFAULT_COMPOSE, help="Compose file of the cluster."),
                 project: Optional[str] = _project_option(), port_base: Optional[int] = _port_base_option()):
    """Remove the cluster's containers, networks and volumes."""
    def body():
        with console.status("removing cluster …"):
            _compose_cluster(compose, project, port_base).down()
        console.print("[green]cluster removed[/]")
    guarded(body)


def _print_status(cluster) -> None:
    from kafka_chaos.cluster import status

    table = Table(title="brokers")
    for col in ("id", "container", "state", "host port", "controller", "leads"):
        table.add_column(col)
    colors = {"running": "green", "paused": "yellow"}
    for row in status(cluster):
        color = colors.get(row.state, "red")
        table.add_row(str(row.broker), escape(row.container), f"[{color}]{escape(row.state)}[/]", escape(row.port),
                      "yes" if row.controller else "", str(row.leads))
    console.print(table)


# ---------------------------------------------------------------- scenarios
SET_HELP = ("Override a scenario field before validation, by dotted path (repeatable): producer.rate=500, "
            "duration=30s, faults.0.at=5s, producer.config.enable.idempotence=true. VALUE is YAML (1 is a number, "
            "true a boolean, 30s text).")


def _overrides(sets: List[str]) -> list[tuple[str, str]]:
    from kafka_chaos import overrides

    return [overrides.parse(text) for text in sets]


@app.command()
def validate(files: List[Path] = typer.Argument(..., help="Scenario YAML files."),
             sets: List[str] = typer.Option([], "--set", metavar="KEY=VALUE", help=SET_HELP)):
    """Check scenario files without touching any cluster (exit 2 on the first bad file).

    Example: kchaos validate scenarios/*.yaml --set duration=30s --set producer.config.acks=all
    """
    from kafka_chaos import report, scenario

    def body():
        given = _overrides(sets)
        for path in files:
            s = scenario.load(path, given)
            nemesis = f", a nemesis of {len(s.nemesis.faults)} fault kinds" if s.nemesis else ""
            console.print(f"[green]ok[/] {escape(str(path))}: {escape(s.name)} ({len(s.faults)} faults{nemesis}, "
                          f"{s.duration:g} s)", highlight=False)
            for line in report.settings_lines(s.to_dict()):
                console.print(f"  {escape(line)}", highlight=False)
    guarded(body)


@app.command(epilog=EXIT_CODES)
def run(file: Optional[Path] = typer.Argument(None, help="Scenario YAML file (optional with --replay)."),
        replay: Optional[Path] = typer.Option(None, help="Replay the fault timeline recorded in this run "
                                              "directory (same actions, brokers and offsets in time)."),
        json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the report as JSON here."),
        junit_out: Optional[Path] = typer.Option(None, "--junit", help=JUNIT_HELP),
        markdown_out: Optional[Path] = typer.Option(None, "--markdown", help=MARKDOWN_HELP),
        html_out: Optional[Path] = typer.Option(None, "--html", help="Also write the report as one HTML page here "
                                                "(a timeline of rates, faults and anomalies; opens offline)."),
        runs: Path = typer.Option(Path("runs"), help="Folder for run directories."),
        keep_cluster: bool = typer.Option(False, "--keep-cluster",
                                          help="Leave a cluster kchaos started running afterwards."),
        kafka_version: str = typer.Option(DEFAULT_VERSION, help="Kafka version when kchaos starts the cluster."),
        project: Optional[str] = _project_option(), port_base: Optional[int] = _port_base_option(),
        sets: List[str] = typer.Option([], "--set", metavar="KEY=VALUE", help=SET_HELP)):
    """Run a scenario: start the cluster, play the workload and the faults, heal, verify, report.

    The run directory (runs/<time>-<name>/) keeps the scenario, the fault timeline and every
    send, acknowledgement and processed record; `kchaos verify RUN_DIR` re-checks it later.
    With --replay RUN_DIR the faults are not planned from the scenario but replayed from that run
    (the scenario is that run's scenario.json unless FILE is given).

    Example: kchaos run scenarios/acks1-leader-kill.yaml --json report.json --set duration=30s

    \b
    In CI: kchaos run scenarios/acks1-leader-kill.yaml --junit kchaos.xml --markdown summary.md

    \b
    Two runs that each start their own cluster, side by side:
    kchaos run a.yaml --project a --port-base 29092 & kchaos run b.yaml --project b --port-base 39092
    """
    def body():
        from kafka_chaos import report, runner, scenario
        from kafka_chaos.cluster.compose import deployment

        from kafka_chaos import image

        deployment(project, port_base)   # a bad --project or --port-base is exit 2 before anything starts
        image.major(kafka_version)   # a release: it becomes an image tag and picks an expect_by_version entry
        if html_out is not None and not html_out.parent.is_dir():
            raise UsageError(f"--html: {html_out}: its folder does not exist")   # before the run, not after it
        if file is not None:
            s = scenario.load(file, _overrides(sets))
        elif sets:
            raise UsageError("--set changes a scenario FILE: give the FILE (a replayed run's scenario is as recorded)")
        elif replay is not None:
            s = runner.scenario_of(replay)
        else:
            raise UsageError("give a scenario FILE, or --replay RUN_DIR")
        result = runner.run(s, runs_dir=runs, keep_cluster=keep_cluster, kafka_version=kafka_version,
                            console=console, replay_from=replay, project=project, port_base=port_base)
        report.print_verdict(console, result.verdict, result.run_dir, result.heals, s)
        write_reports(result.verdict, result.run_dir, json_out, junit_out, markdown_out, html_out)
        if result.unhealed:
            raise ClusterError(f"{len(result.unhealed)} fault(s) could not be healed: {'; '.join(result.unhealed)}; "
                               f"retry with: kchaos heal {result.run_dir}")
        raise typer.Exit(verdict_exit(result.verdict))
    guarded(body)


@app.command(epilog=EXIT_CODES)
def matrix(files: List[Path] = typer.Argument(..., help="Scenario files, or folders of *.yaml scenarios."),
           sets: List[str] = typer.Option([], "--set", help="KEY=V1,V2,...: one column per value (repeat for more "
                                                         "keys: every combination), e.g. producer.config.acks=1,all."),
           seeds: int = typer.Option(0, help="Run each cell with seeds 1..N (0: each scenario's own seed)."),
           kafka_versions: str = typer.Option("", "--kafka-version",
                                              help="Comma-separated Kafka versions, one column each (e.g. 3.9.1,4.1.1)."),
           parallel: int = typer.Option(1, min=1, max=4, help="Cells at a time, each on its own cluster (its own "
                                                              "compose project and ports)."),
           runs: Path = typer.Option(Path("runs"), help="Folder for run directories."),
           json_out: Optional[Path] = typer.Option(None, "--json", help="Also write every cell's report as JSON here."),
           junit_out: Optional[Path] = typer.Option(None, "--junit", help="Also write JUnit XML here: one test "
                                                    "case per cell."),
           markdown_out: Optional[Path] = typer.Option(None, "--markdown", help="Also write a Markdown summary "
                                                       "here (a grid, then each cell), e.g. for a pull-request comment."),
           keep_cluster: bool = typer.Option(False, "--keep-cluster", help="Leave the clusters running afterwards."),
           project: Optional[str] = _project_option(), port_base: Optional[int] = _port_base_option()):
    """Run every scenario × --set value × seed × Kafka version, one `kchaos run` per cell, and print a grid.

    Rows are scenarios, columns the settings, seeds and versions; a cell shows PASS, FAIL or
    INCOMPLETE with its lost and duplicate counts. Cells one after another share a cluster (each with
    fresh topics); with --parallel N, N clusters run side by side. Every cell's run directory, log and
    JSON report are kept; Ctrl-C heals the running cells and still prints the ones that finished.
    The exit code is the worst cell's (a cell that did not run makes it 3).

    Example: kchaos matrix scenarios/acks1-leader-kill.yaml scenarios/at-least-once-leader-kill.yaml --set producer.config.acks=1,all
    """
    from kafka_chaos import matrix as m, scenario
    from kafka_chaos.cluster.compose import ComposeCluster, deployment, host_ports

    def body():
        name, base = deployment(project, port_base)
        versions = [v.strip() for v in kafka_versions.split(",") if v.strip()]
        cells = m.plan(m.scenario_files(files), sets, seeds, versions)
        composes = set()
        for cell in cells:   # every cell's scenario checked before anything starts: bad input is exit 2
            s = scenario.load(cell.scenario, overrides=[*cell.sets, *([("seed", str(cell.seed))] if cell.seed else [])])
            if s.cluster.compose:
                composes.add(Path(s.cluster.compose))
            elif parallel > 1:   # a slot's project and ports place only a cluster kchaos starts
                raise UsageError(f"--parallel {parallel}: {cell.scenario} runs on a cluster kchaos does not start, so "
                                 "its cells would share brokers and each other's faults; run it with --parallel 1")
        if len(composes) > 1:
            raise UsageError("the scenarios name different compose files; run one matrix per cluster definition")
        compose = next(iter(composes), None)
        first = min(host_ports(compose)[0].values()) if compose else 0
        slots = m.placements(parallel, name, base, first)
        if compose and parallel > 1:
            host_ports(compose, slots[1][1])   # ports the compose file cannot move are exit 2 here, not mid-run
        work = Path(runs) / f"matrix-{time.strftime('%Y%m%d-%H%M%S')}"
        console.print(f"matrix: {len(cells)} cells, {parallel} at a time; cell logs in {escape(str(work))}",
                      highlight=False)

        def done(o, n, total):
            console.print(f"[{n}/{total}] {escape(o.cell.name)}: {escape(m.cell_text(o))} ({o.seconds:.0f} s)",
                          highlight=False)
        interrupted, term = False, []

        def on_sigterm(*_):
            term.append(True)
            raise KeyboardInterrupt
        previous = signal.signal(signal.SIGTERM, on_sigterm)
        try:
            outcomes = m.run_cells(cells, work, runs, slots, done,
                                   lambda cell, slot: console.print(f"started {escape(cell.name)} on "
                                                                    f"{escape(slots[slot][0])}", highlight=False),
                                   lambda: bool(term))
        except m.Interrupted as stop:
            outcomes, interrupted = stop.outcomes, True
        finally:
            signal.signal(signal.SIGTERM, previous)
            if compose and not keep_cluster:
                for slot_project, slot_base in slots:
                    try:
                        ComposeCluster(compose, project=slot_project, port_base=slot_base).down()
                    except KchaosError as exc:
                        err.print(f"[yellow]cluster {escape(slot_project)} not removed:[/] {escape(str(exc))}")
        _print_grid(outcomes)
        if json_out:
            m.write_json(json_out, outcomes)
        if junit_out or markdown_out:
            from kafka_chaos.report import junit, markdown

            rows = m.report_rows(outcomes)
            if junit_out:
                junit.write(junit_out, rows)
            if markdown_out:
                markdown.write(markdown_out, rows)
        raise typer.Exit(ExitCode.INTERRUPTED if interrupted else m.exit_code(outcomes, len(cells)))
    guarded(body)


def _print_grid(outcomes) -> None:
    from kafka_chaos import matrix as m

    rows, columns, cells = m.grid(outcomes)
    table = Table(title="matrix", title_justify="left")
    table.add_column("scenario")
    for col in columns:
        table.add_column(escape(col))
    colour = {0: "green", 1: "red"}
    for row in rows:
        out = [escape(row)]
        for col in columns:
            o = cells.get((row, col))
            out.append("" if o is None else f"[{colour.get(o.code, 'yellow')}]{escape(m.cell_text(o))}[/]")
        table.add_row(*out)
    console.print(table)


@app.command(epilog=EXIT_CODES)
def verify(run_dir: Path = typer.Argument(..., help="A run directory written by `kchaos run`."),
           json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the report as JSON here."),
           junit_out: Optional[Path] = typer.Option(None, "--junit", help=JUNIT_HELP),
           markdown_out: Optional[Path] = typer.Option(None, "--markdown", help=MARKDOWN_HELP),
           html_out: Optional[Path] = typer.Option(None, "--html", help="Also write the report as one HTML page here "
                                                   "(a timeline of rates, faults and anomalies; opens offline).")):
    """Re-verify a run directory (also one whose run was killed half-way); talks to no cluster.

    Reads only the run directory (histories, audit, timeline, scenario.json, meta.json) and prints the
    same verdict `kchaos run` printed.

    \b
    Example: kchaos verify runs/20261126-103441-acks1-isolate-leader --junit kchaos.xml --markdown summary.md
    Example: kchaos verify runs/20261126-144525-auto-commit-consumer-crash --html report.html
    """
    from kafka_chaos import report, verify as verifier

    def body():
        verdict = verifier.verify_run_dir(run_dir)
        report.print_verdict(console, verdict, run_dir, [], None)
        write_reports(verdict, run_dir, json_out, junit_out, markdown_out, html_out)
        raise typer.Exit(verdict_exit(verdict))
    guarded(body)


@app.command("report")
def report_cmd(run_dir: Path = typer.Argument(..., help="A run directory written by `kchaos run`."),
               html_out: Optional[Path] = typer.Option(None, "--html", help="Write one self-contained HTML page "
                                                       "here (opens offline: nothing is loaded from the network)."),
               png_out: Optional[Path] = typer.Option(None, "--png", help="Write the timeline as a PNG picture here.")):
    """Draw a run: a timeline of send, ack and process rates per second with the faults as bands and the
    anomalies as marks (hover shows their evidence), then the verdict table, the documented guarantees,
    the evidence and the scenario's settings. Talks to no cluster; exit 0 once written, whatever the verdict
    (`kchaos verify` gives the verdict's exit code).

    Example: kchaos report runs/20261126-144525-auto-commit-consumer-crash --html report.html --png report.png
    """
    from kafka_chaos import report, verify as verifier

    def body():
        if html_out is None and png_out is None:
            raise UsageError("give --html FILE, --png FILE or both")
        verdict = verifier.verify_run_dir(run_dir)
        _write_pictures(verdict, run_dir, html_out, png_out)
        console.print(report.outcome(verdict), highlight=False)
    guarded(body)


def _write_pictures(verdict, run_dir: Path, html_out: Optional[Path], png_out: Optional[Path]) -> None:
    from kafka_chaos.report import html

    for path in html.write(verdict, run_dir, html=html_out, png=png_out):
        console.print(f"wrote {escape(str(path))}", highlight=False)


def verdict_exit(verdict) -> ExitCode:
    """1 when an expectation was violated, else 3 when some counts could not be measured (the report
    printed each reason as an "incomplete:" line), else 0: report.status decides, for every report too."""
    from kafka_chaos.report import status

    return status.exit_code(verdict)


def write_reports(verdict, run_dir: Path, json_out: Optional[Path], junit_out: Optional[Path],
                  markdown_out: Optional[Path], html_out: Optional[Path] = None) -> None:
    """The report files asked for with --json, --junit, --markdown and --html."""
    from kafka_chaos import report
    from kafka_chaos.report import junit, markdown

    if json_out:
        report.write_json(json_out, verdict, run_dir)
    rows = [(report.scenario_name(run_dir), verdict, run_dir)]
    if junit_out:
        junit.write(junit_out, rows)
    if markdown_out:
        markdown.write(markdown_out, rows)
    if html_out:
        _write_pictures(verdict, run_dir, html_out, None)


@app.command()
def heal(run_dir: Optional[Path] = typer.Argument(None, help="Run directory whose faults to undo."),
         all_runs: bool = typer.Option(False, "--all", help="Undo the faults of every run under --runs."),
         runs: Path = typer.Option(Path("runs"), help="Folder for run directories."),
         scenario_file: Optional[Path] = typer.Option(
             None, "--scenario", help="The scenario file the run ran: needed to heal a run whose brokers are "
                                      "driven by cluster.commands (a run directory alone never decides what runs).")):
    """Undo the faults a killed kchaos left applied (unpause, start, remove network rules), from the run's ledger.

    Only what the run's own scenario.json allows is done: its brokers, its containers, its command
    templates; a ledger that asks for anything else is refused (exit 2). With --all, every run under
    --runs that a killed kchaos left (a ledger, a pid file or worker status files) is healed and its
    orphaned workers stopped; runs whose kchaos is alive are skipped. A Docker engine that does not
    answer fails the heal (exit 3) and the faults stay in the ledger.
    """
    from kafka_chaos import faults, scenario

    def body():
        if (run_dir is None) == (not all_runs):
            raise UsageError("give a RUN_DIR or --all")
        trusted = scenario.load(scenario_file) if scenario_file else None
        lines, codes = [], []
        for d in faults.leftover_runs(runs) if all_runs else [run_dir]:
            try:
                lines += faults.heal_run_dir(d, trusted)
            except KchaosError as exc:
                if not all_runs:
                    raise
                codes.append(fail(exc).exit_code)   # one line per run that failed; the others still heal
        for line in lines:
            console.print(f"  {escape(line)}", highlight=False)
        workers = sum(line.startswith("stop orphan worker") for line in lines)
        helpers = sum(line.startswith("removed network helper") for line in lines)
        console.print(f"[green]{len(lines) - workers - helpers} fault(s) healed, {workers} orphan worker(s) stopped"
                      + (f", {helpers} network helper(s) removed" if helpers else "") + "[/]"
                      if lines else "nothing to heal")
        if codes:
            raise typer.Exit(max(codes))
    guarded(body)


@app.command("faults")
def list_faults():
    """List the fault actions and targets a scenario can use."""
    from kafka_chaos import catalog

    table = Table(title="fault actions")
    for column in ("action", "targets", "fields", "healed by", "what it does"):
        table.add_column(column)
    for a in catalog.TABLE:
        heal = a.heal or ("(it heals)" if a.healer else "")
        table.add_row(a.name, escape(a.targets_text), ", ".join(a.fields), heal, escape(a.doc))
    console.print(table)


@app.command("schema")
def schema_cmd(out: Optional[Path] = typer.Option(None, "--out", help="Write the schema here instead of printing it.")):
    """Print the JSON Schema (draft 2020-12) of scenario files, for completion and checks in an editor.

    It is built from the tables `kchaos validate` checks against, so it lists every key, choice and
    bound the parser takes; rules across fields are only described (validate stays the authority).

    Example: kchaos schema --out kchaos.schema.json, then start a scenario with the line
    # yaml-language-server: $schema=kchaos.schema.json
    """
    import json

    from kafka_chaos import schema

    def body():
        text = json.dumps(schema.build(), indent=2) + "\n"
        if out is None:
            typer.echo(text, nl=False)
            return
        _write(out, text, force=True)
        console.print(f"[green]wrote[/] {escape(str(out))}", highlight=False)
    guarded(body)


@app.command("init")
def init(semantic: str = typer.Option(..., "--semantic", help="The producer semantic: one of "
                                      + ", ".join(__import__("kafka_chaos.starter").starter.SEMANTICS) + "."),
         out: Optional[Path] = typer.Option(None, "--out", help="Write the scenario here instead of printing it."),
         force: bool = typer.Option(False, "--force", help="Overwrite --out if it exists.")):
    """Write a commented, runnable scenario for a producer semantic: a leader kill and what Kafka documents.

    Every field carries a comment, and `expect` holds the counts Kafka documents for the semantic and
    its consumer mode, so the expected verdict is PASSED. An existing --out is kept unless --force.

    Example: kchaos init --semantic at-least-once --out my.yaml, then kchaos run my.yaml
    """
    import difflib

    from kafka_chaos import starter
    from kafka_chaos.semantics import shown

    def body():
        if semantic not in SEMANTICS:
            close = difflib.get_close_matches(semantic, SEMANTICS, n=1) if len(semantic) <= 64 else []
            hint = f"did you mean {close[0]}? " if close else ""
            raise UsageError(f"--semantic: {shown(semantic)} is not a semantic ({hint}allowed: "
                             f"{', '.join(SEMANTICS)})")
        text = starter.render(semantic)
        if out is None:
            typer.echo(text, nl=False)
            return
        _write(out, text, force=force)
        console.print(f"[green]wrote[/] {escape(str(out))}; next: kchaos run {escape(str(out))}", highlight=False)
    guarded(body)


def _write(path: Path, text: str, force: bool) -> None:
    """Write `text` to `path`; an existing file is kept unless `force` (created exclusively: no race)."""
    from kafka_chaos import files

    try:
        if force:
            files.write_atomic(path, text)
            return
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w") as f:
            f.write(text)
    except FileExistsError:
        raise UsageError(f"{path}: exists (pass --force to overwrite it)") from None
    except OSError as e:
        raise UsageError(f"{path}: cannot write ({e.strerror or e})") from None


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(ExitCode.INTERRUPTED)
