"""`junheng survey`: the satisfaction survey (满意度调查, issue 13 §3) — open and close a round,
issue single-use codes with a sheet of QR slips, the paper entry sheet and its import, results."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from sqlmodel import Session

from junheng.cli.common import campaign_or_exit, fail
from tracker.db import get_engine, migrate, utcnow

survey_app = typer.Typer(help="满意度调查：问卷、答卷码（二维码）、纸质答卷录入与导入、调查结果", no_args_is_help=True)

CAMPAIGN = typer.Option(None, "--campaign", "-c", help="创建工作编号；只有一个创建工作时可不写")
GROUP_HELP = "调查群体：学生、家长、教师、校长、人大代表和政协委员、社会人士"


def _console() -> Console:
    return Console(soft_wrap=True)


@survey_app.command("open")
def open_command(
    questionnaire_file: Path | None = typer.Option(None, "--questionnaire", "-q",
                                                   help="问卷文件（YAML）；不写则用所选标准自带的示例问卷"),
    title: str | None = typer.Option(None, "--title", help="本轮调查的名称；不写则用问卷标题"),
    illustrative: bool | None = typer.Option(None, "--illustrative/--official",
                                             help="标为示例调查或正式调查；不写则按问卷文件"),
    actor: str = typer.Option("办公室", "--by", help="操作人"),
    campaign_code: str | None = CAMPAIGN,
) -> None:
    """开始一轮满意度调查（同一时间只能有一轮在进行）。"""
    from tracker.surveys.questionnaire import load_questionnaire_file
    from tracker.surveys.service import open_survey

    questionnaire = load_questionnaire_file(questionnaire_file) if questionnaire_file else None
    migrate()
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        survey = open_survey(session, campaign, actor, questionnaire, title, illustrative)
        session.commit()
        groups = "、".join(g["name"] for g in survey.questionnaire["groups"])
        _console().print(f"[green]已开始[/green] 满意度调查 #{survey.id}「{escape(survey.title)}」"
                         f"{'（示例）' if survey.illustrative else ''}；群体：{groups}")


@survey_app.command("questionnaire")
def questionnaire_command(
    out: Path = typer.Argument(..., help="写出的问卷文件（.yaml）"),
    force: bool = typer.Option(False, "--force", help="文件已存在时覆盖"),
    campaign_code: str | None = CAMPAIGN,
) -> None:
    """写出所选标准自带的示例问卷（YAML），供办公室修改后用 survey open --questionnaire 导入。"""
    from tracker.surveys.questionnaire import SHIPPED_DIR
    from tracker.surveys.service import standard_of

    if out.exists() and not force:
        fail(f"文件 {out} 已存在；如需覆盖请加 --force")
    migrate()
    with Session(get_engine()) as session:
        standard = standard_of(campaign_or_exit(session, campaign_code))
    source = SHIPPED_DIR / f"{standard.survey.questionnaire}.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(source.read_bytes())
    _console().print(f"[green]已写出[/green] {escape(str(out))}（示例问卷，非官方文本；修改后用 "
                     f"junheng survey open --questionnaire {escape(str(out))} 开始一轮调查）")


@survey_app.command("close")
def close_command(actor: str = typer.Option("办公室", "--by", help="操作人"), campaign_code: str | None = CAMPAIGN) -> None:
    """结束正在进行的满意度调查：此后答卷码不能再作答，也不能再导入纸质答卷。"""
    from tracker.surveys.service import close_survey, survey_for

    migrate()
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        survey = close_survey(session, survey_for(session, campaign, open_only=True), actor)
        session.commit()
        _console().print(f"[green]已结束[/green] 满意度调查 #{survey.id}「{escape(survey.title)}」；"
                         "如需按调查结果更新指标，请运行 junheng reassess")


@survey_app.command("codes")
def codes_command(
    group: str = typer.Option(..., "--group", "-g", help=GROUP_HELP),
    count: int = typer.Option(..., "--count", "-n", help="答卷码数量（每码限答一次）"),
    out: Path = typer.Option(..., "--out", help="写出二维码纸条的目录（不存在时新建）"),
    school_name: str | None = typer.Option(None, "--school", "-s",
                                           help="学校名称；人大代表和政协委员、社会人士可不写"),
    days: int = typer.Option(30, "--days", help="答卷码有效天数"),
    campaign_code: str | None = CAMPAIGN,
) -> None:
    """发放一次性答卷码，写出可打印的二维码纸条（.html，每张含二维码、答卷码和网址）。"""
    from tracker.clock import local_time
    from tracker.settings import get_settings
    from tracker.surveys import queries
    from tracker.surveys.service import issue_codes, survey_for
    from tracker.surveys.slips import write_slips

    migrate()
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        school = None
        if school_name:
            school = queries.school_by_name(session, campaign.id, school_name.strip())
            if school is None:
                fail(f"创建工作中没有名为「{school_name}」的学校")
        survey = survey_for(session, campaign, open_only=True)
        now = utcnow()
        codes = issue_codes(session, survey, group.strip(), count, school, days, now)
        path = write_slips(out, codes, get_settings().base_url, title=survey.title,
                           school=school.name if school else None, group=group.strip(),
                           stamp=local_time(now).strftime("%Y%m%d%H%M%S"), illustrative=survey.illustrative)
        session.commit()
    _console().print(f"[green]已发放[/green] {len(codes)} 个答卷码（{days} 天内有效），二维码纸条：{escape(str(path))}")


@survey_app.command("template")
def template_command(
    out: Path = typer.Argument(..., help="写出的 .xlsx 文件"),
    group: str = typer.Option(..., "--group", "-g", help=GROUP_HELP),
    force: bool = typer.Option(False, "--force", help="文件已存在时覆盖"),
    campaign_code: str | None = CAMPAIGN,
) -> None:
    """生成某一群体纸质答卷的录入表（.xlsx）：群体、学校，再每题一列（下拉选择答案）。"""
    from tracker.surveys import queries
    from tracker.surveys.paper import write_template
    from tracker.surveys.service import survey_for

    if out.suffix.lower() != ".xlsx":
        fail("录入表应写成 .xlsx 文件")
    if out.exists() and not force:
        fail(f"文件 {out} 已存在；如需覆盖请加 --force")
    migrate()
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        survey = survey_for(session, campaign)
        path = write_template(survey, group.strip(), queries.school_names_of(session, campaign.id), campaign, out)
    _console().print(f"[green]已写出[/green] {escape(str(path))}（{group}问卷录入表）")


@survey_app.command("import")
def import_command(file: Path = typer.Argument(..., help="录入好的 .xlsx 文件"), campaign_code: str | None = CAMPAIGN) -> None:
    """导入纸质答卷录入表：整份文件检查无误才导入；有错时列出行和列，什么也不导入。"""
    from tracker.surveys.paper import import_paper
    from tracker.surveys.service import survey_for

    try:
        data = file.read_bytes()
    except OSError:
        fail(f"无法读取文件：{file}")
    migrate()
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        survey = survey_for(session, campaign, open_only=True)
        result = import_paper(session, campaign, survey, data, file.name)
        session.commit()
    _console().print(f"[green]已导入[/green] {result.responses} 份{result.group}答卷（{result.answers} 个回答）")


@survey_app.command("results")
def results_command(
    as_json: bool = typer.Option(False, "--json", help="以 JSON 输出（满意率为小数，如 0.853）"),
    xlsx: Path | None = typer.Option(None, "--xlsx", help="另写出 .xlsx 结果表"),
    campaign_code: str | None = CAMPAIGN,
) -> None:
    """调查结果：总体、各群体、各学校、各题的满意率，以及计算规则。"""
    from tracker.surveys.figure import results_data
    from tracker.surveys.results_sheet import write_results_xlsx
    from tracker.surveys.service import standard_of, survey_for

    migrate()
    with Session(get_engine()) as session:
        campaign = campaign_or_exit(session, campaign_code)
        data = results_data(session, campaign, standard_of(campaign), survey_for(session, campaign))
    if xlsx is not None:
        write_results_xlsx(data, xlsx)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console = _console()
    survey = data["survey"]
    console.print(f"满意度调查 #{survey['id']}「{escape(survey['title'])}」"
                  f"{'（示例调查）' if survey['illustrative'] else ''}{'，已结束' if survey['closed'] else '，进行中'}")
    console.print(f"计算规则：{data['rule']}")
    pct = lambda r: "—" if r is None else f"{r:.1%}"  # noqa: E731
    o = data["overall"]
    console.print(f"总体：{pct(o['rate'])}（{o['satisfied']} ÷ {o['answers']}，{o['respondents']} 份答卷）"
                  f" → 指标 {survey['indicator']} 的数值（办公室另行录入时以录入为准）")
    for name, g in data["groups"].items():
        console.print(f"  {name}：{pct(g['rate'])}（{g['satisfied']} ÷ {g['answers']}，{g['respondents']} 份）")
    below = [q for q in data["questions"] if q["below"]]
    if below:
        console.print(f"低于 {data['threshold']:.0%} 的题目（列入问题清单）：")
        for q in below:
            console.print(f"  {q['group']} {q['id']} {escape(q['text'])}：{pct(q['rate'])}")
    if xlsx is not None:
        console.print(f"[green]已写出[/green] {escape(str(xlsx))}")
