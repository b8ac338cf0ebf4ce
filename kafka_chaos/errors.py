"""One base exception for everything kchaos reports to a user, and the exit codes a CI job gates on."""

from enum import IntEnum


class ExitCode(IntEnum):
    PASSED = 0          # every expectation met
    VIOLATED = 1        # the verdict broke an expectation
    INVALID_INPUT = 2   # bad scenario, flag or run directory; nothing touched the cluster
    INFRASTRUCTURE = 3  # engine, image or cluster failed
    INTERRUPTED = 130   # Ctrl-C / SIGTERM (faults were healed first)


class KchaosError(Exception):
    """An error with a one-line message meant for the user."""

    exit_code = ExitCode.INFRASTRUCTURE


class ScenarioError(KchaosError):
    """The scenario file is wrong: the message names file, line and field."""

    exit_code = ExitCode.INVALID_INPUT


class UsageError(KchaosError):
    exit_code = ExitCode.INVALID_INPUT


class ClusterError(KchaosError):
    """The engine, the image or a broker did not do what was asked."""


class FaultError(KchaosError):
    """A fault could not be applied or healed."""


class PreflightError(KchaosError):
    """The scenario asks for something this machine cannot do (e.g. a missing kernel qdisc); nothing started."""

    exit_code = ExitCode.INVALID_INPUT
