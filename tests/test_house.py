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


# --- queries live in tracker ---------------------------------------------------------------------
# Pages, API, CLI, flows and notifications call named tracker functions; they build no SQL. A
# Session as a type, an engine, make_url and the database's exceptions are fine.

OUTER = ("api", "flows", "notifications", "junheng")
SQL_LIBRARIES = ("sqlalchemy", "sqlmodel")
ALLOWED_SQL_NAMES = frozenset({"Session", "Engine", "Connection", "make_url", "create_engine", "NullPool"})
QUERY_METHODS = frozenset({"exec", "execute", "query"})  # session.exec(…), session.execute(…), ….query(…)

# Files other branches are rewriting; the lead removes each line when their work is merged.
NOT_YET_MOVED: dict[str, str] = {
}


def query_building(source: str) -> list[str]:
    """What in one module's source builds a query: an import of a query construct from SQLAlchemy
    or SQLModel (or the libraries themselves), ``select(…)``, ``func.…``, ``….exec(…)``,
    ``….execute(…)`` and ``….query(…)``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names if a.name in SQL_LIBRARIES]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in SQL_LIBRARIES:
            if node.module != "sqlalchemy.exc":
                found += [f"line {node.lineno}: from {node.module} import {a.name}" for a in node.names
                          if a.name not in ALLOWED_SQL_NAMES]
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "select":
                found.append(f"line {node.lineno}: select(…)")
            elif isinstance(func, ast.Attribute) and (func.attr in QUERY_METHODS or func.attr == "select"):
                found.append(f"line {node.lineno}: .{func.attr}(…)")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "func":
            found.append(f"line {node.lineno}: func.{node.attr}")
    return sorted(found, key=lambda hit: (int(hit.split()[1].rstrip(":")), hit))


def queries_outside_tracker(root: Path = ROOT) -> dict[str, list[str]]:
    found = {}
    for package in OUTER:
        for path in sorted((root / package).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            if name not in NOT_YET_MOVED and (hits := query_building(path.read_text(encoding="utf-8"))):
                found[name] = hits
    return found


def test_no_query_is_built_outside_tracker():
    assert queries_outside_tracker() == {}


def test_the_files_not_yet_moved_still_build_queries():
    """An allowance outlives its need only until the query moves: then this fails, and the line goes."""
    assert [name for name in NOT_YET_MOVED if not query_building((ROOT / name).read_text(encoding="utf-8"))] == []


def test_the_query_check_finds_each_kind(tmp_path):
    package = tmp_path / "api"
    package.mkdir()
    (package / "a.py").write_text(
        "from sqlalchemy import func, text\n"
        "from sqlalchemy.exc import IntegrityError\n"
        "from sqlmodel import Session, select\n"
        "import sqlalchemy as sa\n"
        "def f(session: Session):\n"
        "    session.exec(select(A).where(func.lower(A.name) == 'x'))\n"
        "    session.execute(sa.select(A))\n"
        "    session.query(A)\n", encoding="utf-8")
    (package / "b.py").write_text("from sqlmodel import Session\nfrom sqlalchemy.engine import Engine\n"
                                  "def g(session: Session, engine: Engine):\n    return session.get(A, 1)\n",
                                  encoding="utf-8")
    assert queries_outside_tracker(tmp_path) == {"api/a.py": [
        "line 1: from sqlalchemy import func", "line 1: from sqlalchemy import text",
        "line 3: from sqlmodel import select", "line 4: import sqlalchemy",
        "line 6: .exec(…)", "line 6: func.lower", "line 6: select(…)",
        "line 7: .execute(…)", "line 7: .select(…)", "line 8: .query(…)",
    ]}
