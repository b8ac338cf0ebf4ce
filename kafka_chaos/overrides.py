"""`--set KEY=VALUE`: a scenario's YAML node tree with fields replaced by dotted path before it is validated, so
every check of the scenario applies to an overridden value, and a message about one names its --set.

KEY is a dotted path: `producer.rate`, `faults.0.at` (a list index; the list's length adds an item), and under a
map of Kafka settings the rest of the path is one name: `producer.config.enable.idempotence`. VALUE is YAML: `1` is
a number, `true` a boolean, `30s` text, `[]` an empty list, an empty VALUE null (as if the field were absent).
"""

from __future__ import annotations

import copy
import re

import yaml

from . import yamlfile
from .errors import ScenarioError, UsageError
from .masking import MASK, is_secret

PREFIX = "--set "   # names the YAML marks of every node an override made (scenario._Parser.error reads it)
CONFIG_MAPS = ("producer.config", "consumer.config", "topic.config", "cluster.broker_config")
MAX_OVERRIDES = 1000
MAX_KEY = 1000
MAX_VALUE = 64 * 1024
_TAG = "tag:yaml.org,2002:"
_INDEX_RE = re.compile(r"^[0-9]{1,6}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def parse(text: str) -> tuple[str, str]:
    """(KEY, VALUE) of one `--set KEY=VALUE` as typed; the first `=` ends KEY."""
    key, eq, value = text.partition("=")
    if not eq or not key.strip():
        raise UsageError(f"{label(text)}: give KEY=VALUE (e.g. --set producer.rate=500, --set duration=30s, "
                         "--set producer.config.acks=1)")
    return key.strip(), value


def label(key: str, value: str | None = None) -> str:
    """`--set KEY=VALUE` as a message shows it: one line, at most about 100 characters, a secret's VALUE masked."""
    text = key if value is None else f"{key}={MASK if is_secret(key) else value}"
    text = repr(text) if _CONTROL_RE.search(text) else text
    return PREFIX + (text if len(text) <= 100 else text[:97] + "...")


def is_override(node) -> bool:
    """True for a node an override made (its mark names the --set)."""
    name = getattr(getattr(node, "start_mark", None), "name", None)
    return isinstance(name, str) and name.startswith(PREFIX)


def apply(root, overrides) -> object:
    """A copy of the node tree `root` with each (KEY, VALUE) of `overrides` set, in order. A KEY that names no
    field is added, and the parser refuses it as it would in the file; a path it cannot follow is a ScenarioError."""
    overrides = list(overrides)
    if len(overrides) > MAX_OVERRIDES:
        raise UsageError(f"{len(overrides)} --set options (allowed: at most {MAX_OVERRIDES})")
    if not isinstance(root, yaml.MappingNode):
        return root   # the parser says what is wrong with the file
    root, added = copy.deepcopy(root), 0
    for key, value in overrides:
        if not isinstance(key, str) or not isinstance(value, str):
            raise UsageError(f"{PREFIX}KEY=VALUE: KEY and VALUE are text, not {type(key).__name__} and "
                             f"{type(value).__name__}")
        node, count = _value_node(key, value)
        added += count
        if added > yamlfile.MAX_NODES:
            raise ScenarioError(f"{label(key, value)}: the --set values hold more than {yamlfile.MAX_NODES} values")
        _set(root, key, value, _path(key, value), node)
    return root


def _path(key: str, value: str) -> list[str]:
    where = label(key, value)
    if len(key) > MAX_KEY:
        raise ScenarioError(f"{where}: KEY is {len(key)} characters (allowed: at most {MAX_KEY})")
    parts = key.split(".")
    for i in range(1, len(parts)):
        if ".".join(parts[:i]) in CONFIG_MAPS:   # Kafka names hold dots: the rest is one name
            parts = [*parts[:i], ".".join(parts[i:])]
            break
    if any(not p.strip() for p in parts):
        raise ScenarioError(f"{where}: {key!r} is not a dotted path (e.g. producer.rate, faults.0.at, "
                            "producer.config.enable.idempotence)")
    if len(parts) > yamlfile.MAX_DEPTH:
        raise ScenarioError(f"{where}: more than {yamlfile.MAX_DEPTH} levels")
    return [p.strip() for p in parts]


def _value_node(key: str, value: str):
    """VALUE composed as YAML (bounded as a scenario is), every node marked as this override's."""
    where = label(key, value)
    if len(value) > MAX_VALUE:
        raise ScenarioError(f"{where}: VALUE is {len(value)} characters (allowed: at most {MAX_VALUE})")
    loader = yamlfile.Loader(value)
    try:
        node = loader.get_single_node()
        if node is not None:   # surface bad tags and unhashable keys now, as scenario._compose does
            yamlfile.Loader("").construct_document(copy.deepcopy(node))
    except yaml.YAMLError as e:
        what = " ".join(filter(None, (getattr(e, "context", None), getattr(e, "problem", None)))) or str(e)
        raise ScenarioError(f"{where}: VALUE is not YAML ({' '.join(what.split())[:200]}; quote it: "
                            f"--set '{key}=\"...\"')") from None
    except (ValueError, TypeError, RecursionError) as e:
        raise ScenarioError(f"{where}: VALUE cannot be read ({' '.join(str(e).split())[:200]})") from None
    finally:
        loader.dispose()
    mark = _mark(where)
    if node is None:
        return yaml.ScalarNode(_TAG + "null", "", mark, mark), 1
    seen = set()

    def relabel(n):
        if id(n) in seen:
            return
        seen.add(id(n))
        n.start_mark = n.end_mark = mark
        for child in (n.value if isinstance(n, yaml.SequenceNode) else
                      [x for pair in n.value for x in pair] if isinstance(n, yaml.MappingNode) else ()):
            relabel(child)
    relabel(node)
    return node, loader.nodes


def _mark(name: str):
    return yaml.Mark(name, 0, 0, 0, None, None)


def _set(root, key: str, value: str, parts: list[str], new) -> None:
    """Walk `parts` from `root`, copying each node on the way (an anchored node may appear elsewhere too) and
    adding missing mappings, then put `new` at the end."""
    where, mark = label(key, value), _mark(label(key, value))
    node = root
    for depth, part in enumerate(parts):
        last, field = depth == len(parts) - 1, ".".join(parts[:depth + 1])
        if isinstance(node, yaml.MappingNode):
            i = _find(node, part)
            if not last and _INDEX_RE.match(parts[depth + 1]) and (i is None or _null(node.value[i][1])) \
                    and not _inherited(node, part):
                raise ScenarioError(f"{where}: {field}: not in the scenario, so it has no item {parts[depth + 1]}; "
                                    f"give it whole (e.g. --set '{field}=[...]')")
            if i is None:
                node.value.append((yaml.ScalarNode(_TAG + "str", part, mark, mark),
                                   _inherited(node, part) or yaml.MappingNode(_TAG + "map", [], mark, mark)))
                i = len(node.value) - 1
            k, v = node.value[i]
            if last:
                node.value[i] = (yaml.ScalarNode(k.tag, k.value, mark, mark, k.style), new)
                return
            if _null(v):
                v = yaml.MappingNode(_TAG + "map", [], mark, mark)
            node.value[i] = (k, copy.deepcopy(v))
            node = node.value[i][1]
        elif isinstance(node, yaml.SequenceNode):
            n = len(node.value)
            if not _INDEX_RE.match(part) or int(part) > n:
                raise ScenarioError(f"{where}: {field}: {parts[depth - 1]} is a list of {n} item(s) (give an "
                                    f"index 0..{n - 1}, or {n} to add one)" if n else
                                    f"{where}: {field}: {parts[depth - 1]} is an empty list (give index 0 to "
                                    "add an item)")
            if int(part) == n:
                node.value.append(yaml.MappingNode(_TAG + "map", [], mark, mark))
            if last:
                node.value[int(part)] = new
                return
            node.value[int(part)] = copy.deepcopy(node.value[int(part)])
            node = node.value[int(part)]
        else:
            parent = ".".join(parts[:depth])
            raise ScenarioError(f"{where}: {parent}: is a single value ({node.value[:40]!r}), not a mapping or "
                                f"list, so it has no {part}")


def _find(node, part: str):
    """Index of the last `part: ...` pair among the mapping's own keys (the one YAML keeps), or None."""
    for i in range(len(node.value) - 1, -1, -1):
        k = node.value[i][0]
        if isinstance(k, yaml.ScalarNode) and k.tag != _TAG + "merge" and k.value == part:
            return i
    return None


def _inherited(node, part: str):
    """A copy of what `<<: *anchor` gives `part` in this mapping, or None: an override then edits that copy."""
    for k, v in reversed(node.value):
        if isinstance(k, yaml.ScalarNode) and k.tag == _TAG + "merge":
            for source in (v.value if isinstance(v, yaml.SequenceNode) else [v]):
                if isinstance(source, yaml.MappingNode):
                    i = _find(source, part)
                    if i is not None:
                        return copy.deepcopy(source.value[i][1])
    return None


def _null(node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "null"
