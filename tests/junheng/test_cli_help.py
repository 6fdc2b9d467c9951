"""Every word the `junheng` command shows is Chinese: each command's --help, and a usage error of
each (an unknown option; a required option or argument left out; a misspelt subcommand).

The check looks for English prose: two or more English words in a row, once option names,
metavars (TEXT, {task_id}, <bool>), environment variables, file names, command names and a short
list of names (SQLite, Prefect, Ctrl+C …) are taken out. "Show this message and exit",
"Missing option" and "Did you mean" all fail it.
"""

from __future__ import annotations

import re

import pytest
import typer.main
from typer import _click
from typer.core import TyperGroup
from typer.testing import CliRunner

from junheng.cli import app

ROOT = typer.main.get_command(app)
# names and abbreviations a Chinese text may carry as they are
ALLOWED = {"junheng", "SQLite", "PostgreSQL", "Prefect", "SMTP", "URL", "ID", "CSV", "csv", "xlsx", "docx",
           "pdf", "PDF", "html", "HTML", "json", "JSON", "yaml", "YAML", "Word", "Excel", "Ctrl", "C", "uvicorn",
           "chinese", "calendar", "chinese-calendar", "LibreOffice", "Markdown", "true", "false", "bool", "http",
           "https", "localhost", "eml", "ISO", "A", "B", "C", "Asia", "Shanghai", "UTC"}
WORD = r"[A-Za-z][A-Za-z'’]*"
PROSE = re.compile(rf"{WORD}(?:[ \t,.:;!?()]+{WORD})+")
NOT_PROSE = [
    re.compile(r"(?<![\w])--?[A-Za-z][\w-]*"),  # options
    re.compile(r"[{<][^}>]*[}>]"),  # metavars {task_id}, <bool>
    re.compile(r"\b[A-Z][A-Z0-9_]{1,}\b"),  # metavars and environment variables (TEXT, JUNHENG_SMTP_HOST)
    re.compile(r"\S+\.(?:tar\.gz|xlsx|csv|yaml|yml|docx|pdf|html|json|eml|db|py)\b"),  # file names
    re.compile(r"\w+://\S+"),  # URLs
    re.compile(r"\S*[/@]\S*"),  # paths, addresses
]


def _walk(command: _click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, TyperGroup):
        ctx = _click.Context(command, info_name=path[-1] if path else "junheng")
        for name in command.list_commands(ctx):
            yield from _walk(command.get_command(ctx, name), (*path, name))


COMMANDS = list(_walk(ROOT))
NAMES = {name for path, _ in COMMANDS for name in path}


def english_prose(text: str) -> list[str]:
    for pattern in NOT_PROSE:
        text = pattern.sub(" ", text)
    found = []
    for match in PROSE.finditer(text):
        words = re.findall(WORD, match.group())
        run = 0
        for word in words:
            run = 0 if word in ALLOWED or word in NAMES else run + 1
            if run >= 2:
                found.append(match.group())
                break
    return found


def _invoke(args: list[str]):
    return CliRunner().invoke(app, args, prog_name="junheng")


def _usage_errors(path: tuple[str, ...], command: _click.Command) -> list[list[str]]:
    cases = [[*path, "--no-such-option"]]
    if isinstance(command, TyperGroup):
        ctx = _click.Context(command)
        name = command.list_commands(ctx)[0]
        cases.append([*path, name[:-1] + "x" + name[-1] if len(name) > 2 else name + "x"])  # misspelt
    elif any(param.required for param in command.params):
        cases.append(list(path))
    return cases


def test_the_check_catches_click_and_typer_english() -> None:
    assert english_prose("--help  -h  Show this message and exit.")
    assert english_prose("No such command 'lst'. Did you mean 'list'?")
    assert english_prose("Missing option '--as'.")
    assert english_prose("Got unexpected extra argument (2)")
    assert english_prose("Invalid value for '--limit': Input should be a valid integer")
    assert not english_prose("用法：junheng task list [OPTIONS] {task_id} <bool> --as TEXT 见 examples/plan.yaml")
    assert not english_prose("数据库：postgresql+psycopg://postgres:***@127.0.0.1/db，或 SQLite")


@pytest.mark.parametrize("path", [path for path, _ in COMMANDS], ids=lambda p: " ".join(p) or "junheng")
def test_help_is_chinese(path: tuple[str, ...]) -> None:
    result = _invoke([*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "用法：" in result.output and "Usage" not in result.output
    assert english_prose(result.output) == [], result.output
    assert "list[" not in result.output, result.output  # a repeatable option's type is shown in Chinese


@pytest.mark.parametrize("path,command", COMMANDS, ids=lambda p: " ".join(p) if isinstance(p, tuple) else "")
def test_usage_errors_are_chinese(path: tuple[str, ...], command: _click.Command) -> None:
    for args in _usage_errors(path, command):
        result = _invoke(args)
        assert result.exit_code == 2, (args, result.output)
        assert "错误" in result.output and "Usage" not in result.output
        assert english_prose(result.output) == [], (args, result.output)


def test_a_misspelt_command_is_suggested_in_chinese() -> None:
    result = _invoke(["task", "lst"])
    assert result.exit_code == 2
    assert "没有命令 'lst'" in result.output and "是否想用 'list'" in result.output
    result = _invoke(["tsak"])
    assert "是否想用 'task'" in result.output


def test_missing_option_is_named_in_chinese() -> None:
    result = _invoke(["task", "submit", "12"])
    assert result.exit_code == 2
    assert "缺少选项 '--as'" in result.output
