"""The wheel ships the policies, reference data and CLI, and finds them installed."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_contains_and_finds_policies(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
            "--quiet", "--wheel-dir", str(tmp_path / "dist"), str(ROOT),
        ],
        check=True,
        cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("wresgov-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for expected in (
        "cli.py",
        "commands/tables.py",
        "governance/_policies/ingest.yaml",
        "governance/_policies/access.yaml",
        "governance/data/reference.yaml",
        "audit/__init__.py",
        "synthetic/__init__.py",
    ):
        assert expected in names, expected
    assert not any(name.startswith("tests/") for name in names)

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
            "--target", str(target), str(wheel),
        ],
        check=True,
    )  # fmt: skip
    probe = (
        "from governance.policy_files import default_policy_dir; "
        "from governance.reference import load_reference; "
        "print(default_policy_dir()); print(len(load_reference().bodies))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    output = subprocess.run(
        [sys.executable, "-c", probe],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    ).stdout.split()
    assert output == [str(target / "governance" / "_policies"), "12"]
