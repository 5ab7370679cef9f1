"""Atomic writes, locks and crash recovery: a reader sees the old file (or folder) or the whole new one.

Every temporary is a hidden sibling named `.<name>.<kind>-<host>-<pid>-<random>`, so writers on several
machines sharing a folder (Ray workers) never meet, and a temporary whose process is gone can be
recognised and removed by the next run (`remove_stale`). Folders are swapped in under an exclusive lock
(`publish_dir`); a kill between its two renames is undone by `recover_dir`.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import socket
import stat
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pandas as pd

from ..errors import Explained

STALE_SECONDS = 24 * 3600  # a temporary of another machine is left alone for this long
TEMP_NAME = re.compile(r"\.(tmp|old)-(?P<host>.+)-(?P<pid>\d+)-[0-9a-f]{12}$")


def temp_name(path: Path, kind: str = "tmp") -> Path:
    """A hidden sibling of `path` unique to this writer, naming its host and process."""
    return path.with_name(f".{path.name}.{kind}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:12]}")


def owner_gone(temp: Path) -> bool:
    """Whether the process that made `temp` has ended (another host's: after STALE_SECONDS)."""
    match = TEMP_NAME.search(temp.name)
    if match is None:
        return False  # not one of ours
    if match["host"] != socket.gethostname():
        return time.time() - temp.lstat().st_mtime > STALE_SECONDS
    try:
        os.kill(int(match["pid"]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def leftovers(folder: Path, name: str, kind: str) -> list[Path]:
    """Temporaries of `kind` ("tmp" or "old") left beside `folder/name`, oldest first."""
    found = [p for p in folder.glob(f".{name}.{kind}-*") if TEMP_NAME.search(p.name)]
    return sorted(found, key=lambda p: p.lstat().st_mtime)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_stale(folder: Path) -> list[Path]:
    """Remove every temporary in `folder` whose writer has ended; returns what was removed."""
    removed = [p for p in folder.glob(".*.tmp-*") if owner_gone(p)]
    for path in removed:
        _remove(path)
    return removed


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A unique hidden sibling to write, renamed over `path` on success and removed on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write `text` to `path` atomically."""
    with replacing(path) as tmp:
        tmp.write_text(text)


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """Write `frame` (without its index) to `path` atomically."""
    with replacing(path) as tmp:
        frame.to_parquet(tmp, index=False)


def write_with(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write `path` atomically through `write(file)` (e.g. numpy's savez, which would rename a path it is given)."""
    with replacing(path) as tmp, open(tmp, "wb") as f:
        write(f)


class UnsafeLock(Explained, ValueError):
    """A lock path that is not a plain file of ours (a symlink, a folder, a device): never opened for writing."""


def _open_lock(lock_file: Path) -> IO[str]:
    """Open (or create) the lock without following a symlink, and only if it is a regular file."""
    try:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
    except OSError as err:
        if lock_file.is_symlink() or err.errno in (errno.ELOOP, errno.EISDIR):
            kind = "a symbolic link" if lock_file.is_symlink() else "a folder"
            raise UnsafeLock(
                f"{lock_file} is {kind}, not a lock file of pythia-repro's: it is left untouched; "
                "remove it and run again"
            ) from None
        raise
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
        os.close(fd)
        kind = "not a regular file" if not stat.S_ISREG(info.st_mode) else f"a hard link ({info.st_nlink} names)"
        raise UnsafeLock(
            f"{lock_file} is {kind}, not a lock file of pythia-repro's: it is left untouched; remove it and run again"
        )
    return os.fdopen(fd, "r+")


@contextmanager
def locked(lock_file: Path, what: str) -> Iterator[None]:
    """Hold an exclusive lock on `lock_file` (created if missing); say so and wait while another process holds it.

    The lock is released by the kernel when its holder dies, so a killed process never blocks the next run. A
    lock path that is a symlink or not a regular file is refused (`UnsafeLock`), never followed or truncated."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with _open_lock(lock_file) as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            print(f"{what}: {holder} is at it already; waiting for it to finish", file=sys.stderr, flush=True)
            fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        f.truncate()
        f.write(f"process {os.getpid()} on {socket.gethostname()}")
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def lock_file(path: Path) -> Path:
    """The lock that guards replacing `path`."""
    return path.with_name(f".{path.name}.lock")


def recover_dir(final: Path) -> list[str]:
    """Undo what a crash left around folder `final`; call with its lock held. Returns what was done.

    A kill between `publish_dir`'s two renames leaves no `final` and the previous folder under an `.old-*`
    name: it is renamed back. Other `.old-*` folders and temporaries of ended writers are removed."""
    done = []
    olds = leftovers(final.parent, final.name, "old")
    if not final.exists() and olds:
        olds.pop().rename(final)
        done.append(f"restored {final} from the copy a crashed publish left aside")
    for old in olds:
        _remove(old)
        done.append(f"removed leftover {old.name}")
    for tmp in leftovers(final.parent, final.name, "tmp"):
        if owner_gone(tmp):
            _remove(tmp)
            done.append(f"removed leftover {tmp.name}")
    return done


def swap_in(tmp: Path, final: Path) -> None:
    """Replace folder `final` by `tmp`: old folder renamed aside, new one in, old one removed (hold the lock)."""
    old = temp_name(final, "old") if final.exists() else None
    if old is not None:
        final.rename(old)
    try:
        tmp.rename(final)
    except Exception:
        if old is not None:
            old.rename(final)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def publish_dir(tmp: Path, final: Path) -> None:
    """Replace folder `final` by `tmp` under `final`'s lock, first undoing what a crash left there."""
    with locked(lock_file(final), f"publishing {final}"):
        for line in recover_dir(final):
            print(line, file=sys.stderr)
        swap_in(tmp, final)
