"""The Docker engine as kchaos uses it: one checked client, image look-ups, and argument-list commands."""

from __future__ import annotations

import functools
import shutil
import subprocess

from kafka_chaos.errors import ClusterError

INSTALL_HINT = "start one with: bash scripts/install-docker.sh (as root)"


@functools.lru_cache(maxsize=1)
def client():
    """A docker SDK client whose engine answered a ping."""
    import docker

    try:
        c = docker.from_env(timeout=60)
        c.ping()
        return c
    except Exception as exc:  # the SDK raises several unrelated types for "no engine"
        raise ClusterError(f"no Docker engine answers ({type(exc).__name__}); {INSTALL_HINT}") from None


def run(args: list[str], timeout: float = 600, check: bool = True, **kw) -> subprocess.CompletedProcess:
    """Run a command given as an argument list (never a shell string); output captured as text."""
    if shutil.which(args[0]) is None:
        raise ClusterError(f"{args[0]} is not installed; {INSTALL_HINT}")
    try:
        # own session: a Ctrl-C at the terminal reaches kchaos only, which decides what to stop
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, start_new_session=True, **kw)
    except subprocess.TimeoutExpired:
        raise ClusterError(f"{' '.join(args[:3])} … did not finish within {timeout:.0f}s") from None
    if check and proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise ClusterError(f"{' '.join(args[:3])} … failed (exit {proc.returncode}): {' | '.join(tail)}")
    return proc


def image_exists(tag: str) -> bool:
    import docker.errors

    try:
        client().images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def try_pull(tag: str, timeout: float = 120) -> bool:
    """Pull `tag`; False (quickly, here) when no registry is reachable."""
    try:
        return run(["docker", "pull", "-q", tag], timeout=timeout, check=False).returncode == 0
    except ClusterError:
        return False
