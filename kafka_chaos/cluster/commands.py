"""Brokers on hosts kchaos reaches only through command templates (ssh, systemctl, …), never a shell.

`cluster.commands` maps an action to an argument list; `{host}` and `{broker}` in a token are replaced
per broker. Each command runs with a timeout; what it prints is kept out of reports.
"""

from __future__ import annotations

from kafka_chaos import engine
from kafka_chaos.errors import ClusterError

TIMEOUT = 120.0


class CommandBrokers:
    """The ContainerBrokers interface for hosts: pause/unpause/kill/stop/start/restart by template."""

    def __init__(self, bootstrap: str, hosts: dict[int, str], commands: dict[str, tuple[str, ...]]):
        self.bootstrap = bootstrap
        self.hosts = dict(sorted(hosts.items()))
        self.commands = {k: tuple(v) for k, v in commands.items()}
        self.containers = dict(self.hosts)   # shown in status tables and the ledger

    @property
    def broker_ids(self) -> tuple[int, ...]:
        return tuple(self.hosts)

    def render(self, action: str, broker: int) -> list[str]:
        if action not in self.commands:
            raise ClusterError(f"cluster.commands has no {action} command")
        if broker not in self.hosts:
            raise ClusterError(f"broker {broker} is not in cluster.hosts")
        host = self.hosts[broker]
        return [t.replace("{host}", host).replace("{broker}", str(broker)) for t in self.commands[action]]

    def _do(self, action: str, broker: int) -> None:
        proc = engine.run(self.render(action, broker), timeout=TIMEOUT, check=False)
        if proc.returncode != 0:   # its output may hold host details: kept out of reports
            raise ClusterError(f"the {action} command for broker {broker} failed (exit {proc.returncode})")

    def pause(self, broker: int) -> None:
        self._do("pause", broker)

    def unpause(self, broker: int) -> None:
        self._do("unpause", broker)

    def kill(self, broker: int) -> None:
        self._do("kill", broker)

    def stop(self, broker: int) -> None:
        self._do("stop", broker)

    def start(self, broker: int) -> None:
        self._do("start", broker)

    def restart(self, broker: int) -> None:
        if "restart" in self.commands:
            self._do("restart", broker)
        else:
            self._do("stop", broker)
            self._do("start", broker)

    def state(self, broker: int) -> str:
        """Hosts have no state kchaos can read; every broker counts as a candidate."""
        return "running"

    def container_name(self, broker: int) -> str:
        return self.hosts[broker]

    def heal_command(self, action: str, broker: int) -> list[str] | None:
        """The exact argument list that heals, stored in the ledger so `kchaos heal` needs no scenario."""
        return self.render(action, broker)

    def logs_tail(self, broker: int, lines: int = 20) -> str:
        return f"(no logs for {self.hosts.get(broker, broker)}: a command-driven host)"

    def exec(self, broker: int, args: list[str], timeout: float = 60) -> str:
        raise ClusterError("this target needs containers (cluster.commands has no exec)")
