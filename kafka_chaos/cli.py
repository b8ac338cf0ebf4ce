"""The `kchaos` command: thin typer layer that calls the library and maps errors to exit codes."""

from __future__ import annotations

import os
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
def _compose_cluster(compose: Path):
    from kafka_chaos.cluster import ComposeCluster

    if not compose.is_file():
        raise UsageError(f"--compose: {compose} does not exist (run from the repository root or pass --compose)")
    return ComposeCluster(compose)


@cluster_app.command("up")
def cluster_up(compose: Path = typer.Option(DEFAULT_COMPOSE, help="Compose file of the cluster."),
               kafka_version: str = typer.Option(DEFAULT_VERSION, help="Kafka version of the image."),
               timeout: float = typer.Option(180, help="Seconds to wait for all brokers.")):
    """Start the cluster and wait until every broker is registered and an RF=3 topic works."""
    from kafka_chaos.cluster import metadata

    def body():
        cluster = _compose_cluster(compose)
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
def cluster_status(compose: Path = typer.Option(DEFAULT_COMPOSE, help="Compose file of the cluster.")):
    """Table of brokers: id, container, state, host port, active controller, partitions led."""
    def body():
        cluster = _compose_cluster(compose)
        cluster.refresh()
        _print_status(cluster)
    guarded(body)


@cluster_app.command("down")
def cluster_down(compose: Path = typer.Option(DEFAULT_COMPOSE, help="Compose file of the cluster.")):
    """Remove the cluster's containers, networks and volumes."""
    def body():
        with console.status("removing cluster …"):
            _compose_cluster(compose).down()
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
@app.command()
def validate(files: List[Path] = typer.Argument(..., help="Scenario YAML files.")):
    """Check scenario files without touching any cluster (exit 2 on the first bad file)."""
    from kafka_chaos import scenario

    def body():
        for path in files:
            s = scenario.load(path)
            nemesis = f", a nemesis of {len(s.nemesis.faults)} fault kinds" if s.nemesis else ""
            console.print(f"[green]ok[/] {escape(str(path))}: {escape(s.name)} ({len(s.faults)} faults{nemesis}, "
                          f"{s.duration:g} s)", highlight=False)
    guarded(body)


@app.command(epilog=EXIT_CODES)
def run(file: Optional[Path] = typer.Argument(None, help="Scenario YAML file (optional with --replay)."),
        replay: Optional[Path] = typer.Option(None, help="Replay the fault timeline recorded in this run "
                                              "directory (same actions, brokers and offsets in time)."),
        json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the report as JSON here."),
        html_out: Optional[Path] = typer.Option(None, "--html", help="Also write the report as one HTML page here "
                                                "(a timeline of rates, faults and anomalies; opens offline)."),
        runs: Path = typer.Option(Path("runs"), help="Folder for run directories."),
        keep_cluster: bool = typer.Option(False, "--keep-cluster",
                                          help="Leave a cluster kchaos started running afterwards."),
        kafka_version: str = typer.Option(DEFAULT_VERSION, help="Kafka version when kchaos starts the cluster.")):
    """Run a scenario: start the cluster, play the workload and the faults, heal, verify, report.

    The run directory (runs/<time>-<name>/) keeps the scenario, the fault timeline and every
    send, acknowledgement and processed record; `kchaos verify RUN_DIR` re-checks it later.
    With --replay RUN_DIR the faults are not planned from the scenario but replayed from that run
    (the scenario is that run's scenario.json unless FILE is given).

    Example: kchaos run scenarios/acks1-leader-kill.yaml --json report.json
    """
    def body():
        from kafka_chaos import report, runner, scenario

        if html_out is not None and not html_out.parent.is_dir():
            raise UsageError(f"--html: {html_out}: its folder does not exist")   # before the run, not after it
        if file is not None:
            s = scenario.load(file)
        elif replay is not None:
            s = runner.scenario_of(replay)
        else:
            raise UsageError("give a scenario FILE, or --replay RUN_DIR")
        result = runner.run(s, runs_dir=runs, keep_cluster=keep_cluster, kafka_version=kafka_version,
                            console=console, replay_from=replay)
        report.print_verdict(console, result.verdict, result.run_dir, result.heals, s)
        if json_out:
            report.write_json(json_out, result.verdict, result.run_dir)
        if html_out:
            _write_pictures(result.verdict, result.run_dir, html_out, None)
        if result.unhealed:
            raise ClusterError(f"{len(result.unhealed)} fault(s) could not be healed: {'; '.join(result.unhealed)}; "
                               f"retry with: kchaos heal {result.run_dir}")
        raise typer.Exit(verdict_exit(result.verdict))
    guarded(body)


@app.command(epilog=EXIT_CODES)
def verify(run_dir: Path = typer.Argument(..., help="A run directory written by `kchaos run`."),
           json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the report as JSON here."),
           html_out: Optional[Path] = typer.Option(None, "--html", help="Also write the report as one HTML page here "
                                                   "(a timeline of rates, faults and anomalies; opens offline).")):
    """Re-verify a run directory (also one whose run was killed half-way); talks to no cluster.

    Reads only the run directory (histories, audit, timeline, scenario.json, meta.json) and prints the
    same verdict `kchaos run` printed.

    Example: kchaos verify runs/20261126-144525-auto-commit-consumer-crash --html report.html
    """
    from kafka_chaos import report, verify as verifier

    def body():
        verdict = verifier.verify_run_dir(run_dir)
        report.print_verdict(console, verdict, run_dir, [], None)
        if json_out:
            report.write_json(json_out, verdict, run_dir)
        if html_out:
            _write_pictures(verdict, run_dir, html_out, None)
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
    printed each reason as an "incomplete:" line), else 0."""
    if verdict.violations:
        return ExitCode.VIOLATED
    return ExitCode.PASSED if getattr(verdict, "complete", True) else ExitCode.INFRASTRUCTURE


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
        console.print(f"[green]{len(lines) - workers} fault(s) healed, {workers} orphan worker(s) stopped[/]"
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


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(ExitCode.INTERRUPTED)
