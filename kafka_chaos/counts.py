"""The verdict's counts: one table of every count the verifier measures, what it means, and which names
are reserved for workloads that do not exist yet. Scenario validation (`expect:` keys), the verifier
and every report read this table, so a count nothing measures can never be expected or shown.
"""

from __future__ import annotations

# name -> meaning, in report order. Every name here is measured by verify.py on every run.
COUNTS: dict[str, str] = {
    "sent": "records handed to the producer",
    "acked": "acknowledged by a broker (in a transaction: the transaction committed)",
    "errors": "sends that failed for good (never acknowledged)",
    "aborted": "records of aborted transactions (never promised: read_committed readers must not see them)",
    "consumed": "records processed by the consumer application",
    "lost": "acked, then gone from the log or never processed (lost_from_log + lost_in_log)",
    "lost_from_log": "acked, absent from the final audit of the log (broker-side loss), processed or not",
    "lost_in_log": "acked, in the log, skipped by the consumer (below what its group processed or committed)",
    "unread": "acked, in the log, never reached by the consumer (drain ended): not judged",
    "unaudited": "acked, unprocessed, and no complete audit of the log: unknown, never called lost",
    "duplicates": "log_duplicates + reprocessed",
    "log_duplicates": "same record at two offsets (producer retries)",
    "reprocessed": "same record at the same offset processed again (consumer redelivery)",
    "reordered": "fewest records to remove so each producer's seqs rise with offsets, per partition",
    "inconsistent_offsets": "offsets that held different records during the run (acked/polled vs audit)",
    "aborted_reads": "records of aborted transactions the consumer processed (expected only with read_uncommitted)",
    "torn_transactions": "transactions the audit shows in part (a committed one not whole, an aborted one at all)",
    "dangling_transactions": "transactions a dead producer left open (readers wait for the coordinator's timeout)",
    "effects": "records with an effect downstream (a copy in the output topic, a row in the sink's table)",
    "lost_effects": "acked (committed) records in the log without an effect once the copier or sink caught up",
    "duplicate_effects": "effects past one per copy in the log (copied twice, applied twice)",
    "aborted_effects": "effects of records of aborted transactions (a copier or sink that read uncommitted data)",
    "phantoms": "this run's records processed or in the log but never sent",
    "foreign": "offsets holding records of another run or tool (never counted as ours)",
    "unacked_present": "not acked but in the log (allowed)",
    "unacked_missing": "not acked, not in the audited log (allowed; 0 without an audit)",
}
COUNT_NAMES = tuple(COUNTS)
# measured only with a copier or a sink (a store of effects); elsewhere nothing counts them
EFFECT_COUNTS = ("effects", "lost_effects", "duplicate_effects", "aborted_effects")
# measured only with a transactional producer (its TXN events say which records were aborted); elsewhere 0
TXN_COUNTS = ("aborted", "aborted_reads", "torn_transactions", "dangling_transactions", "aborted_effects")


def unmeasured(effects: bool, transactional: bool) -> dict[str, str]:
    """Count name -> what measures it, for each count nothing in a run with (or without) a store of effects and
    a transactional producer measures: a bound on such a count would pass on nothing checked."""
    out = {}
    if not transactional:
        out.update(dict.fromkeys(TXN_COUNTS, "a transactional producer (no other producer aborts)"))
    if not effects:
        out.update(dict.fromkeys(EFFECT_COUNTS, "a copier or a sink (nothing else has effects to count)"))
    return out

# Names a scenario may not expect yet, with the reason (none today: every name above is measured).
RESERVED: dict[str, str] = {}
