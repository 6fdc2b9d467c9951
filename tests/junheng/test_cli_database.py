"""Which database a command used is never a mystery: a command that finds no campaign names it
(password masked), a read-only command does not create an empty SQLite file, and the demo ends
with the line that points a new shell at its database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from junheng.cli import app
from junheng.cli.common import database_shown
from tracker.settings import get_settings

runner = CliRunner()


@pytest.fixture
def missing_sqlite(tmp_path: Path, monkeypatch) -> Path:
    path = tmp_path / "nowhere" / "junheng.db"
    monkeypatch.setenv("JUNHENG_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("JUNHENG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


@pytest.mark.parametrize("args", [["campaign", "status"], ["campaign", "list"], ["task", "list"],
                                  ["task", "show", "1"]])
def test_a_read_only_command_does_not_create_the_database(missing_sqlite: Path, args: list[str]) -> None:
    missing_sqlite.parent.mkdir()
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"数据库 sqlite:///{missing_sqlite} 不存在" in result.output
    assert "JUNHENG_DATABASE_URL" in result.output
    assert not missing_sqlite.exists()


def test_no_campaign_names_the_database_looked_at(db_url: str) -> None:
    result = runner.invoke(app, ["campaign", "status"])
    assert result.exit_code == 3  # not found
    assert "数据库中还没有创建工作" in result.output
    assert f"查看的数据库：{database_shown(db_url)}" in result.output.replace("\n", "")


def test_the_database_is_shown_with_its_password_masked(monkeypatch) -> None:
    url = "postgresql+psycopg://junheng:s3cret-pw@db.example:5432/county"
    assert database_shown(url) == "postgresql+psycopg://junheng:***@db.example:5432/county"
    monkeypatch.setenv("JUNHENG_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        assert "s3cret" not in database_shown()
    finally:
        get_settings.cache_clear()


def test_the_demo_ends_with_how_to_reach_its_database(capsys) -> None:
    from junheng.cli.demo import _print_how_to_reach

    _print_how_to_reach("sqlite:////tmp/演示 目录/junheng.db", from_env=False, code="qingchuan-2027")
    out = capsys.readouterr().out
    assert "export JUNHENG_DATABASE_URL='sqlite:////tmp/演示 目录/junheng.db'" in out
    # the demo's database holds a programme and a second county too: the hint names the campaign
    assert out.rstrip().endswith("junheng campaign status --campaign qingchuan-2027")

    _print_how_to_reach("postgresql+psycopg://junheng:s3cret-pw@db.example/county", from_env=True, code="qingchuan-2027")
    out = capsys.readouterr().out
    assert "s3cret" not in out and "postgresql+psycopg://junheng:***@db.example/county" in out
