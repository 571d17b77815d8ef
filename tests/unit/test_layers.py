"""The dependency rules of docs/architecture.md, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names
    }
    modules |= {
        n.module
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module and not n.level
    }
    return {module.split(".")[0] for module in modules}


def test_core_never_imports_front_ends_or_fake_data() -> None:
    paths = [*(ROOT / "governance").rglob("*.py"), *(ROOT / "audit").rglob("*.py")]
    assert paths
    for path in paths:
        roots = imported_roots(path)
        relative = path.relative_to(ROOT)
        assert not roots & {
            "cli",
            "click",
            "synthetic",
            "faker",
            "fastapi",
            "starlette",
        }, relative
        assert "sqlalchemy" not in roots or "storage" in relative.parts, relative
        assert "governance" not in roots or relative.parts[0] != "audit", relative


def test_the_api_is_a_thin_layer_over_the_service() -> None:
    paths = list((ROOT / "api").rglob("*.py"))
    assert paths
    for path in paths:
        roots = imported_roots(path)
        relative = path.relative_to(ROOT)
        assert not roots & {"cli", "click", "synthetic", "faker", "sqlalchemy"}, (
            relative
        )
        storage = {
            n.module
            for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.ImportFrom) and n.module
        }
        assert not any(m.startswith("governance.storage") for m in storage), relative


def test_the_command_line_is_a_thin_layer_over_the_service() -> None:
    paths = [ROOT / "cli.py", *(ROOT / "commands").rglob("*.py")]
    assert len(paths) > 1
    for path in paths:
        roots = imported_roots(path)
        relative = path.relative_to(ROOT)
        assert not roots & {"sqlalchemy", "fastapi", "starlette", "faker"}, relative
        modules = {
            n.module
            for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(n, ast.ImportFrom) and n.module
        }
        assert not any(m.startswith("governance.storage") for m in modules), relative
        if relative.parts[0] == "commands":
            assert not roots & {"cli", "synthetic"}, relative


def test_core_never_prints_or_exits() -> None:
    for path in (ROOT / "governance").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"print", "exit", "quit"}, path
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert (node.value.id, node.attr) != ("sys", "exit"), path
