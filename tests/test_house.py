"""The house rules the code can check itself (import-linter checks the layers in .ci/run): no module
imports another module's private name (a leading underscore) across the project's packages."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("tracker", "flows", "notifications", "api", "junheng")


def private_imports(root: Path = ROOT) -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
                    found += [f"{path.relative_to(root)}: from {node.module} import {alias.name}"
                              for alias in node.names if alias.name.startswith("_") and not alias.name.startswith("__")]
    return found


def test_no_module_imports_a_private_name_of_another():
    assert private_imports() == []


def test_the_check_finds_one(tmp_path):
    package = tmp_path / "tracker"
    package.mkdir()
    (package / "a.py").write_text("from tracker.b import _hidden, visible\nfrom os import _exit\n", encoding="utf-8")
    assert private_imports(tmp_path) == ["tracker/a.py: from tracker.b import _hidden"]


def rooms_outside_the_floors(root: Path = ROOT) -> list[str]:
    """Every package and module directly under tracker/ stands on a floor of the `tracker-rooms`
    contract in .importlinter: a room left off it would be free to import anything."""
    text = (root / ".importlinter").read_text(encoding="utf-8")
    contract = text.split("[importlinter:contract:tracker-rooms]", 1)[1].split("\n[", 1)[0]
    layers = contract.split("layers =", 1)[1].split("ignore_imports", 1)[0]
    listed = {name.strip() for line in layers.splitlines() for name in line.split("|") if name.strip()}
    rooms = {f"tracker.{p.stem if p.suffix else p.name}" for p in (root / "tracker").iterdir()
             if (p.suffix == ".py" and p.stem != "__init__") or (p.is_dir() and (p / "__init__.py").exists())}
    return sorted(rooms - listed - {"tracker.migrations"})


def test_every_tracker_room_stands_on_a_floor():
    assert rooms_outside_the_floors() == []
