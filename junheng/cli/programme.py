"""`junheng programme`: a school programme (示范校, issue 15 §1) beside the county campaign.

    junheng programme init PLAN.yaml
    junheng programme show [--programme CODE]
    junheng programme nominate 学校 --unit 科室 --reason 理由
    junheng programme apply 学校 --score A=45 --score B=44 … --reason 理由
    junheng programme review 学校 --pass|--refuse --reason 意见
    junheng programme publicity seeds|results --from DATE --to DATE
    junheng programme objection seeds|results --text 内容 [--school 学校]
    junheng programme resolve ID --upheld|--dismissed --reason 意见
    junheng programme sheet ROUND --member 姓名 --out FILE.xlsx
    junheng programme score ROUND --member 姓名 (--school 学校 --score A=45 … | --sheet FILE.xlsx)
    junheng programme promote 学校 --practice A --practice B
    junheng programme pair 导师型学校 --school 潜力校 …
    junheng programme task 潜力校 --title 事项 --due DATE
    junheng programme report 学校 --text 进展
    junheng programme awards [--compute]
    junheng programme confirm 学校 [--category 类别]
    junheng programme revoke 学校 --reason 理由
    junheng programme certificates --out FILE.xlsx
    junheng programme notice --out FILE.docx
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from junheng.cli.common import existing_database_or_exit, fail
from tracker.clock import local_today
from tracker.db import get_engine, migrate, session_scope
from tracker.events.service import SYSTEM_ACTOR
from tracker.programmes import service

programme_app = typer.Typer(help="示范校项目：圈定、申请、复核、公示、评审打分、结对帮扶、表彰", no_args_is_help=True)

ProgrammeOption = typer.Option(None, "--programme", "-p", help="示范校项目编号；只有一个项目时可不写")
ActorOption = typer.Option(SYSTEM_ACTOR, "--as", help="记入日志的操作人")
console = Console(soft_wrap=True)


def _session():
    existing_database_or_exit()
    migrate()
    return session_scope(get_engine())


def _write(path: Path, content: bytes) -> None:
    if path.exists() and path.is_dir():
        fail(f"{path} 是一个目录，请给出文件名")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    except OSError as error:
        fail(f"无法写入 {path}：{error}")
    console.print(f"[green]已写出[/green] {escape(str(path))}")


@programme_app.command("init")
def init_command(plan_file: Path = typer.Argument(..., help="示范校方案文件（YAML，以「类型: 示范校」开头）"),
                 actor: str = ActorOption) -> None:
    """按示范校方案建立项目：阶段、评选标准、评审组、表彰规则；学校取自方案或同县的创建工作。"""
    from tracker.plans.programme import load_programme_plan

    plan = load_programme_plan(plan_file)
    migrate()
    with session_scope(get_engine()) as session:
        campaign = service.create_programme(session, plan, actor=actor)
        code, schools = campaign.code, len(service.queries.schools(session, campaign.id))
    console.print(f"已建立示范校项目 [bold]{escape(plan.name)}[/bold]（编号 {escape(code)}，{schools} 所学校）")
    if plan.criteria.illustrative:
        console.print("[yellow]注意：[/yellow]方案的评选标准标明为示例，正式评选前请换成本县的标准")


@programme_app.command("show")
def show_command(programme: str | None = ProgrammeOption) -> None:
    """各校在项目中的角色、申请与复核、各轮评分（汇总后）与表彰类别；公示与异议。"""
    from tracker.programmes import queries
    from tracker.programmes.models import ENTRY_STATUS_NAMES as status
    from tracker.programmes.scoring import round_scores

    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        plan = service.plan_of(campaign)
        roles = service.roles(session, campaign)
        entries = {e.school_id: e for e in queries.entries(session, campaign.id)}
        totals = {r.code: round_scores(session, campaign, r.code) for r in plan.rounds}
        award_of = {a.school_id: a for a in queries.awards(session, campaign.id)}
        table = Table(title=f"{plan.name}（{campaign.code}）")
        for header in ("学校", "角色", "申请/圈定", *(r.name for r in plan.rounds), "表彰"):
            table.add_column(header)
        for school in queries.schools(session, campaign.id):
            entry = entries.get(school.id)
            award = award_of.get(school.id)
            table.add_row(escape(school.name), roles[school.id], status[entry.status] if entry else "",
                          *(f"{totals[r.code][school.id].total:g}" if school.id in totals[r.code] else ""
                            for r in plan.rounds),
                          "" if award is None else award.category + ("（已确认）" if award.confirmed_at else "（待确认）"))
        console.print(table)
        for publicity in queries.publicities(session, campaign.id):
            console.print(f"公示：{service.SUBJECTS[publicity.subject]} {publicity.starts_on} 至 {publicity.ends_on}")
        for objection in queries.objections(session, campaign.id):
            state = "未处理" if objection.resolved_at is None else ("成立" if objection.upheld else "不成立")
            console.print(f"  异议 #{objection.id}（{state}）：{escape(objection.text)}")


@programme_app.command("nominate")
def nominate_command(school: str = typer.Argument(..., help="学校名称"),
                     unit: str = typer.Option(..., "--unit", help="圈定的科室"),
                     reason: str = typer.Option(..., "--reason", help="圈定理由"),
                     programme: str | None = ProgrammeOption, actor: str = ActorOption) -> None:
    """科室圈定标杆种子校（附理由）。"""
    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        service.nominate(session, campaign, school, unit, reason, actor=actor)
    console.print(f"已圈定「{escape(school)}」为标杆种子校")


@programme_app.command("apply")
def apply_command(school: str = typer.Argument(..., help="学校名称"),
                  scores: list[str] = typer.Option(..., "--score", help="自评分，类别编号=分数（每个类别一次）"),
                  reason: str = typer.Option(..., "--reason", help="申请理由"),
                  programme: str | None = ProgrammeOption, actor: str = ActorOption) -> None:
    """未入名单的学校提出申请，附对照评选标准的自评（每校只能申请一次）。"""
    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        service.apply(session, campaign, service.find_school(session, campaign, school),
                      service.parse_points(scores), reason, actor=actor)
    console.print(f"「{escape(school)}」已提出申请，等待复核")


@programme_app.command("review")
def review_command(school: str = typer.Argument(..., help="学校名称"),
                   passed: bool = typer.Option(..., "--pass/--refuse", help="复核达标（--pass）或驳回（--refuse）"),
                   reason: str = typer.Option(..., "--reason", help="复核意见"),
                   programme: str | None = ProgrammeOption, actor: str = ActorOption) -> None:
    """复核学校的申请：达标则列入标杆种子校，不达标则驳回（均须写明意见）。"""
    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        service.review(session, campaign, service.find_school(session, campaign, school), passed, reason, actor=actor)
    console.print(f"「{escape(school)}」复核{'达标，列入标杆种子校' if passed else '不达标，已驳回'}")


@programme_app.command("publicity")
def publicity_command(subject: str = typer.Argument(..., metavar="公示内容", help="seeds（标杆种子校名单）或 results（验收成绩）"),
                      start: str = typer.Option(..., "--from", help="公示开始日期"),
                      end: str = typer.Option(..., "--to", help="公示结束日期"),
                      programme: str | None = ProgrammeOption, actor: str = ActorOption) -> None:
    """公示标杆种子校名单或验收成绩（学校在验收成绩公示开始后可看到本校得分）。"""
    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        service.open_publicity(session, campaign, subject, service.parse_day(start, "--from"),
                               service.parse_day(end, "--to"), actor=actor)
    console.print(f"已公示{service.SUBJECTS.get(subject, subject)}：{start} 至 {end}")


@programme_app.command("objection")
def objection_command(subject: str = typer.Argument(..., metavar="公示内容", help="seeds 或 results"),
                      text: str = typer.Option(..., "--text", help="异议内容"),
                      school: str | None = typer.Option(None, "--school", help="异议针对的学校"),
                      programme: str | None = ProgrammeOption, actor: str = ActorOption) -> None:
    """记录公示期内收到的异议。"""
    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        target = service.find_school(session, campaign, school) if school else None
        objection = service.raise_objection(session, campaign, subject, target, text, actor=actor,
                                            today=local_today())
        number = objection.id
    console.print(f"已记录异议 #{number}")


@programme_app.command("resolve")
def resolve_command(objection_id: int = typer.Argument(..., help="异议编号"),
                    upheld: bool = typer.Option(..., "--upheld/--dismissed", help="异议成立或不成立"),
                    reason: str = typer.Option(..., "--reason", help="处理意见"),
                    programme: str | None = ProgrammeOption, actor: str = ActorOption) -> None:
    """处理异议：成立或不成立，写明处理意见。标杆种子校名单公示中针对名单上学校的异议成立时，该校移出名单。"""
    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        service.resolve_objection(session, campaign, objection_id, upheld, reason, actor=actor)
    console.print(f"异议 #{objection_id} 已处理（{'成立' if upheld else '不成立'}）")


@programme_app.command("sheet")
def sheet_command(round_code: str = typer.Argument(..., help="评分编号（方案「评分」中的编号）"),
                  member: str = typer.Option(..., "--member", help="评审组成员姓名"),
                  out: Path = typer.Option(..., "--out", "-o", help="写出评分表 .xlsx 的文件名"),
                  programme: str | None = ProgrammeOption) -> None:
    """写出一位评审组成员的评分表（该成员要评的学校，每个类别一列；不含本人所在学校）。"""
    from tracker.programmes.sheets import score_sheet

    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        content = score_sheet(session, campaign, round_code, service.find_person(session, campaign, member))
    _write(out, content)


@programme_app.command("score")
def score_command(round_code: str = typer.Argument(..., help="评分编号"),
                  member: str = typer.Option(..., "--member", help="评审组成员姓名"),
                  school: str | None = typer.Option(None, "--school", help="学校名称（与 --score 一起用）"),
                  scores: list[str] = typer.Option([], "--score", help="类别编号=分数（每个类别一次）"),
                  sheet: Path | None = typer.Option(None, "--sheet", help="填好的评分表 .xlsx"),
                  programme: str | None = ProgrammeOption, actor: str = ActorOption) -> None:
    """录入评审组成员的评分：逐校（--school 与 --score）或整张评分表（--sheet）。只能在评分时间内，不能为本校打分。"""
    if (sheet is None) == (school is None):
        fail("请给出 --school 与 --score，或 --sheet（二选一）")
    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        person = service.find_person(session, campaign, member)
        if sheet is not None:
            from tracker.programmes.sheets import score_from_sheet

            try:
                content = sheet.read_bytes()
            except OSError as error:
                fail(f"无法读取 {sheet}：{error}")
            count = score_from_sheet(session, campaign, round_code, person, content, today=local_today(),
                                     actor=actor)
        else:
            from tracker.programmes.scoring import score

            score(session, campaign, round_code, person, service.find_school(session, campaign, school),
                  service.parse_points(scores), today=local_today(), actor=actor)
            count = 1
    console.print(f"已录入「{escape(member)}」对 {count} 所学校的评分")


@programme_app.command("promote")
def promote_command(school: str = typer.Argument(..., help="标杆种子校名称"),
                    practices: list[str] = typer.Option(..., "--practice", help="可复制经验所属的类别编号（可写多次）"),
                    programme: str | None = ProgrammeOption, actor: str = ActorOption) -> None:
    """遴选导师型学校：得分达到方案的分数线，且可复制经验不少于方案规定的项数。"""
    from tracker.programmes.scoring import promote

    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        promote(session, campaign, service.find_school(session, campaign, school), practices, actor=actor)
    console.print(f"「{escape(school)}」已遴选为导师型学校")


@programme_app.command("pair")
def pair_command(mentor: str = typer.Argument(..., help="导师型学校名称"),
                 schools: list[str] = typer.Option(..., "--school", help="结对的潜力校（可写多次）"),
                 programme: str | None = ProgrammeOption, actor: str = ActorOption) -> None:
    """组建 1+X 搭对帮扶组：导师型学校与若干潜力校。"""
    from tracker.programmes.pairing import pair

    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        pair(session, campaign, service.find_school(session, campaign, mentor),
             [service.find_school(session, campaign, s) for s in schools], actor=actor)
    console.print(f"已结对：{escape(mentor)} + {escape('、'.join(schools))}")


@programme_app.command("task")
def task_command(school: str = typer.Argument(..., help="帮扶组中的潜力校"),
                 title: str = typer.Option(..., "--title", help="帮扶事项"),
                 due: str = typer.Option(..., "--due", help="完成时限"),
                 programme: str | None = ProgrammeOption, actor: str = ActorOption) -> None:
    """为帮扶组建立任务：导师型学校负责，关于该潜力校（提醒、佐证材料、日志与其他任务相同）。"""
    from tracker.programmes.pairing import add_task, pairing_of

    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        target = service.find_school(session, campaign, school)
        task = add_task(session, campaign, pairing_of(session, campaign, target), target, title,
                        service.parse_day(due, "--due"), actor=actor, today=local_today())
        number = task.id
    console.print(f"已建立帮扶任务 #{number}")


@programme_app.command("report")
def report_command(school: str = typer.Argument(..., help="导师型学校或潜力校"),
                   text: str = typer.Option(..., "--text", help="帮扶进展"),
                   programme: str | None = ProgrammeOption, actor: str = ActorOption) -> None:
    """报告帮扶进展。"""
    from tracker.programmes.pairing import report

    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        report(session, campaign, service.find_school(session, campaign, school), text, actor=actor)
    console.print("已记录帮扶进展")


@programme_app.command("awards")
def awards_command(compute: bool = typer.Option(False, "--compute", help="按表彰规则重新评选（未确认的类别）"),
                   programme: str | None = ProgrammeOption, actor: str = ActorOption) -> None:
    """表彰类别：按方案的表彰规则评选（验收成绩公示期满、异议处理完后），列出各校类别与确认情况。"""
    from tracker.programmes import awards, queries

    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        rows = awards.compute(session, campaign, actor=actor, today=local_today()) if compute \
            else queries.awards(session, campaign.id)
        names = {s.id: s.name for s in queries.schools(session, campaign.id)}
        table = Table(title="表彰类别")
        for header in ("学校", "角色", "得分", "类别", "确认"):
            table.add_column(header)
        for award in rows:
            table.add_row(escape(names[award.school_id]), award.role, "" if award.score is None else f"{award.score:g}",
                          award.category, award.confirmed_by if award.confirmed_at else "待确认")
        console.print(table)


@programme_app.command("confirm")
def confirm_command(school: str = typer.Argument(..., help="学校名称"),
                    category: str | None = typer.Option(None, "--category", help="确认的类别；不写则按评选结果"),
                    programme: str | None = ProgrammeOption, actor: str = ActorOption) -> None:
    """办公室确认学校的表彰类别（只能是表彰规则允许的类别）。"""
    from tracker.programmes.awards import confirm

    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        award = confirm(session, campaign, service.find_school(session, campaign, school).id, category, actor=actor)
        chosen = award.category
    console.print(f"已确认「{escape(school)}」：{chosen}")


@programme_app.command("revoke")
def revoke_command(school: str = typer.Argument(..., help="学校名称"),
                   reason: str = typer.Option(..., "--reason", help="撤销理由"),
                   programme: str | None = ProgrammeOption, actor: str = ActorOption) -> None:
    """办公室撤销已确认的表彰（如结果公示期间的异议须认定成立时）。"""
    from tracker.programmes.awards import revoke

    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        award = revoke(session, campaign, service.find_school(session, campaign, school).id, reason, actor=actor)
        category = award.category
    console.print(f"已撤销「{escape(school)}」的表彰确认（{category}，待重新确认）")


@programme_app.command("certificates")
def certificates_command(out: Path = typer.Option(..., "--out", "-o", help="写出证书名单 .xlsx 的文件名"),
                         programme: str | None = ProgrammeOption) -> None:
    """写出已确认表彰的证书名单（.xlsx）。"""
    from tracker.programmes.sheets import certificate_list

    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        content = certificate_list(session, campaign, local_today())
    _write(out, content)


@programme_app.command("notice")
def notice_command(out: Path = typer.Option(..., "--out", "-o", help="写出表彰通报 .docx 的文件名"),
                   programme: str | None = ProgrammeOption) -> None:
    """写出表彰通报（Word，公文格式），列出已确认的各类表彰与一票否决的学校。"""
    from notifications.programme import write_award_docx
    from tracker.programmes.awards import award_notice

    with _session() as session:
        campaign = service.resolve_programme(session, programme)
        notice = award_notice(session, campaign, local_today())
    _write(out, write_award_docx(notice))
