"""Brokers that live in Docker containers: pause, kill, stop, start, exec, by broker id."""

from __future__ import annotations

import re
import time

import docker.errors
import requests

from kafka_chaos import engine
from kafka_chaos.errors import ClusterError

# Docker's container-name grammar (daemon/names: restrictedNameChars), checked before a name from a run
# directory reaches a docker command line
NAME_RE = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


class NoSuchContainer(ClusterError):
    """The engine answered: no container plays this broker (as opposed to an engine that does not answer)."""


FREEZE_TRIES = 4   # docker pause attempts when the cgroup freezer does not settle (about 3 s in all)


class ContainerBrokers:
    """Acts on the containers of a cluster, addressed by broker id. Works for any container names,
    whether kchaos created them (compose) or not (a live cluster's `containers:` map)."""

    def __init__(self, bootstrap: str, containers: dict[int, str]):
        self.bootstrap = bootstrap
        self.containers = dict(sorted(containers.items()))

    @property
    def broker_ids(self) -> tuple[int, ...]:
        return tuple(self.containers)

    def _container(self, broker: int):
        name = self.containers.get(broker)
        if name is None:
            raise NoSuchContainer(f"broker {broker} is not in this cluster "
                                  f"(brokers: {', '.join(map(str, self.containers))})")
        try:
            return engine.client().containers.get(name)
        except docker.errors.NotFound:
            raise NoSuchContainer(f"broker {broker}: container {name} does not exist") from None
        except (docker.errors.DockerException, requests.RequestException) as exc:
            raise ClusterError(f"broker {broker}: the Docker engine did not answer about container {name} "
                               f"({type(exc).__name__})") from None

    def state(self, broker: int) -> str:
        """running | paused | exited | restarting | missing; raises ClusterError when the engine does not answer
        (an unreachable engine says nothing about the container)."""
        try:
            return self._container(broker).status
        except NoSuchContainer:
            return "missing"

    def pause(self, broker: int) -> None:
        """docker pause. The cgroup freezer can fail to settle while the broker is busy (runc: "unable to
        freeze", seen on a broker started seconds before on 2 cores): tried again, at most FREEZE_TRIES times."""
        for attempt in range(1, FREEZE_TRIES + 1):
            try:
                self._do(broker, "pause", lambda c: c.pause())
                return
            except ClusterError as exc:
                if "unable to freeze" not in str(exc) or attempt == FREEZE_TRIES:
                    raise
                time.sleep(0.5 * attempt)

    def unpause(self, broker: int) -> None:
        self._do(broker, "unpause", lambda c: c.unpause() if c.status == "paused" else None)

    def kill(self, broker: int) -> None:
        """SIGKILL: the broker gets no chance to flush or hand over leadership."""
        self._do(broker, "kill", lambda c: c.kill(signal="SIGKILL") if c.status in ("running", "paused") else None)

    def stop(self, broker: int, timeout: int = 30) -> None:
        """Graceful: SIGTERM, controlled shutdown, SIGKILL after `timeout` seconds."""
        self._do(broker, "stop", lambda c: c.stop(timeout=timeout))

    def start(self, broker: int) -> None:
        def go(c):
            if c.status == "paused":
                c.unpause()
            elif c.status != "running":
                c.start()
        self._do(broker, "start", go)

    def restart(self, broker: int, timeout: int = 30) -> None:
        self._do(broker, "restart", lambda c: c.restart(timeout=timeout))

    def _do(self, broker: int, what: str, fn) -> None:
        container = self._container(broker)
        container.reload()
        try:
            fn(container)
        except docker.errors.APIError as exc:
            raise ClusterError(f"{what} broker {broker} ({container.name}) failed: {exc.explanation or exc}") from None

    def exec(self, broker: int, args: list[str], timeout: float = 60) -> str:
        """Run an argument list inside the broker's container; its stdout."""
        name = self._container(broker).name
        return engine.run(["docker", "exec", name, *args], timeout=timeout).stdout

    def logs_tail(self, broker: int, lines: int = 20) -> str:
        try:
            return self._container(broker).logs(tail=lines).decode(errors="replace")
        except ClusterError as exc:
            return str(exc)

    def container_name(self, broker: int) -> str:
        return self.containers[broker]

    def heal_command(self, action: str, broker: int) -> list[str] | None:
        """Containers are healed through the engine, not a command (see CommandBrokers)."""
        return None

    def ips(self, broker: int) -> list[str]:
        """The broker's addresses on its container networks (none while it is stopped)."""
        c = self._container(broker)
        c.reload()
        nets = (c.attrs.get("NetworkSettings") or {}).get("Networks") or {}
        return sorted(n["IPAddress"] for n in nets.values() if n.get("IPAddress"))

    def external_port(self, broker: int) -> int:
        """The port host clients use for this broker, from the kchaos.external.port label."""
        port = self._container(broker).labels.get("kchaos.external.port")
        if not port:
            raise ClusterError(f"broker {broker}: container has no kchaos.external.port label")
        return int(port)
