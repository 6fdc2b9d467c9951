"""The CLI's one catch (junheng.cli): a tracker error from any command is printed as 「错误：…」 on
stderr, without a traceback, and the command exits with its kind's code."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from junheng.cli import EXIT_CODE_OF_KIND, app
from tracker.errors import ErrorKind, JunhengError
from tracker.settings import get_settings

runner = CliRunner()


def test_the_scheduler_refuses_an_in_memory_database_as_unsupported(monkeypatch, tmp_path):
    monkeypatch.setenv("JUNHENG_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("JUNHENG_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["scheduler"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == EXIT_CODE_OF_KIND[ErrorKind.unsupported] == 6, result.output
    assert result.stderr.startswith("错误：调度进程需要数据库文件")
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_every_kind_leaves_a_command_with_its_code_and_every_line(db_url, monkeypatch, kind):
    def failing(session, code):
        raise JunhengError("数据库暂时无法使用：\n第一条原因\n第二条原因", kind=kind)

    monkeypatch.setattr("junheng.cli.task.resolve_campaign", failing)
    result = runner.invoke(app, ["task", "list"])
    assert result.exit_code == EXIT_CODE_OF_KIND[kind], result.output
    assert result.stderr.splitlines() == ["错误：数据库暂时无法使用：", "  第一条原因", "  第二条原因"]
    assert isinstance(result.exception, SystemExit)  # caught and turned into the exit, not a crash
