"""`junheng materials`: the 资料清单 (issue 13 §4) — see it with what is missing, export it, import
the office's own version, tag an evidence file with the item it meets."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from sqlmodel import Session

from junheng.cli.common import campaign_or_exit
from tracker.db import get_engine, migrate, session_scope
from tracker.events.service import SYSTEM_ACTOR
from tracker.evidence.service import EvidenceNotFound, get_evidence
from tracker.materials.checklist import checklist_yaml
from tracker.materials.queries import material_status
from tracker.materials.service import campaign_checklist, import_checklist, tag_evidence
from tracker.org.service import find_person

materials_app = typer.Typer(help="资料清单：各指标应备的佐证材料、缺项，导入本县清单，标注文件对应的资料项",
                            no_args_is_help=True)
CAMPAIGN = typer.Option(None, "--campaign", "-c", help="创建工作编号；只有一个创建工作时可不写")
AS = typer.Option(None, "--as", help="操作人姓名（方案中的人员）；不写则记为「系统」")


def _actor(session: Session, campaign, name: str | None) -> str:
    return find_person(session, campaign, name).name if name else SYSTEM_ACTOR


@materials_app.command("show")
def show_command(indicator: str | None = typer.Option(None, "--indicator", "-i", help="只看一项指标"),
                 missing_only: bool = typer.Option(False, "--missing", help="只列缺少文件的必备资料"),
                 as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
                 campaign_code: str | None = CAMPAIGN) -> None:
    """列出资料清单：每项指标应备的资料、必备或可选、已有文件数；必备而无文件的标为「缺」。"""
    migrate()
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        checklist = campaign_checklist(session, campaign)
        blocks = material_status(session, campaign, indicator, checklist=checklist)
    if as_json:
        print(json.dumps({"title": checklist.title, "illustrative": checklist.illustrative,
                          "missing_required": sum(len(b.missing) for b in blocks),
                          "indicators": [{"indicator": b.code, "title": b.title, "units": b.units,
                                          "items": [{"id": s.item.id, "title": s.item.title, "required": s.item.required,
                                                     "files": s.files, "missing": s.missing} for s in b.items]}
                                         for b in blocks]}, ensure_ascii=False, indent=2))
        return
    console = Console(soft_wrap=True)
    console.print(f"{escape(checklist.title)}（{checklist.label}；{'办公室导入' if checklist.imported else '标准附带'}）")
    for block in blocks:
        rows = block.missing if missing_only else block.items
        if not rows:
            continue
        console.print(f"\n[bold]指标 {escape(block.code)} {escape(block.title)}[/bold]  必备 {block.required_met}/{block.required}"
                      f"  责任单位：{escape('、'.join(block.units) or '—')}")
        for s in rows:
            state = "[red]缺[/red]" if s.missing else (f"{s.files} 个文件" if s.files else "—")
            console.print(f"  {escape(s.item.id):8} {'必备' if s.item.required else '可选'}  {state}  {escape(s.item.title)}")
    console.print(f"\n必备资料缺 {sum(len(b.missing) for b in blocks)} 项。")


@materials_app.command("export")
def export_command(out: Path = typer.Argument(..., help="写出的 YAML 文件", show_default=False),
                   campaign_code: str | None = CAMPAIGN) -> None:
    """把当前资料清单写成 YAML 文件，供办公室修改后用 junheng materials import 导入。"""
    migrate()
    with Session(get_engine()) as session:
        checklist = campaign_checklist(session, campaign_or_exit(session, campaign_code))
    out.write_text(checklist_yaml(checklist), encoding="utf-8")
    Console(soft_wrap=True).print(f"[green]已写出[/green] {escape(str(out))}（{len(checklist.items)} 项）")


@materials_app.command("import")
def import_command(file: Path = typer.Argument(..., help="资料清单 YAML 文件", show_default=False),
                   actor: str | None = AS, campaign_code: str | None = CAMPAIGN) -> None:
    """导入本县的资料清单（整体校验，有误时逐行列出且不作任何更改），替换现有清单。"""
    migrate()
    with session_scope() as session:
        campaign = campaign_or_exit(session, campaign_code)
        checklist = import_checklist(session, campaign, file, _actor(session, campaign, actor))
        count, required = len(checklist.items), sum(1 for i in checklist.items if i.required)
    Console(soft_wrap=True).print(f"[green]已导入[/green] 资料清单 {count} 项（必备 {required} 项）")


@materials_app.command("tag")
def tag_command(evidence_id: int = typer.Argument(..., help="佐证材料编号", show_default=False),
                item: str = typer.Argument("", help="资料项编号（如 5-1）；不写则取消标注"),
                actor: str | None = AS, campaign_code: str | None = CAMPAIGN) -> None:
    """标注一个佐证材料文件对应的资料项（须属于该任务的指标）。"""
    migrate()
    with session_scope() as session:
        campaign = campaign_or_exit(session, campaign_code)
        evidence = get_evidence(session, evidence_id)
        if evidence.campaign_id != campaign.id:
            raise EvidenceNotFound(f"没有编号为 #{evidence_id} 的佐证材料")
        tag_evidence(session, evidence, item, _actor(session, campaign, actor))
        name = evidence.filename
    Console(soft_wrap=True).print(f"[green]已标注[/green] {escape(name)} → {escape(item)}" if item.strip()
                                  else f"已取消 {escape(name)} 的资料项标注")
