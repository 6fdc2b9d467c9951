"""`junheng template FILE`: writes the fill-in template and says where."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from junheng.cli import app
from tracker.schooldata.sheet import SheetError, read_school_sheet

runner = CliRunner()


def test_writes_the_template_and_says_where(tmp_path):
    out = tmp_path / "schools.xlsx"
    result = runner.invoke(app, ["template", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()
    assert f"已生成学校数据填报模板：{out.resolve()}" in result.output
    assert "16 个必填列" in result.output
    with pytest.raises(SheetError, match="没有学校数据"):
        read_school_sheet(out)


def test_refuses_to_overwrite_without_force(tmp_path):
    out = tmp_path / "filled.xlsx"
    out.write_bytes(b"a sheet somebody filled in")
    result = runner.invoke(app, ["template", str(out)])
    assert result.exit_code == 2
    assert "已存在" in result.output and "--force" in result.output
    assert out.read_bytes() == b"a sheet somebody filled in"

    result = runner.invoke(app, ["template", str(out), "--force"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"PK")


@pytest.mark.parametrize("name, message", [("schools.csv", "应以 .xlsx 结尾"), ("no/such/dir/s.xlsx", "不存在")])
def test_bad_target_is_a_clear_error_without_traceback(tmp_path, name, message):
    result = runner.invoke(app, ["template", str(tmp_path / name)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / name).exists()
