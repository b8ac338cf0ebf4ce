"""The one decision every report and the exit code share: a verdict passed, was violated, or is incomplete."""

from __future__ import annotations

from kafka_chaos.errors import ExitCode

PASSED, VIOLATED, INCOMPLETE = "passed", "violated", "incomplete"
EXIT = {PASSED: ExitCode.PASSED, VIOLATED: ExitCode.VIOLATED, INCOMPLETE: ExitCode.INFRASTRUCTURE}


def of(verdict) -> str:
    """VIOLATED beats INCOMPLETE (a violation on what was measured stands); PASSED needs both complete and none."""
    if verdict.violations:
        return VIOLATED
    return PASSED if getattr(verdict, "complete", True) else INCOMPLETE   # a Verdict from before `complete`: complete


def exit_code(verdict) -> ExitCode:
    """1 violated, 3 incomplete (the report says why), 0 passed."""
    return EXIT[of(verdict)]
