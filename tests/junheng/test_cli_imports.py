"""The CLI answers at once: importing it, and the everyday commands, load none of the heavy
libraries (Prefect, matplotlib, the web stack, Alembic …); only the commands that use them do.

Each check runs in a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("prefect", "matplotlib", "fastapi", "uvicorn", "starlette", "docx", "apscheduler", "aiosmtplib",
         "jinja2")
# on top of HEAVY, what `task list` and `task --help` need not load either
NOT_FOR_TASKS = HEAVY + ("openpyxl", "numpy", "alembic", "typer.rich_utils")

RUN = """
import atexit, json, sys
def report():
    sys.__stderr__.write("LOADED=" + json.dumps(sorted(sys.modules)) + "\\n")
atexit.register(report)
from junheng.cli import app
sys.argv[0] = "junheng"
app(sys.argv[1:])
"""


def _run(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess, set[str]]:
    done = subprocess.run([sys.executable, "-c", RUN, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    line = next(line for line in done.stderr.splitlines() if line.startswith("LOADED="))
    return done, set(json.loads(line.removeprefix("LOADED=")))


def _loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(p for p in packages if any(m == p or m.startswith(p + ".") for m in modules))


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return dict(os.environ, JUNHENG_DATABASE_URL=f"sqlite:///{tmp_path}/junheng.db",
                JUNHENG_DATA_DIR=str(tmp_path), DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")


def test_importing_the_cli_loads_no_heavy_library(env: dict[str, str]) -> None:
    code = "import json, sys, junheng.cli; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    modules = set(json.loads(done.stdout))
    assert _loaded(modules, NOT_FOR_TASKS) == []
    # and no command module either: each is imported when the command line names it
    assert sorted(m for m in modules if m.startswith("junheng.cli.") and m not in
                  {"junheng.cli.zh"}) == []


def test_task_commands_load_only_what_they_use(env: dict[str, str]) -> None:
    init = subprocess.run([sys.executable, "-m", "junheng.cli", "campaign", "init", "examples/plan.yaml"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stderr
    listed, modules = _run(["task", "list"], env)
    assert listed.returncode == 0, listed.stderr
    assert "任务（8 项）" in listed.stdout  # the plan's preparatory tasks, made by campaign init (issue 12)
    assert _loaded(modules, NOT_FOR_TASKS) == []

    helped, modules = _run(["task", "--help"], env)
    assert helped.returncode == 0 and "用法：junheng task" in helped.stdout
    assert _loaded(modules, HEAVY + ("alembic",)) == []


def test_selfcheck_with_a_missing_file_fails_before_prefect_starts(env: dict[str, str]) -> None:
    done, modules = _run(["selfcheck", "/nonexistent/schools.xlsx"], env)
    assert done.returncode == 2
    assert "找不到文件" in done.stderr and "/nonexistent/schools.xlsx" in done.stderr
    assert _loaded(modules, ("prefect", "flows")) == []


def test_the_command_list_imports_no_command(env: dict[str, str]) -> None:
    """`junheng --help`, a newcomer's first command, lists every command from its line in COMMANDS."""
    done, modules = _run(["--help"], env)
    assert done.returncode == 0, done.stderr
    assert "backup" in done.stdout and "自查自评" in done.stdout
    assert _loaded(modules, HEAVY) == []
    assert sorted(m for m in modules if m.startswith("junheng.cli.") and m not in
                  {"junheng.cli.zh", "junheng.cli.logs", "junheng.cli.calendar"}) == []


def test_each_listed_line_is_the_commands_own_help() -> None:
    """The line `junheng --help` shows for a command (kept in COMMANDS) equals the command's help."""
    from junheng.cli import COMMANDS, _LazyGroup, app
    import typer

    root = typer.main.get_command(app)
    assert isinstance(root, _LazyGroup)
    ctx = root.context_class(root, info_name="junheng")
    for name, (_, _, line) in COMMANDS.items():
        command = root.get_command(ctx, name)
        first_paragraph = (command.short_help or command.help or "").strip().split("\n\n")[0]
        assert " ".join(first_paragraph.split()) == line, name  # the list shows the first paragraph
