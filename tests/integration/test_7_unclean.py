"""Verdicts you can trust on the real cluster, and the catalog of known Kafka bugs: KAFKA-12670.

`kchaos matrix scenarios/bugs --kafka-version 3.8.1,4.1.1 --parallel 2` runs the bug's scenario on both
versions side by side (3.8.1 on the first cluster, 4.1.1 on the second). The leader of partition 0 is alone
in the ISR when it is killed, with unclean election enabled for the topic. On 3.8.1 the KRaft controller ignores
the setting (the bug): the partition waits and nothing is lost. On 4.1.1 a stale follower is elected: acknowledged
records that the consumer had already processed vanish from the log, and they must count as lost from the log
(their offsets as inconsistent), never be absorbed as reprocessing or reordering.

The scenario recreates the brokers with its own settings (and the first cluster on 3.8.1), so this module runs
late: only the Kafka 3 test (which replaces the cluster) and `cluster down` come after it.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from kafka_chaos import history
from kafka_chaos.faults import LEDGER
from kafka_chaos.history import read_timeline

from .test_5_trust import ROOT, keys


def test_kafka_12670_unclean_election_ignored_before_3_9_and_truncating_after(healthy, second_cluster, tmp_path):
    out = subprocess.run([sys.executable, "-m", "kafka_chaos", "matrix", "scenarios/bugs", "--kafka-version",
                          "3.8.1,4.1.1", "--parallel", "2", "--keep-cluster", "--runs", str(tmp_path / "runs"),
                          "--json", str(tmp_path / "m.json")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    log = out.stdout + out.stderr
    assert out.returncode == 0, log   # each version's expectation held
    cells = {c["kafka_version"]: c for c in json.loads((tmp_path / "m.json").read_text())
             if c["scenario"] == "kafka-12670-kraft-ignores-unclean-election"}
    assert set(cells) == {"3.8.1", "4.1.1"}, log
    for version, cell in cells.items():
        report = cell["report"]
        assert report["passed"] and report["complete"], (version, report["incomplete"], log)
        run_dir = Path(report["run_dir"])
        assert json.loads((run_dir / "meta.json").read_text())["image"].endswith(":" + version)
        applied = {e["action"]: e for e in read_timeline(run_dir) if e["event"] == "apply"}
        assert applied["isolate-replication"]["ok"] and applied["kill"]["ok"], (version, applied)
        assert applied["kill"]["brokers"] == applied["isolate-replication"]["brokers"], \
            "the killed broker must be the leader that was alone in the ISR"
        assert json.loads((run_dir / LEDGER).read_text()) == [], "every fault must be healed"

    old = cells["3.8.1"]["report"]["counts"]
    assert old["lost"] == 0 and old["inconsistent_offsets"] == 0 and old["acked"] > 3000, old   # the bug

    report = cells["4.1.1"]["report"]
    c, run_dir = report["counts"], Path(report["run_dir"])
    # ground truth from the raw history, independent of the verifier: acknowledged records absent from
    # the final audit, and how many of those the consumer had processed before they were truncated
    events = np.concatenate(list(history.read_dir(run_dir / "history").values()))
    acked, audited = keys(events, history.ACK), keys(events, history.LOG)
    processed = keys(events, history.PROCESS)
    gone = acked - audited
    print(f"\nKAFKA-12670 on 4.1.1: acked {len(acked)} audit {len(audited)} gone {len(gone)} "
          f"(processed first: {len(gone & processed)}); on 3.8.1: {old}")
    assert len(gone) > 300, f"the truncation must remove acknowledged records every run: {len(gone)}\n{log}"
    assert len(gone & processed) > len(gone) // 2, "most truncated records were processed first"
    assert c["lost_from_log"] == len(gone), (c, len(gone))
    assert c["lost"] == c["lost_from_log"] + c["lost_in_log"] and c["lost"] >= len(gone)
    assert c["inconsistent_offsets"] > 0, "new records took the truncated records' offsets"
    # processed-then-truncated records are loss, not redelivery: reprocessing (same record, same
    # offset) stays far below the loss, and so does reordering
    assert c["reprocessed"] < c["lost_from_log"] / 10, c
    assert c["reordered"] < c["lost_from_log"] / 10, c
    assert c["phantoms"] == 0
    lost = [a for a in report["anomalies"] if a["type"] == "lost"]
    assert lost and any(a.get("where") == "from_log" for a in lost), lost
