"""Untrusted YAML files, read bounded: a regular file of at most MAX_BYTES of UTF-8, composed into at most
MAX_NODES nodes (an alias counting as every node it repeats) and MAX_DEPTH levels.

A scenario, and the compose file it names, may come from anyone; neither may cost more than a fraction of
a second or a few megabytes to read, whatever it holds (a FIFO, /dev/zero, a "billion laughs").
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from . import files
from .errors import UsageError

MAX_BYTES = 256 * 1024   # shipped scenarios are ~1.5 KiB; PyYAML scans this much in ~0.3 s
MAX_NODES = 10_000       # values, an alias counting as every value it repeats
MAX_DEPTH = 32           # nesting of lists and mappings
_PLAIN = re.compile(r"^[A-Za-z0-9_.:@/-]{1,64}$")


class Unreadable(Exception):
    """A file that is not read, and why (missing, not a regular file, too large, not UTF-8)."""


def read_text(path: Path) -> str:
    """The UTF-8 text of the regular file at `path` (a symlink to one is fine), at most MAX_BYTES. A FIFO,
    device or directory is refused from its stat, before anything opens it."""
    try:
        info = os.stat(path)
    except (OSError, ValueError) as e:   # ValueError: a NUL in the path
        raise Unreadable(getattr(e, "strerror", None) or str(e)) from None
    if not stat.S_ISREG(info.st_mode):
        kind = ("a directory" if stat.S_ISDIR(info.st_mode) else "a FIFO" if stat.S_ISFIFO(info.st_mode)
                else "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else "a socket")
        raise Unreadable(f"{kind}, not a regular file")
    if info.st_size > MAX_BYTES:
        raise Unreadable(f"{info.st_size} bytes (allowed: at most {MAX_BYTES})")
    real = os.path.realpath(path)
    try:   # opened without following links or blocking, checked again after the open
        data = files.read_bounded(Path(real), MAX_BYTES, "file")
    except UsageError as e:
        raise Unreadable(str(e).removeprefix(f"{real}: ")) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise Unreadable(f"not UTF-8 text (line {line})") from None


def load(path: Path):
    """The data of the YAML file at `path`; Unreadable, yaml.YAMLError or RecursionError when it is not."""
    return yaml.load(read_text(path), Loader=Loader)


class Loader(yaml.SafeLoader):
    """PyYAML's SafeLoader, bounded while it composes: at most MAX_NODES nodes (an alias counts as every node
    it repeats, so a "billion laughs" file stops within its first lines), MAX_DEPTH levels, no alias inside
    its own anchor, integers of at most 40 characters, and any value it cannot build refused at its line."""

    def __init__(self, stream):
        super().__init__(stream)
        self.nodes, self.depth, self.sizes = 0, 0, {}

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            anchored = self.anchors.get(event.anchor)
            if anchored is not None:
                if id(anchored) not in self.sizes:
                    anchor = event.anchor if _PLAIN.match(event.anchor) else "…"
                    raise ComposerError(None, None, f"alias *{anchor} is inside its own anchor (a document that "
                                                    "contains itself)", event.start_mark)
                self.count(self.sizes[id(anchored)], event.start_mark)
            return super().compose_node(parent, index)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ComposerError(None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
        before = self.nodes
        self.count(1, event.start_mark)
        node = super().compose_node(parent, index)
        self.depth -= 1
        self.sizes[id(node)] = self.nodes - before
        return node

    def count(self, n: int, mark) -> None:
        self.nodes += n
        if self.nodes > MAX_NODES:
            raise ComposerError(None, None, f"more than {MAX_NODES} values (an alias counts as every value it "
                                            "repeats)", mark)

    def construct_yaml_int(self, node):
        if len(node.value) > 40:
            raise ConstructorError(None, None, f"an integer of {len(node.value)} characters is too large (allowed: "
                                               "at most 40)", node.start_mark)
        return super().construct_yaml_int(node)

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as e:
            raise ConstructorError(None, None, f"cannot read a value ({e})", node.start_mark) from None


Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
