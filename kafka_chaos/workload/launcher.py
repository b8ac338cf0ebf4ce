"""Starts, crashes and reaps the worker processes of a run (each instance a new OS process)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from kafka_chaos.errors import ClusterError
from kafka_chaos.files import write_atomic
from kafka_chaos.history import ROLES
from kafka_chaos.workload import CRASH_POINT, SETTINGS, write_status

POINT_WAIT = 10.0   # seconds a worker gets to reach its crash point


class Workers:
    """The worker processes of a run; each instance is a new OS process with its own history."""

    def __init__(self, run_dir: Path, settings: dict):
        self.run_dir = run_dir
        self.settings = settings
        self.procs: dict[str, list[subprocess.Popen]] = {role: [] for role in ROLES}
        (run_dir / "logs").mkdir(exist_ok=True)

    def start(self, role: str, count: int | None = None) -> str:
        instance = len(self.procs[role])
        if role in ("producer", "outbox"):   # the writers: how many records this instance writes
            self.settings["counts"][str(instance)] = count
        # private (raw client settings) and replaced atomically, so a starting worker never reads half a file
        write_atomic(self.run_dir / SETTINGS, json.dumps(self.settings), private=True)
        log = open(self.run_dir / "logs" / f"{role}-{instance}.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", f"kafka_chaos.workload.{role}", str(self.run_dir), str(instance)],
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs[role].append(proc)
        # its pid on record at once (the worker publishes it too, once its imports are done, which took seconds
        # under load): `kchaos heal` after a SIGKILLed kchaos finds a worker that had not got that far
        write_status(self.run_dir, role, instance, {"pid": proc.pid, "t": time.time()})
        return f"{role}-{instance} (pid {proc.pid})"

    def current(self, role: str) -> subprocess.Popen | None:
        return self.procs[role][-1] if self.procs[role] else None

    def alive(self, role: str) -> bool:
        proc = self.current(role)
        return proc is not None and proc.poll() is None

    def crash(self, role: str, point: str | None = None) -> str:
        """SIGKILL the role's current worker; with a crash `point`, let it kill itself at that point (a flag
        file it looks for there), or SIGKILL it after POINT_WAIT seconds if it never gets there."""
        proc = self.current(role)
        if proc is None or proc.poll() is not None:
            raise ClusterError(f"no running {role} to crash")
        name = f"{role}-{len(self.procs[role]) - 1} (pid {proc.pid})"
        if point:
            flag = self.run_dir / CRASH_POINT.format(role=role)
            flag.write_text(point)
            try:
                proc.wait(timeout=POINT_WAIT)
                return f"{name} killed itself with SIGKILL {point}"
            except subprocess.TimeoutExpired:
                flag.unlink(missing_ok=True)
        proc.kill()
        proc.wait()
        return f"{name} killed with SIGKILL" + (f" ({point} not reached within {POINT_WAIT:.0f} s)" if point else "")

    def check(self, role: str, expected_dead: bool = False) -> None:
        """A worker that exited with an error (not killed by kchaos) makes the run an infrastructure failure."""
        proc = self.current(role)
        if proc is None or expected_dead or proc.poll() in (None, 0, -signal.SIGKILL, -signal.SIGTERM):
            return
        log = self.run_dir / "logs" / f"{role}-{len(self.procs[role]) - 1}.log"
        tail = [line for line in log.read_text(errors="replace").splitlines() if line.strip()][-1:]
        raise ClusterError(f"{role}-{len(self.procs[role]) - 1} failed (exit {proc.returncode}): "
                           f"{tail[0] if tail else 'no output'} (log: {log})")

    def wait(self, role: str, timeout: float) -> bool:
        proc = self.current(role)
        try:
            proc.wait(timeout=max(0.1, timeout))
            return True
        except subprocess.TimeoutExpired:
            return False

    def stop_all(self) -> None:
        for procs in self.procs.values():
            for proc in procs:
                if proc.poll() is None:
                    proc.terminate()
        deadline = time.time() + 10
        for procs in self.procs.values():
            for proc in procs:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
