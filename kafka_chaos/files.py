"""Reading input files of a run directory: regular files only, bounded in size, errors naming the path."""

import json
import os
import stat
from pathlib import Path

from .errors import UsageError


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """Return at most `limit` bytes of the regular file at `path`; a symlink, FIFO, device or larger file is refused.

    O_NOFOLLOW refuses a symlink in the last component and O_NONBLOCK keeps a FIFO from blocking the open;
    reading limit+1 bytes tells an over-long file apart without trusting st_size (e.g. /proc files).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise UsageError(f"{path}: {what} not found") from None
    except OSError as e:
        if os.path.islink(path):
            raise UsageError(f"{path}: {what} is a symlink, not a regular file") from None
        raise UsageError(f"{path}: cannot read {what}: {e.strerror or e}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UsageError(f"{path}: {what} is not a regular file")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as e:
        raise UsageError(f"{path}: cannot read {what}: {e.strerror or e}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise UsageError(f"{path}: {what} is larger than {limit} bytes")
    return b"".join(chunks)


def read_json(path: Path, limit: int, what: str):
    """The JSON document in the regular file at `path` (UTF-8, at most `limit` bytes); UsageError naming the path."""
    raw = read_bounded(path, limit, what)
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise UsageError(f"{path}: {what} is not UTF-8 text (byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise UsageError(f"{path}:{e.lineno}: {what} is not valid JSON ({e.msg})") from None
    except ValueError:   # an integer of more than 4300 digits (Python's limit on int conversion)
        raise UsageError(f"{path}: {what} holds a number too long to read") from None
    except RecursionError:
        raise UsageError(f"{path}: {what} is nested too deeply") from None


def write_atomic(path: Path, text: str, private: bool = False) -> None:
    """Write `text` to `path` through a temporary file beside it and a rename, so a reader never sees half a
    file; `private` creates it readable by its owner only from the first byte (raw client settings)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    if private:
        os.chmod(tmp, 0o600)   # an older tmp file keeps its mode through O_TRUNC
    tmp.replace(path)
