"""The fault catalog: one table of every fault action — its targets, fields, heal, family and doc.

Scenario validation, the fault engine, the scheduler's automatic heals and `kchaos faults` all read this
table, so an action cannot be advertised with a target in one place and refused in another.
"""

from __future__ import annotations

from dataclasses import dataclass

# target kind -> how messages and `kchaos faults` spell it
TARGET_TEXT = {
    "broker": "broker(N)", "leader": "leader(TOPIC,P)", "follower": "follower(TOPIC,P)", "controller": "controller",
    "coordinator": "coordinator(GROUP)", "txn-coordinator": "txn-coordinator(ID)", "random": "random", "all": "all",
    "paused": "paused", "killed": "killed", "partitioned": "partitioned", "producer": "producer", "consumer": "consumer",
    "copier": "copier", "sink": "sink", "outbox": "outbox", "relay": "relay",
}
PICK = ("broker", "leader", "follower", "controller", "coordinator", "txn-coordinator", "random")  # one broker each
ROLE_TARGETS = ("producer", "consumer", "copier", "sink", "outbox", "relay")   # worker roles a client fault hits


@dataclass(frozen=True)
class Action:
    """One fault action. `family`: broker (a backend method, a cluster.commands key), client (a worker),
    network (iptables/tc in the broker's namespace), cluster (every broker in turn)."""

    name: str
    family: str
    targets: tuple[str, ...]   # target kinds it takes; () when it takes none (then `no_target` says why)
    doc: str
    fields: tuple[str, ...] = ()   # fault keys only this action takes
    heal: str | None = None        # the action planned after `duration` to undo it
    healer: bool = False           # it undoes other faults, so it takes no duration
    nemesis: bool = True           # the nemesis may draw it (it heals each fault itself)
    qdisc: bool = False            # a tc qdisc: one per broker at a time
    no_target: str = ""

    @property
    def targets_text(self) -> str:
        return ", ".join(TARGET_TEXT[k] for k in self.targets) or f"(none: {self.no_target})"

    @property
    def method(self) -> str | None:
        """The broker backend method that applies it (broker actions only)."""
        return self.name if self.family == "broker" else None

    @property
    def heal_method(self) -> str | None:
        """The broker backend method the heal ledger undoes it with (broker actions only)."""
        return self.heal if self.family == "broker" else None


_NET = "heal-network"
TABLE: tuple[Action, ...] = (
    Action("pause", "broker", (*PICK, "all"), "docker pause: the broker freezes, sockets stay open", heal="unpause"),
    Action("unpause", "broker", ("paused", "broker", "all"), "resume paused brokers", healer=True, nemesis=False),
    Action("kill", "broker", (*PICK, "all"), "SIGKILL the broker: no flush, no controlled shutdown", heal="start"),
    Action("stop", "broker", (*PICK, "all"), "graceful stop (SIGTERM, controlled shutdown)", heal="start"),
    Action("start", "broker", ("killed", "broker", "all"), "start brokers this run killed or stopped",
           healer=True, nemesis=False),
    Action("restart", "broker", (*PICK, "all"), "graceful stop then start"),
    Action("crash", "client", ROLE_TARGETS,
           "SIGKILL the client worker (with point: after-commit, it kills itself right after its next commit; "
           "point: mid-batch, the consumer halfway through processing a batch it has not committed); "
           "a fresh one starts after `duration`", fields=("point",), heal="restart-worker"),
    Action("fence-producer", "client", ("producer",), "start a second producer with the same transactional.id: its "
           "init_transactions fences the running one (ProducerFencedError; it stops) and it carries on",
           nemesis=False),
    Action("isolate", "network", PICK, "iptables: cut the broker from every other broker (clients still reach it)",
           fields=("direction",), heal=_NET),
    Action("split", "network", (), "iptables: brokers talk only within their group; minority puts the active "
           "controller in the smaller group", fields=("groups", "shape", "direction"), heal=_NET,
           no_target="give groups or shape instead"),
    Action("isolate-clients", "network", PICK, "iptables: drop the broker's external (client) listener; brokers "
           "still talk", heal=_NET),
    Action("isolate-replication", "network", ("leader",), "iptables: cut the leader's inter-broker listener "
           "(port 9092); the controller link stays", fields=("direction",), heal=_NET),
    Action("loss", "network", (*PICK, "all"), "iptables statistic: drop each packet in and out with `probability`",
           fields=("probability",), heal=_NET),
    Action("bandwidth", "network", (*PICK, "all"), "tc tbf: limit every interface to `rate` (e.g. 1mbit)",
           fields=("rate",), heal=_NET, qdisc=True),
    Action("delay", "network", (*PICK, "all"), "tc netem: add `latency` (± `latency_jitter`); needs the kernel's "
           "netem qdisc", fields=("latency", "latency_jitter"), heal=_NET, qdisc=True),
    Action(_NET, "network", ("partitioned", "broker", "all"), "remove every network fault of this run from those "
           "brokers", healer=True, nemesis=False),
    Action("rolling-restart", "cluster", (), "restart every broker in turn, each once the cluster is back to full "
           "ISR", nemesis=False, no_target="it restarts every broker in turn"),
)
ACTIONS: dict[str, Action] = {a.name: a for a in TABLE}

NAMES = tuple(ACTIONS)
NETWORK_ACTIONS = tuple(a.name for a in TABLE if a.family == "network" and not a.healer)
QDISC_ACTIONS = tuple(a.name for a in TABLE if a.qdisc)
BROKER_ACTIONS = tuple(a.name for a in TABLE if a.family == "broker")   # also the keys of cluster.commands
NEMESIS_ACTIONS = tuple(a.name for a in TABLE if a.nemesis)
HEALS = {a.name: a.heal for a in TABLE if a.heal}   # action -> the action that undoes it after `duration`
