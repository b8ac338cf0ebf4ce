"""A commented, runnable scenario for one producer semantic (`kchaos init`), its expectations what Kafka documents.

Everything it writes comes from the tables the parser reads: the preset and its consumer mode (semantics), the
fault's documentation (catalog), the expected counts (semantics.documented_expect, scenario.sink_expect) and
their meanings (counts.COUNTS), so the file passes `scenario.load` and the schema for every semantic.
"""

from __future__ import annotations

import textwrap

from . import catalog, counts, semantics
from . import scenario as sc

WIDTH = 100
COLUMN = 40   # where a value's comment starts
SEMANTICS = tuple(k for k, p in semantics.PRESETS.items() if not p.reserved)
_FAULT = {"at": "10s", "action": "kill", "target": f"leader({sc.DEFAULT_TOPIC['name']},0)", "duration": "10s"}


def _line(text: str, comment: str = "") -> str:
    return f"{text.ljust(COLUMN - 1)} # {comment}".rstrip() if comment else text


def _comment(text: str, indent: str = "# ") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")


def _settings(settings: dict) -> str:
    return ", ".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in settings.items())


def render(semantic: str) -> str:
    """The scenario text for `semantic` (one of SEMANTICS)."""
    preset = semantics.PRESETS[semantic]
    mode = preset.mode
    outbox = semantic == "outbox"   # the relay may publish a row twice: the parser requires a sink downstream
    sink = sc.SinkSpec("database", True, sc.DEFAULT_PROCESS_TIME) if outbox else None
    expect = sc.default_expect(semantic, mode, None, sink)
    kill = catalog.ACTIONS[_FAULT["action"]]
    name = f"{semantic}-leader-kill"
    out = [
        f"# A kchaos scenario for the {semantic} producer, written by `kchaos init --semantic {semantic}`.",
        "#   kchaos validate FILE   checks it without a cluster",
        "#   kchaos run FILE        starts the local 3-broker cluster, plays the fault, prints the verdict",
        "# Completion in an editor: run `kchaos schema --out kchaos.schema.json` and make the first line of",
        "# this file the modeline  # yaml-language-server: $schema=kchaos.schema.json",
        "#",
        "# Expected verdict: PASSED (exit 0): every count below stays within what Kafka documents for these",
        "# settings; exit 1 names each broken bound with the records as evidence. What Kafka documents:",
        *_comment(f"producer {semantic}: {preset.claim}"),
        *_comment(f"consumer {mode}: {semantics.MODES[mode].claim}"),
    ]
    if sink:
        out += _comment(f"sink (offsets database, dedup): {semantics.SINK_CLAIMS['database']}")
    out += [
        "",
        _line(f"name: {name}", "the run directory is runs/<time>-<name>"),
        f"description: {semantic} producer, {mode} consumer, the leader of partition 0 killed for 10 s",
        _line("seed: 1", "every random choice (targets, jitter) derives from it"),
        _line("duration: 30s", "how long the producer sends; then the consumer drains"),
        _line(f"drain_timeout: {sc.DEFAULT_DRAIN_TIMEOUT:g}s", "longest wait for the consumer to catch up"),
        "cluster:",
        _line("  compose: compose/kraft-3.yml", "kchaos starts it (path from the kchaos checkout)"),
        "topic:",
        _line(f"  name: {sc.DEFAULT_TOPIC['name']}", "kchaos appends the run's stamp and id"),
        _line(f"  partitions: {sc.DEFAULT_TOPIC['partitions']}"),
        _line(f"  replication_factor: {sc.DEFAULT_TOPIC['replication_factor']}", "each record on 3 brokers"),
        "  config:",
        _line('    min.insync.replicas: "2"', "acks=all waits for 2 copies: one broker may die"),
        "producer:",
        f"  # semantic: one of {', '.join(SEMANTICS)}",
        _line(f"  semantic: {semantic}", "a preset of producer settings"),
        *_comment(f"the preset's kafka-python settings: {_settings(preset.settings)}", "  # "),
        _line("  rate: 200", "records per second (or count: N records in all)"),
        _line("  # config: {linger_ms: 5}", "kafka-python settings that override the preset"),
    ]
    if semantic == "transactional":
        out += [
            _line(f"  txn_size: {sc.DEFAULT_TXN['txn_size']}", "records per transaction"),
            _line(f"  abort_ratio: {sc.DEFAULT_TXN['abort_ratio']:g}", "transactions aborted on purpose"),
            _line(f"  transaction_timeout: {sc.DEFAULT_TXN['transaction_timeout']:g}s",
                  "kafka-python's transaction_timeout_ms"),
        ]
    out += [
        "consumer:",
        f"  # mode: one of {', '.join(semantics.CONSUMER_MODES)}",
        _line(f"  mode: {mode}", "when the consumer commits its offsets"),
        _line("  process_time: 1ms", "simulated application work per record"),
    ]
    if sink:
        out += [
            _line("sink:", "the inbox pattern: each record's effect in a database table"),
            _line(f"  offsets: {sink.offsets}", "offsets in the same transaction as the effects"),
            _line("  dedup: true", "skip a row the relay published twice (by outbox id)"),
            _line("database: sqlite", "in the run directory"),
        ]
    out += [
        "faults:",
        _line(f"  - at: {_FAULT['at']}", "once, this long into the run (or every: 15s)"),
        _line(f"    action: {kill.name}", kill.doc),
        _line(f'    target: "{_FAULT["target"]}"', "the broker leading partition 0 (`kchaos faults`: others)"),
        _line(f"    duration: {_FAULT['duration']}", f"then {kill.heal} it again"),
        _line("expect:", "upper bounds on the verdict's counts: 0, a number, or any"),
    ]
    out += [_line(f"  {key}: {'any' if bound is None else bound}", counts.COUNTS[key].split(" (")[0])
            for key, bound in expect.items()]
    out += ["# without expect, kchaos expects exactly these: what Kafka documents for the semantic and mode"]
    return "\n".join(out) + "\n"
