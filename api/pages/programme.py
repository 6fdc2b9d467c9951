"""The 示范校 programme's page (issue 15 §1): one page, what the user may see of it, and a form for
each move the user may make — a school applies, a section nominates, the office 复核s, opens a
公示, records and resolves objections, promotes, pairs and confirms awards; a panel member
scores. Every form posts, then 303s back with a message (no JavaScript)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import CsrfChecked, DbSession, PageUser
from api.evidence import content_disposition
from api.pages.common import flash, redirect, render, today
from tracker.accounts.access import require_role, role_of
from tracker.accounts.models import User, UserRole
from tracker.accounts.service import acting_person
from tracker.org.models import Campaign, School
from tracker.programmes import access, awards, pairing, queries, scoring, service
from tracker.plans.programme_sections import WITHDRAWN
from tracker.programmes.models import ENTRY_STATUS_NAMES

router = APIRouter(include_in_schema=False)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
Text = Annotated[str, Form(max_length=2000)]
Short = Annotated[str, Form(max_length=100)]
STATUS = ENTRY_STATUS_NAMES


def _programme(session, user: User) -> Campaign:
    campaign = session.get(Campaign, user.campaign_id)
    if campaign is None or campaign.kind != service.PROGRAMME_KIND:
        raise service.ProgrammeNotFound("当前账号所属的不是示范校项目")
    return campaign


def _actor(session, user: User) -> str:
    return acting_person(session, user).name


async def _points(request: Request, plan) -> dict[str, float]:
    form = await request.form()
    out = {}
    for criterion in plan.criteria.categories:
        raw = str(form.get(f"points_{criterion.code}", "")).strip()
        try:
            out[criterion.code] = float(raw)
        except ValueError:
            raise service.ProgrammeError(f"类别「{criterion.name}」的分数「{raw[:20]}」不是数字") from None
    return out


@router.get("/programme", response_class=HTMLResponse, name="programme")
def programme_page(request: Request, session: DbSession, user: PageUser) -> Response:
    campaign = _programme(session, user)
    day = today(session)
    plan = service.plan_of(campaign)
    seen = access.view(session, user, campaign, day)
    names = {s.id: s.name for s in queries.schools(session, campaign.id)}
    own = next((line for line in seen.lines if role_of(user) is UserRole.school and line.school_id == user.school_id),
                None)
    member = access.panel_person(session, user, campaign)
    rounds = [r for r in plan.rounds if member and member.name in scoring.panel_member_names(plan, r)]
    role_of_school = service.roles(session, campaign)
    scorable = {r.code: [names[sid] for sid, role in role_of_school.items()
                         if scoring.role_matches(role, r.role) and (member is None or member.school_id != sid)]
                for r in rounds}
    office = role_of(user) is UserRole.office
    return render(request, session, user, "programme.html", {
        "plan": plan, "seen": seen, "own": own, "member": member, "rounds": rounds, "scorable": scorable,
        "names": names, "status": STATUS, "today": day, "subjects": service.SUBJECTS, "withdrawn": WITHDRAWN,
        "publicities": queries.publicities(session, campaign.id),
        "objections": queries.objections(session, campaign.id) if office else [],
        "pairings": queries.pairings(session, campaign.id) if office else [],
        "members_of": queries.pairing_members(session, campaign.id) if office else {},
        "can_nominate": role_of(user) in (UserRole.office, UserRole.department),
        "in_pairing": own is not None and user.school_id in (
            set(queries.pairing_members(session, campaign.id)) | {p.mentor_school_id for p in queries.pairings(session, campaign.id)}),
    }, nav_path="/programme")


@router.post("/programme/apply", name="programme_apply")
async def apply_form(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked,
                     reasons: Text = "") -> Response:
    campaign = _programme(session, user)
    require_role(user, UserRole.school, what="提出申请")
    school = session.get(School, user.school_id)
    access.school_for(user, campaign, school)
    service.apply(session, campaign, school, await _points(request, service.plan_of(campaign)), reasons,
                  actor=_actor(session, user))
    session.commit()
    flash(request, "申请已提交，等待复核")
    return redirect("/programme")


@router.post("/programme/nominate", name="programme_nominate")
def nominate_form(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked, school: Short = "",
                  unit: Short = "", reasons: Text = "") -> Response:
    campaign = _programme(session, user)
    require_role(user, UserRole.office, UserRole.department, what="圈定标杆种子校")
    service.nominate(session, campaign, school, unit, reasons, actor=_actor(session, user))
    session.commit()
    flash(request, f"已圈定「{school}」")
    return redirect("/programme")


@router.post("/programme/review", name="programme_review")
def review_form(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked, school: Short = "",
                verdict: Annotated[str, Form(max_length=10)] = "", reason: Text = "") -> Response:
    campaign = _programme(session, user)
    access.require_office(user, campaign, "复核")
    if verdict not in ("pass", "refuse"):
        raise service.ProgrammeError("请选择复核达标或驳回")
    service.review(session, campaign, service.find_school(session, campaign, school), verdict == "pass", reason,
                   actor=_actor(session, user))
    session.commit()
    flash(request, f"「{school}」复核{'达标' if verdict == 'pass' else '不达标，已驳回'}")
    return redirect("/programme")


@router.post("/programme/publicity", name="programme_publicity")
def publicity_form(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked,
                   subject: Annotated[str, Form(max_length=10)] = "", starts_on: Short = "", ends_on: Short = "") -> Response:
    campaign = _programme(session, user)
    access.require_office(user, campaign, "公示")
    service.open_publicity(session, campaign, subject, service.parse_day(starts_on, "公示开始日期"),
                           service.parse_day(ends_on, "公示结束日期"), actor=_actor(session, user))
    session.commit()
    flash(request, f"已公示{service.SUBJECTS.get(subject, '')}")
    return redirect("/programme")


@router.post("/programme/objection", name="programme_objection")
def objection_form(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked,
                   subject: Annotated[str, Form(max_length=10)] = "", school: Short = "", text: Text = "") -> Response:
    campaign = _programme(session, user)
    access.require_office(user, campaign, "记录异议")
    target = service.find_school(session, campaign, school) if school.strip() else None
    service.raise_objection(session, campaign, subject, target, text, actor=_actor(session, user),
                            today=today(session))
    session.commit()
    flash(request, "已记录异议")
    return redirect("/programme")


@router.post("/programme/objections/{objection_id}", name="programme_resolve")
def resolve_form(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked, objection_id: int,
                 verdict: Annotated[str, Form(max_length=10)] = "", resolution: Text = "") -> Response:
    campaign = _programme(session, user)
    access.require_office(user, campaign, "处理异议")
    service.resolve_objection(session, campaign, objection_id, verdict == "upheld", resolution,
                              actor=_actor(session, user))
    session.commit()
    flash(request, f"异议 #{objection_id} 已处理")
    return redirect("/programme")


@router.post("/programme/score", name="programme_score")
async def score_form(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked,
                     round_code: Annotated[str, Form(alias="round", max_length=64)] = "", school: Short = "") -> Response:
    campaign = _programme(session, user)
    member = access.member_for(session, user, campaign, None)
    scoring.score(session, campaign, round_code, member, service.find_school(session, campaign, school),
                  await _points(request, service.plan_of(campaign)), today=today(session), actor=member.name)
    session.commit()
    flash(request, f"已为「{school}」打分")
    return redirect("/programme")


@router.post("/programme/promote", name="programme_promote")
def promote_form(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked, school: Short = "",
                 practices: Short = "") -> Response:
    campaign = _programme(session, user)
    access.require_office(user, campaign, "遴选导师型学校")
    chosen = [p for p in practices.replace("，", ",").replace("、", ",").split(",") if p.strip()]
    scoring.promote(session, campaign, service.find_school(session, campaign, school), chosen,
                    actor=_actor(session, user))
    session.commit()
    flash(request, f"「{school}」已遴选为导师型学校")
    return redirect("/programme")


@router.post("/programme/pair", name="programme_pair")
def pair_form(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked, mentor: Short = "",
              schools: Text = "") -> Response:
    campaign = _programme(session, user)
    access.require_office(user, campaign, "组建帮扶组")
    names = [n.strip() for n in schools.replace("，", ",").replace("、", ",").split(",") if n.strip()]
    pairing.pair(session, campaign, service.find_school(session, campaign, mentor),
                 [service.find_school(session, campaign, n) for n in names], actor=_actor(session, user))
    session.commit()
    flash(request, f"已结对：{mentor} + {'、'.join(names)}")
    return redirect("/programme")


@router.post("/programme/pairing-task", name="programme_pairing_task")
def pairing_task_form(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked, school: Short = "",
                      title: Annotated[str, Form(max_length=200)] = "", due_on: Short = "") -> Response:
    campaign = _programme(session, user)
    access.require_office(user, campaign, "建立帮扶任务")
    target = service.find_school(session, campaign, school)
    task = pairing.add_task(session, campaign, pairing.pairing_of(session, campaign, target), target, title,
                            service.parse_day(due_on, "完成时限"), actor=_actor(session, user), today=today(session))
    session.commit()
    flash(request, f"已建立帮扶任务 #{task.id}")
    return redirect("/programme")


@router.post("/programme/pairing-report", name="programme_pairing_report")
def pairing_report_form(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked,
                        text: Text = "") -> Response:
    campaign = _programme(session, user)
    require_role(user, UserRole.school, what="报告帮扶进展")
    pairing.report(session, campaign, session.get(School, user.school_id), text, actor=_actor(session, user))
    session.commit()
    flash(request, "已记录帮扶进展")
    return redirect("/programme")


@router.post("/programme/awards", name="programme_awards")
def awards_form(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked) -> Response:
    campaign = _programme(session, user)
    access.require_office(user, campaign, "评选表彰")
    awards.compute(session, campaign, actor=_actor(session, user), today=today(session))
    session.commit()
    flash(request, "已按表彰规则评选，请逐校确认")
    return redirect("/programme")


@router.post("/programme/confirm", name="programme_confirm")
def confirm_form(request: Request, session: DbSession, user: PageUser, _csrf: CsrfChecked, school: Short = "",
                 category: Annotated[str, Form(max_length=16)] = "") -> Response:
    campaign = _programme(session, user)
    access.require_office(user, campaign, "确认表彰")
    award = awards.confirm(session, campaign, service.find_school(session, campaign, school).id, category or None,
                           actor=_actor(session, user))
    session.commit()
    flash(request, f"已确认「{school}」：{award.category}")
    return redirect("/programme")


@router.get("/programme/certificates.xlsx", name="programme_certificates")
def certificates(session: DbSession, user: PageUser) -> Response:
    from tracker.programmes.sheets import certificate_list

    campaign = _programme(session, user)
    access.require_office(user, campaign, "下载证书名单")
    return Response(certificate_list(session, campaign, today(session)), media_type=XLSX, headers={
        "Content-Disposition": content_disposition(f"{campaign.name}证书名单.xlsx"), "Cache-Control": "private, no-store"})


@router.get("/programme/notice.docx", name="programme_notice")
def notice(session: DbSession, user: PageUser) -> Response:
    from notifications.programme import notice_title, write_award_docx

    campaign = _programme(session, user)
    access.require_office(user, campaign, "下载表彰通报")
    content = awards.award_notice(session, campaign, today(session))
    return Response(write_award_docx(content), media_type=DOCX, headers={
        "Content-Disposition": content_disposition(f"{notice_title(content)}.docx"), "Cache-Control": "private, no-store"})
