"""An application's client settings file, read bounded: Java .properties, or a YAML or JSON mapping (by extension),
as [(key, value, line)] in file order. Values are what the file holds (a .properties value is always a string);
what they mean is checked by semantics, as a scenario's own config is."""

from __future__ import annotations

from pathlib import Path

import javaproperties
import yaml

from . import yamlfile

MAX_BYTES = yamlfile.MAX_BYTES   # a real producer.properties is well under 4 KiB
MAX_KEYS = 1000                  # kafka-python has ~60 settings; past this the file is not a client's settings
MAPPING_SUFFIXES = (".yaml", ".yml", ".json")


class Problem(Exception):
    """The file cannot be used; `line` (None: the whole file) and a message without the path."""

    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line


def read(path: Path) -> list[tuple[str, object, int]]:
    """The settings in the file at `path`: a regular UTF-8 text file of at most MAX_BYTES, no NUL byte."""
    try:
        text = yamlfile.read_text(Path(path))
    except yamlfile.Unreadable as e:
        raise Problem(None, f"cannot read it ({e})") from None
    if "\0" in text:
        raise Problem(text.count("\n", 0, text.index("\0")) + 1, "a NUL byte: a binary file, not settings")
    entries = mapping(text) if Path(path).suffix.lower() in MAPPING_SUFFIXES else properties(text)
    if len(entries) > MAX_KEYS:
        raise Problem(entries[MAX_KEYS][2], f"more than {MAX_KEYS} settings (not a client's settings file)")
    seen = {}
    for key, _, line in entries:
        if key in seen:   # Java keeps the last silently; a gate says it
            raise Problem(line, f"{key!r:.80} given twice (also on line {seen[key]}; keep one)")
        seen[key] = line
    return entries


def properties(text: str) -> list[tuple[str, object, int]]:
    """java.util.Properties' syntax (javaproperties): # and ! comments, key=value, key: value, key value,
    backslash line continuations and escapes, \\uXXXX. Each entry's line is where its key starts."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")   # Java ends a line at \r too
    out, line = [], 1
    try:
        for item in javaproperties.parse(text):
            if isinstance(item, javaproperties.KeyValue):
                out.append((item.key, item.value, line))
                if len(out) > MAX_KEYS:
                    break
            line += item.source.count("\n")
    except javaproperties.InvalidUEscapeError as e:
        at = text.find(e.escape)
        raise Problem(text.count("\n", 0, at) + 1 if at >= 0 else None,
                      f"{e.escape if e.escape.isprintable() else repr(e.escape)} is not a \\uXXXX escape "
                      "(four hex digits)") from None
    return out


def mapping(text: str) -> list[tuple[str, object, int]]:
    """A YAML (or JSON) mapping of setting names to single values, bounded as a scenario is."""
    try:
        root = yaml.compose(text, Loader=yamlfile.Loader)
        if root is None:
            raise Problem(1, "empty (a mapping of settings, e.g. acks: all)")
        if not isinstance(root, yaml.MappingNode):
            raise Problem(root.start_mark.line + 1, "must be a mapping of settings (e.g. acks: all)")
        loader = yamlfile.Loader("")
        loader.flatten_mapping(root)
        out = []
        for key_node, value_node in root.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise Problem(key_node.start_mark.line + 1, f"{key!r:.60} is not a setting name")
            out.append((key, loader.construct_object(value_node, deep=True), key_node.start_mark.line + 1))
        return out
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        what = " ".join(filter(None, (getattr(e, "context", None), getattr(e, "problem", None)))) or str(e)
        raise Problem(mark.line + 1 if mark else None, f"yaml: {' '.join(what.split())[:300]}") from None
    except (ValueError, TypeError, RecursionError) as e:
        raise Problem(None, f"yaml: cannot read a value ({' '.join(str(e).split())[:300]})") from None
