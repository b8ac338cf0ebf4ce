"""A cluster kchaos starts itself from a compose file: up, down, and discovery by compose labels."""

from __future__ import annotations

import functools
import os
import subprocess
import time
from pathlib import Path

import yaml

from kafka_chaos import engine, image
from kafka_chaos.cluster.containers import ContainerBrokers
from kafka_chaos.errors import ClusterError

PROJECT = os.environ.get("KCHAOS_PROJECT", "kchaos")
UP_TRIES = 3
# docker-compose 1.29 (Debian's) sometimes fails a recreate on its own temporary container names
TRANSIENT_UP = ("Renaming a container with the same name", "is already in use by container", "No such container")
BROKER_LABEL = "kchaos.broker.id"
PORT_LABEL = "kchaos.external.port"


@functools.lru_cache(maxsize=1)
def compose_command() -> list[str]:
    """`docker compose` (v2) where the plugin exists, else `docker-compose` (v1, what Debian ships)."""
    try:
        if subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=20).returncode == 0:
            return ["docker", "compose"]
    except (OSError, subprocess.TimeoutExpired):
        pass
    return ["docker-compose"]


def brokers_in_file(path: Path) -> dict[int, int]:
    """broker id -> external (host) port, from the compose file's labels."""
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ClusterError(f"{path}: cannot read compose file ({exc})") from None
    out = {}
    for service in (doc or {}).get("services", {}).values():
        labels = service.get("labels") or {}
        if isinstance(labels, list):
            labels = dict(item.split("=", 1) for item in labels if "=" in item)
        if BROKER_LABEL in labels:
            out[int(labels[BROKER_LABEL])] = int(labels.get(PORT_LABEL, 0))
    if not out:
        raise ClusterError(f"{path}: no service has a {BROKER_LABEL} label")
    return dict(sorted(out.items()))


def discover(project: str = PROJECT) -> dict[int, tuple[str, int]]:
    """broker id -> (container name, external port) of the project's containers, running or not."""
    found = engine.client().containers.list(
        all=True, filters={"label": [f"com.docker.compose.project={project}", BROKER_LABEL]})
    return containers_by_broker([(c.name, c.labels) for c in found])


def containers_by_broker(containers: list[tuple[str, dict]]) -> dict[int, tuple[str, int]]:
    """Map (name, labels) pairs to broker id -> (name, external port); pure, for tests."""
    out = {}
    for name, labels in containers:
        if BROKER_LABEL not in labels:
            continue
        broker = int(labels[BROKER_LABEL])
        if broker in out:
            raise ClusterError(f"two containers claim broker {broker}: {out[broker][0]} and {name}")
        out[broker] = (name, int(labels.get(PORT_LABEL, 0)))
    return dict(sorted(out.items()))


class ComposeCluster(ContainerBrokers):
    """The brokers of one compose project."""

    def __init__(self, compose_file: Path, project: str = PROJECT, override: Path | None = None):
        self.compose_file = Path(compose_file).resolve()
        self.project = project
        self.override = override
        ports = brokers_in_file(self.compose_file)
        super().__init__(",".join(f"127.0.0.1:{p}" for p in ports.values()),
                         {b: "" for b in ports})
        self.image = ""

    def _compose(self, *args: str, timeout: float = 600, env: dict | None = None) -> str:
        files = ["-f", str(self.compose_file)] + (["-f", str(self.override)] if self.override else [])
        return engine.run([*compose_command(), "-p", self.project, *files, *args], timeout=timeout,
                          env={**os.environ, **(env or {})}).stdout

    def refresh(self) -> None:
        """Learn which container plays which broker, from compose labels."""
        found = discover(self.project)
        self.containers = {b: name for b, (name, _) in found.items()}

    def up(self, version: str = image.DEFAULT_VERSION) -> str:
        """Start (or keep) the containers; returns a line saying which image and why. `up` is idempotent, so
        a recreate that docker-compose v1 loses to its own renaming race is simply run again."""
        self.image, why = image.resolve(version)
        for attempt in range(1, UP_TRIES + 1):
            try:
                self._compose("up", "-d", "--remove-orphans", env={"KCHAOS_KAFKA_IMAGE": self.image})
                break
            except ClusterError as exc:
                if not any(m in str(exc) for m in TRANSIENT_UP) or attempt == UP_TRIES:
                    raise
                time.sleep(2)
        self.refresh()
        return f"{self.image} ({why})"

    def down(self) -> None:
        """Remove the project's containers, networks and volumes."""
        self._compose("down", "-v", "--remove-orphans", "--timeout", "5",
                      env={"KCHAOS_KAFKA_IMAGE": self.image or "unused"})

    def _container(self, broker: int):
        if not self.containers.get(broker):
            self.refresh()
        return super()._container(broker)
