"""A cluster kchaos starts itself from a compose file: up, down, and discovery by compose labels."""

from __future__ import annotations

import functools
import os
import re
import subprocess
import time
from pathlib import Path

import yaml

from kafka_chaos import engine, image
from kafka_chaos.cluster.containers import ContainerBrokers
from kafka_chaos.errors import ClusterError, UsageError

DEFAULT_PROJECT = "kchaos"
PROJECT_ENV, PORT_BASE_ENV = "KCHAOS_PROJECT", "KCHAOS_PORT_BASE"
PROJECT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}\Z")   # what compose accepts as a project name ($ takes "a\n")
# a broker's port label that can move: "${KCHAOS_PORT_1:-19092}" (compose fills the same variable into the
# published port and the advertised listener, so a second cluster can run beside the first)
PORT_VAR_RE = re.compile(r"^\$\{([A-Z][A-Z0-9_]*):-(\d{1,5})\}$")
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


def deployment(project: str | None = None, port_base: int | None = None) -> tuple[str, int | None]:
    """The compose project name and first host port: the arguments, else $KCHAOS_PROJECT and
    $KCHAOS_PORT_BASE, else "kchaos" and the compose file's own ports (None)."""
    project = project or os.environ.get(PROJECT_ENV) or DEFAULT_PROJECT
    if not PROJECT_RE.match(project):
        raise UsageError(f"project {project[:80]!r}: not a compose project name (lower-case letters, digits, "
                         "- and _, starting with a letter or digit, at most 63 characters)")
    if port_base is None and os.environ.get(PORT_BASE_ENV):
        try:
            port_base = int(os.environ[PORT_BASE_ENV])
        except ValueError:
            raise UsageError(f"${PORT_BASE_ENV}: {os.environ[PORT_BASE_ENV][:40]!r} is not a port number") from None
    if port_base is not None and not 1024 <= port_base <= 65000:
        raise UsageError(f"port base {port_base}: allowed 1024-65000 (the brokers take the ports from it up)")
    return project, port_base


def port_labels(path: Path) -> dict[int, tuple[str | None, int]]:
    """broker id -> (the variable that moves its host port or None, the file's port), from the compose
    file's labels."""
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
            port = str(labels.get(PORT_LABEL, 0))
            moving = PORT_VAR_RE.match(port)
            out[int(labels[BROKER_LABEL])] = (moving[1], int(moving[2])) if moving else (None, int(port))
    if not out:
        raise ClusterError(f"{path}: no service has a {BROKER_LABEL} label")
    return dict(sorted(out.items()))


def host_ports(path: Path, port_base: int | None = None) -> tuple[dict[int, int], dict[str, str]]:
    """(broker id -> host port, the variables compose needs for them). With `port_base`, each broker's port
    keeps its distance from the file's lowest port (19092, 19093, 19094 -> base, base+1, base+2)."""
    labels = port_labels(path)
    if port_base is None:
        return {b: port for b, (_, port) in labels.items()}, {v: str(p) for v, p in labels.values() if v}
    fixed = [b for b, (var, _) in labels.items() if var is None]
    if fixed:
        raise UsageError(f"{path}: broker {fixed[0]}'s {PORT_LABEL} label is a fixed port, so --port-base cannot "
                         "move it; write it as \"${KCHAOS_PORT_<N>:-<port>}\" like compose/kraft-3.yml")
    low = min(port for _, port in labels.values())
    ports = {b: port_base + port - low for b, (_, port) in labels.items()}
    if max(ports.values()) > 65535:
        raise UsageError(f"port base {port_base}: the brokers' ports would pass 65535")
    return ports, {var: str(ports[b]) for b, (var, _) in labels.items()}


def brokers_in_file(path: Path, port_base: int | None = None) -> dict[int, int]:
    """broker id -> external (host) port, from the compose file's labels (moved to `port_base`)."""
    return host_ports(path, port_base)[0]


def discover(project: str = DEFAULT_PROJECT) -> dict[int, tuple[str, int]]:
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
    """The brokers of one compose project. Two projects with different port bases run side by side."""

    def __init__(self, compose_file: Path, project: str | None = None, override: Path | None = None,
                 port_base: int | None = None):
        self.compose_file = Path(compose_file).resolve()
        self.project, self.port_base = deployment(project, port_base)
        self.override = override
        ports, self.port_env = host_ports(self.compose_file, self.port_base)
        super().__init__(",".join(f"127.0.0.1:{p}" for p in ports.values()),
                         {b: "" for b in ports})
        self.image = ""

    def _compose(self, *args: str, timeout: float = 600, env: dict | None = None) -> str:
        files = ["-f", str(self.compose_file)] + (["-f", str(self.override)] if self.override else [])
        return engine.run([*compose_command(), "-p", self.project, *files, *args], timeout=timeout,
                          env={**os.environ, **self.port_env, **(env or {})}).stdout

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
