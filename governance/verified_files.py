"""Released files read with their SHA-256, kept in memory while unchanged on disk.

A released file is checked against the manifest before every download, and reading
and hashing it again each time costs more than the rest of the request. So the bytes
read are kept with their SHA-256, keyed by the file's path and its stat (device,
inode, size, modification and change times). A later read that finds the same stat
gets those bytes and that digest: always a true pair, and the caller still compares
the digest with the manifest's, so what is served is exactly what was checked. Any
change to the stat (a file rewritten, replaced, truncated or touched) reads and hashes
the file again, so a file changed on disk is refused as soon as it no longer matches.

Owns only the cache: it never decides whether a digest is the right one, and never
logs or prints.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Final

#: The most bytes kept in memory, and the largest file kept (bigger ones are read,
#: hashed and returned each time).
MAX_BYTES: Final = 64 * 1024 * 1024
MAX_FILE_BYTES: Final = 8 * 1024 * 1024

_Stat = tuple[int, int, int, int, int]


@dataclass(frozen=True)
class _Kept:
    stat: _Stat
    data: bytes
    sha256: str


def _stat_key(path: Path) -> _Stat:
    found = os.stat(path)
    return (
        found.st_dev,
        found.st_ino,
        found.st_size,
        found.st_mtime_ns,
        found.st_ctime_ns,
    )


class VerifiedFiles:
    """A bounded cache (least recently used out first) of files and their digests."""

    def __init__(
        self, max_bytes: int = MAX_BYTES, max_file_bytes: int = MAX_FILE_BYTES
    ) -> None:
        self._max_bytes = max_bytes
        self._max_file_bytes = max_file_bytes
        self._kept: OrderedDict[Path, _Kept] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def read(self, path: Path) -> tuple[bytes, str]:
        """The file's bytes and their hex SHA-256, from memory if its stat is unchanged.

        Raises:
            OSError: the file cannot be read.
        """
        stat = _stat_key(path)
        with self._lock:
            kept = self._kept.get(path)
            if kept is not None and kept.stat == stat:
                self._kept.move_to_end(path)
                return kept.data, kept.sha256
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        # Keyed by the stat taken before the read: if the file changed in between,
        # the next read sees a new stat and reads it again.
        self._keep(path, _Kept(stat, data, digest))
        return data, digest

    def _keep(self, path: Path, kept: _Kept) -> None:
        with self._lock:
            old = self._kept.pop(path, None)
            if old is not None:
                self._size -= len(old.data)
            if len(kept.data) > self._max_file_bytes:
                return
            self._kept[path] = kept
            self._size += len(kept.data)
            while self._size > self._max_bytes:
                _, dropped = self._kept.popitem(last=False)
                self._size -= len(dropped.data)
