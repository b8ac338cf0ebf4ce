"""Verdicts you can trust on the real cluster: loss the consumer did not notice is still loss.

Unclean leader election truncates acknowledged records *after* the consumer processed them: they must count
as lost from the log (and their offsets as inconsistent), never be absorbed as reprocessing or reordering.
The scenario recreates the brokers with its own settings, so this module runs late: only the Kafka 3 test
(which replaces the cluster) and `cluster down` come after it.
"""

import json

import numpy as np

from kafka_chaos import history
from kafka_chaos.faults import LEDGER
from kafka_chaos.history import read_timeline

from .test_5_trust import ROOT, keys, kchaos


def test_unclean_election_truncation_is_loss_even_after_the_consumer_processed_it(healthy, tmp_path):
    """The scenario cuts partition 0's leader from its followers until it is alone in the ISR
    (min.insync.replicas=1, so acks=all is acknowledged by it alone; about 100 records/s), kills it,
    and the controller elects a stale follower (unclean): about 1200-1500 acknowledged, already
    processed records vanish from the log on every run, and new records take their offsets."""
    report_path = tmp_path / "report.json"
    # the scenario's broker_config recreates the brokers with unclean election settings and leaves them so:
    # only test_8 (which replaces the cluster) and test_9 (which removes it) come after this module
    out = kchaos("run", ROOT / "scenarios" / "unclean-election-truncation.yaml", "--keep-cluster",
                 "--runs", tmp_path / "runs", "--json", report_path, timeout=420)
    log = out.stdout + out.stderr
    # the loss is documented for unclean election: `expect: {lost: any}` holds, the run passes and is complete
    assert out.returncode == 0, log
    report = json.loads(report_path.read_text())
    assert report["passed"] and report.get("complete", True), log
    c = report["counts"]

    (run_dir,) = (tmp_path / "runs").iterdir()
    timeline = read_timeline(run_dir)
    applied = {e["action"]: e for e in timeline if e["event"] == "apply"}
    assert applied["isolate-replication"]["ok"] and applied["kill"]["ok"], timeline
    assert applied["kill"]["brokers"] == applied["isolate-replication"]["brokers"], \
        "the killed broker must be the leader that was alone in the ISR"
    assert json.loads((run_dir / LEDGER).read_text()) == [], "every fault must be healed"

    # ground truth from the raw history, independent of the verifier: acknowledged records absent from
    # the final audit, and how many of those the consumer had processed before they were truncated
    events = np.concatenate(list(history.read_dir(run_dir / "history").values()))
    acked, audited = keys(events, history.ACK), keys(events, history.LOG)
    processed = keys(events, history.PROCESS)
    gone = acked - audited
    print(f"\nunclean-election-truncation: acked {len(acked)} audit {len(audited)} gone {len(gone)} "
          f"(processed first: {len(gone & processed)}); counts {c}")
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
