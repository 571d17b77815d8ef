"""Files read with their SHA-256 are kept while their stat is unchanged."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from governance.verified_files import VerifiedFiles


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_bytes_come_with_their_digest_and_are_kept(tmp_path: Path) -> None:
    files = VerifiedFiles()
    path = _write(tmp_path / "a.csv", b"x,1\n")
    data, digest = files.read(path)
    assert (data, digest) == (b"x,1\n", hashlib.sha256(b"x,1\n").hexdigest())
    assert files.read(path)[0] is data  # from memory: the same object


def test_a_changed_stat_reads_again(tmp_path: Path) -> None:
    files = VerifiedFiles()
    path = _write(tmp_path / "a.csv", b"x,1\n")
    first = files.read(path)
    stat = path.stat()
    _write(path, b"x,2\n")  # same size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same mtime: ctime moved
    assert files.read(path) == (b"x,2\n", hashlib.sha256(b"x,2\n").hexdigest())
    assert files.read(path) != first
    path.unlink()
    with pytest.raises(FileNotFoundError):
        files.read(path)


def test_large_files_are_not_kept_and_the_oldest_go_first(tmp_path: Path) -> None:
    files = VerifiedFiles(max_bytes=10, max_file_bytes=6)
    big = _write(tmp_path / "big", b"b" * 7)
    assert files.read(big)[0] is not files.read(big)[0]
    one, two, three = (_write(tmp_path / n, n.encode() * 4) for n in ("1", "2", "3"))
    kept_one = files.read(one)[0]
    kept_two = files.read(two)[0]
    assert files.read(one)[0] is kept_one  # one is now the most recent
    files.read(three)  # 12 bytes > 10: two, the least recent, goes
    assert files.read(one)[0] is kept_one
    assert files.read(two)[0] is not kept_two
