"""`junheng report`: the 自评报告 and the 申报表 (issue 13 §1–2), and the office's texts."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from sqlmodel import Session

from junheng.cli.common import campaign_or_exit
from notifications.reports import application_docx, self_evaluation_docx
from tracker.db import get_engine, migrate
from tracker.reports.application import write_application_xlsx
from tracker.reports.data import report_data, write_appendix_xlsx
from tracker.reports.texts import SECTIONS, check_section, clear_report_text, set_report_text, texts_of

report_app = typer.Typer(help="申报材料：自评报告、申报表和基本情况表，以及办公室撰写的文字", no_args_is_help=True)

CAMPAIGN = typer.Option(None, "--campaign", "-c", help="创建工作编号；只有一个创建工作时可不写")
OUT = typer.Option(..., "--out", help="写出文件的目录（不存在时新建）")


def _write(path: Path, content: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@report_app.command("self-evaluation")
def self_evaluation_command(out: Path = OUT, campaign_code: str | None = CAMPAIGN) -> None:
    """生成自评报告（.docx，公文格式）：基本情况、主要做法、指标达成情况、存在问题与整改计划、附件。
    数字取自最近一次评估；办公室未填写的文字显示为【待填写】。"""
    migrate()
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        data = report_data(session, campaign)
        path = _write(out / f"{campaign.code}-自评报告.docx", self_evaluation_docx(data))
        appendix = out / f"{campaign.code}-自评报告附件-数据表.xlsx"
        appendix_written = write_appendix_xlsx(session, campaign, data.snapshot_id, appendix)
    missing = [k for k, v in data.texts.items() if v == "【待填写】"]
    Console(soft_wrap=True).print(f"[green]已写出[/green] {escape(str(path))}（第 {data.snapshot_id} 次评估）")
    if appendix_written:
        Console(soft_wrap=True).print(f"[green]已写出[/green] {escape(str(appendix))}（表Ⅱ-2、表Ⅲ、问题清单）")
    else:
        Console(soft_wrap=True).print("附件数据表未另行写出：评估后县级指标已有变动，请先运行 junheng reassess；"
                                      "报告中的附件仍按该次评估。")
    if missing:
        Console(soft_wrap=True).print(f"待填写的部分：{'、'.join(missing)}（junheng report text 部分 --file 文件）")


@report_app.command("application")
def application_command(out: Path = OUT, campaign_code: str | None = CAMPAIGN) -> None:
    """生成申报表和基本情况表（.xlsx 和 .docx）；数据无法填写的栏目标为【待填写】。"""
    migrate()
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        data = report_data(session, campaign)
        xlsx = write_application_xlsx(data, out / f"{campaign.code}-申报表.xlsx")
        docx = _write(out / f"{campaign.code}-申报表.docx", application_docx(data))
    console = Console(soft_wrap=True)
    for path in (xlsx, docx):
        console.print(f"[green]已写出[/green] {escape(str(path))}")


@report_app.command("text")
def text_command(
    section: str = typer.Argument(..., help=f"部分：{'、'.join(SECTIONS)}"),
    file: Path | None = typer.Option(None, "--file", "-f", help="文字文件（UTF-8）；不写则显示当前文字"),
    clear: bool = typer.Option(False, "--clear", help="清除该部分的文字（报告中恢复为【待填写】）"),
    actor: str = typer.Option("办公室", "--by", help="填写人"),
    campaign_code: str | None = CAMPAIGN,
) -> None:
    """查看、填写或清除自评报告某一部分的文字（生成报告时合并进去）。"""
    migrate()
    console = Console(soft_wrap=True)
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        if clear:
            done = clear_report_text(session, campaign, section, actor)
            session.commit()
            console.print("已清除" if done else "该部分本来就没有文字")
            return
        if file is None:
            check_section(section)
            console.print(escape(texts_of(session, campaign.id)[section]))
            return
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            Console(stderr=True, soft_wrap=True).print(f"[red]错误：[/red]无法读取 {escape(str(file))}：{escape(str(error))}")
            raise typer.Exit(2) from None
        set_report_text(session, campaign, section, text, actor)
        session.commit()
        console.print(f"[green]已保存[/green]「{escape(section)}」（{len(text.strip())} 字）")
