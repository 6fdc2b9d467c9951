"""The demo's region step (issue 15 §2): the example county placed in an illustrative city with
a second, smaller illustrative county, so the city's roll-up (地区总览) has something to rank,
and a 市督导 log-in with a fresh one-time password.

The second county is made from the tables (a campaign with the example's phases, three units,
eight tasks: three of them done, two overdue) — illustrative, marked 示意 in its name — once; a
second run only renews the password. The city and its counties come from a regions file written
into the demo directory (``junheng region import`` reads the same format)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rich.console import Console
from rich.markup import escape

console = Console(highlight=False, soft_wrap=True)

CITY_CODE = "demo-city"
CITY_NAME = "示例市（示意）"
SECOND_CODE = "demo-county-2"
SECOND_COUNTY = "示例二县（示意）"
REGION_USER = "city"


def _second_county(session, main) -> None:
    """The smaller illustrative county, made once."""
    from tracker.clock import local_today
    from tracker.org import queries as org
    from tracker.org.models import Campaign, Department, Person, Phase
    from tracker.plans.kinds import UnitKind
    from tracker.tasks import lifecycle
    from tracker.tasks.models import TaskOrigin
    from tracker.tasks.service import create_task

    if org.campaign_id_by_code(session, SECOND_CODE) is not None:
        return
    campaign = Campaign(code=SECOND_CODE, name=f"{SECOND_COUNTY}创建义务教育优质均衡发展县", county=SECOND_COUNTY,
                        standard_id=main.standard_id)
    session.add(campaign)
    session.flush()
    phases = []
    for p in org.phases(session, main.id):
        phase = Phase(campaign_id=campaign.id, code=p.code, name=p.name, kind=p.kind, ordinal=p.ordinal,
                      starts_on=p.starts_on, gate_on=p.gate_on, status=p.status)
        session.add(phase)
        phases.append(phase)
    units = [Department(campaign_id=campaign.id, name=name, short_name=short, kind=kind.value)
             for name, short, kind in (("领导小组办公室", "办公室", UnitKind.office),
                                       ("县教育局计财股", "计财股", UnitKind.bureau_section),
                                       ("县财政局", "财政局", UnitKind.county_department))]
    session.add_all(units)
    session.flush()
    office = Person(campaign_id=campaign.id, name="周主任", is_office=True, department_id=units[0].id)
    clerk = Person(campaign_id=campaign.id, name="吴会计", is_contact=True, department_id=units[1].id)
    session.add_all([office, clerk])
    session.flush()
    today = local_today()
    phase = next((p for p in phases if p.status == "active"), phases[0])
    titles = ["补充音体美专任教师", "新建学校运动场", "更新教学仪器设备", "扩建多媒体教室", "落实教师培训经费",
              "完善控辍保学台账", "核定学校生均公用经费", "改造农村学校食堂"]
    for i, title in enumerate(titles):
        due = today - dt.timedelta(days=10) if i in (3, 4) else today + dt.timedelta(days=20 + 5 * i)
        task = create_task(session, campaign=campaign, phase=phase, title=title, measures="示意任务",
                           origin=TaskOrigin.plan, origin_key=f"demo2-{i + 1}", due_on=due,
                           department=units[1] if i < 3 else units[1 + i % 2], today=due)
        if i < 3:
            lifecycle.accept(session, task, clerk)
            lifecycle.submit(session, task, clerk, "已完成（示意）")
            lifecycle.verify(session, task, office)


def demo_region(code: str, directory: Path) -> None:
    """Place the demo county ``code`` and the illustrative second county in the illustrative
    city; print the roll-up's ranking and the 市督导 log-in."""
    from tracker.accounts.regional import create_region_user
    from tracker.accounts.service import find_user, generate_password, set_password
    from tracker.db import session_scope
    from tracker.org.service import resolve_campaign
    from tracker.regions.rollup import LIGHT_NAMES, region_rollup
    from tracker.regions.service import apply_regions, region_by_code
    from tracker.clock import local_today

    regions_file = directory / "regions.yaml"
    regions_file.write_text(f"# 示意地区文件：演示县与一个示意的小县同属一个示意的市\n"
                            f"市:\n  - 编号: {CITY_CODE}\n    名称: {CITY_NAME}\n    县: [{code}, {SECOND_CODE}]\n",
                            encoding="utf-8")
    password = generate_password()
    with session_scope() as session:
        _second_county(session, resolve_campaign(session, code))
        apply_regions(session, regions_file.read_text(encoding="utf-8"))
        city = region_by_code(session, CITY_CODE)
        user = find_user(session, REGION_USER)
        if user is None:
            create_region_user(session, city, username=REGION_USER, password=password, name=f"{CITY_NAME}督导")
        elif user.region_id == city.id:
            set_password(session, user, password)
        else:
            console.print(f"[yellow]注意：用户名「{REGION_USER}」已被另一个账号使用，演示不改动它。[/yellow]")
            password = None
        figures = region_rollup(session, city, local_today())
    console.print(f"已写出 {escape(str(regions_file))}（{CITY_NAME}：{len(figures['counties'])} 个县）")
    for c in figures["counties"]:
        t = c["tasks"]
        console.print(f"  第 {c['rank']} 名 {escape(c['county'])}：销号 {t['done']}/{t['total']}，逾期 {t['overdue']}，"
                      f"{LIGHT_NAMES[c['light']]}")
    if password:
        console.print(f"市督导账号：用户名 {REGION_USER}，一次性密码 {password}（登录后看地区总览，点县名只读查看该县）")
