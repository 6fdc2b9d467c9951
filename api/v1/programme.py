"""The 示范校 programme (issue 15 §1): what each user sees of it, and its moves. The
``{campaign}`` is the programme's code (a campaign of kind school-programme); its users are that
campaign's accounts. tracker.programmes.access says who may do what."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import CurrentUser, DbSession, UserCampaign
from api.evidence import content_disposition
from api.schemas.programme import (
    ApplicationIn, AwardIn, NominationIn, ObjectionIn, PairingIn, PairingReportIn, PairingTaskIn, ProgrammeOut, PromotionIn,
    PublicityIn, ResolutionIn, ReviewIn, ScoreIn,
)
from tracker.accounts.access import require_role, role_of
from tracker.accounts.models import User, UserRole
from tracker.accounts.service import acting_person
from tracker.clock import local_today
from tracker.org.models import Campaign, School
from tracker.programmes import access, awards, pairing, scoring, service

router = APIRouter(tags=["示范校"])
BASE = "/campaigns/{campaign}/programme"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def programme_of(session, user: User, campaign: Campaign) -> Campaign:
    found = service.resolve_programme(session, campaign.code)
    access.check_campaign(user, found)
    return found


def _actor(session, user: User) -> str:
    return acting_person(session, user).name


def _own_school(session, user: User, campaign: Campaign, name: str | None):
    if name is None:
        if role_of(user) is not UserRole.school or user.school_id is None:
            raise service.ProgrammeError("请写明学校（school）")
        school = session.get(School, user.school_id)
    else:
        school = service.find_school(session, campaign, name)
    access.school_for(user, campaign, school)
    return school


def _file(content: bytes, media: str, name: str) -> Response:
    return Response(content, media_type=media, headers={
        "Content-Disposition": content_disposition(name), "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store"})


def view_out(session, user: User, campaign: Campaign) -> dict:
    seen = access.view(session, user, campaign, local_today())
    names = {line.school_id: line.name for line in seen.lines}
    return {
        "campaign": campaign.code, "name": campaign.name, "scores_visible": seen.scores_visible,
        "schools": [{"school": line.name, "role": line.role, "award": line.award,
                     "award_confirmed": line.award_confirmed, "totals": line.totals,
                     "entry": None if line.entry is None else {
                         "route": line.entry.route, "status": line.entry.status, "reasons": line.entry.reasons,
                         "self_assessment": line.entry.self_assessment, "review_reason": line.entry.review_reason}}
                    for line in seen.lines],
        "my_scores": [{"round": s.round, "school": names.get(s.school_id, ""), "criterion": s.criterion,
                       "points": s.points} for s in seen.my_scores],
    }


@router.get(BASE, response_model=ProgrammeOut, summary="示范校项目：各校角色、申请、得分与表彰（按用户可见范围）")
def get_programme(session: DbSession, user: CurrentUser, campaign: UserCampaign) -> dict:
    return view_out(session, user, programme_of(session, user, campaign))


@router.post(f"{BASE}/applications", response_model=ProgrammeOut, summary="学校申请（附自评；每校一次）")
def post_application(session: DbSession, user: CurrentUser, campaign: UserCampaign, body: ApplicationIn) -> dict:
    programme = programme_of(session, user, campaign)
    school = _own_school(session, user, programme, body.school)
    service.apply(session, programme, school, body.scores, body.reasons, actor=_actor(session, user))
    session.commit()
    return view_out(session, user, programme)


@router.post(f"{BASE}/nominations", response_model=ProgrammeOut, summary="科室圈定标杆种子校（科室、办公室）")
def post_nomination(session: DbSession, user: CurrentUser, campaign: UserCampaign, body: NominationIn) -> dict:
    programme = programme_of(session, user, campaign)
    require_role(user, UserRole.office, UserRole.department, what="圈定标杆种子校")
    service.nominate(session, programme, body.school, body.unit, body.reasons, actor=_actor(session, user))
    session.commit()
    return view_out(session, user, programme)


@router.post(f"{BASE}/reviews", response_model=ProgrammeOut, summary="复核申请（办公室）")
def post_review(session: DbSession, user: CurrentUser, campaign: UserCampaign, body: ReviewIn) -> dict:
    programme = programme_of(session, user, campaign)
    access.require_office(user, programme, "复核")
    service.review(session, programme, service.find_school(session, programme, body.school), body.passed,
                   body.reason, actor=_actor(session, user))
    session.commit()
    return view_out(session, user, programme)


@router.post(f"{BASE}/publicity", response_model=ProgrammeOut, summary="公示名单或成绩（办公室）")
def post_publicity(session: DbSession, user: CurrentUser, campaign: UserCampaign, body: PublicityIn) -> dict:
    programme = programme_of(session, user, campaign)
    access.require_office(user, programme, "公示")
    service.open_publicity(session, programme, body.subject, body.starts_on, body.ends_on, actor=_actor(session, user))
    session.commit()
    return view_out(session, user, programme)


@router.post(f"{BASE}/objections", response_model=ProgrammeOut, summary="记录公示期内的异议（办公室）")
def post_objection(session: DbSession, user: CurrentUser, campaign: UserCampaign, body: ObjectionIn) -> dict:
    programme = programme_of(session, user, campaign)
    access.require_office(user, programme, "记录异议")
    school = service.find_school(session, programme, body.school) if body.school else None
    service.raise_objection(session, programme, body.subject, school, body.text, actor=_actor(session, user),
                            today=local_today())
    session.commit()
    return view_out(session, user, programme)


@router.post(f"{BASE}/objections/{{objection_id}}/resolution", response_model=ProgrammeOut,
             summary="处理异议（办公室）")
def post_resolution(session: DbSession, user: CurrentUser, campaign: UserCampaign, objection_id: int,
                    body: ResolutionIn) -> dict:
    programme = programme_of(session, user, campaign)
    access.require_office(user, programme, "处理异议")
    service.resolve_objection(session, programme, objection_id, body.upheld, body.resolution,
                              actor=_actor(session, user))
    session.commit()
    return view_out(session, user, programme)


@router.post(f"{BASE}/scores", response_model=ProgrammeOut, summary="评审打分（评审组成员本人，或办公室代录）")
def post_score(session: DbSession, user: CurrentUser, campaign: UserCampaign, body: ScoreIn) -> dict:
    programme = programme_of(session, user, campaign)
    member = access.member_for(session, user, programme, body.member)
    scoring.score(session, programme, body.round, member, service.find_school(session, programme, body.school),
                  body.points, today=local_today(), actor=_actor(session, user))
    session.commit()
    return view_out(session, user, programme)


@router.post(f"{BASE}/promotions", response_model=ProgrammeOut, summary="遴选导师型学校（办公室）")
def post_promotion(session: DbSession, user: CurrentUser, campaign: UserCampaign, body: PromotionIn) -> dict:
    programme = programme_of(session, user, campaign)
    access.require_office(user, programme, "遴选导师型学校")
    scoring.promote(session, programme, service.find_school(session, programme, body.school), body.practices,
                    actor=_actor(session, user))
    session.commit()
    return view_out(session, user, programme)


@router.post(f"{BASE}/pairings", response_model=ProgrammeOut, summary="组建 1+X 帮扶组（办公室）")
def post_pairing(session: DbSession, user: CurrentUser, campaign: UserCampaign, body: PairingIn) -> dict:
    programme = programme_of(session, user, campaign)
    access.require_office(user, programme, "组建帮扶组")
    pairing.pair(session, programme, service.find_school(session, programme, body.mentor),
                 [service.find_school(session, programme, s) for s in body.schools], actor=_actor(session, user))
    session.commit()
    return view_out(session, user, programme)


@router.post(f"{BASE}/pairing-tasks", response_model=ProgrammeOut,
             summary="为帮扶组建立任务：导师型学校负责，关于该潜力校（办公室）")
def post_pairing_task(session: DbSession, user: CurrentUser, campaign: UserCampaign, body: PairingTaskIn) -> dict:
    programme = programme_of(session, user, campaign)
    access.require_office(user, programme, "建立帮扶任务")
    school = service.find_school(session, programme, body.school)
    pairing.add_task(session, programme, pairing.pairing_of(session, programme, school), school, body.title,
                     body.due_on, actor=_actor(session, user), today=local_today())
    session.commit()
    return view_out(session, user, programme)


@router.post(f"{BASE}/pairing-reports", response_model=ProgrammeOut, summary="报告帮扶进展（帮扶组的学校、办公室）")
def post_pairing_report(session: DbSession, user: CurrentUser, campaign: UserCampaign, body: PairingReportIn) -> dict:
    programme = programme_of(session, user, campaign)
    school = _own_school(session, user, programme, body.school)
    pairing.report(session, programme, school, body.text, actor=_actor(session, user))
    session.commit()
    return view_out(session, user, programme)


@router.post(f"{BASE}/awards", response_model=ProgrammeOut, summary="评选表彰（compute）、确认某校类别（confirm）或撤销确认（revoke）（办公室）")
def post_awards(session: DbSession, user: CurrentUser, campaign: UserCampaign, body: AwardIn) -> dict:
    programme = programme_of(session, user, campaign)
    access.require_office(user, programme, "评选表彰")
    if body.action == "compute":
        awards.compute(session, programme, actor=_actor(session, user), today=local_today())
    elif body.action == "revoke":
        if not body.school:
            raise service.ProgrammeError("撤销表彰确认须写明学校（school）")
        awards.revoke(session, programme, service.find_school(session, programme, body.school).id, body.reason or "",
                      actor=_actor(session, user))
    else:
        if not body.school:
            raise service.ProgrammeError("确认表彰须写明学校（school）")
        awards.confirm(session, programme, service.find_school(session, programme, body.school).id, body.category,
                       actor=_actor(session, user))
    session.commit()
    return view_out(session, user, programme)


@router.get(f"{BASE}/certificates", response_class=Response, summary="证书名单（.xlsx；办公室）",
            responses={200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}, "description": "文件"}})
def get_certificates(session: DbSession, user: CurrentUser, campaign: UserCampaign) -> Response:
    from tracker.programmes.sheets import certificate_list

    programme = programme_of(session, user, campaign)
    access.require_office(user, programme, "下载证书名单")
    return _file(certificate_list(session, programme, local_today()), XLSX, f"{programme.name}证书名单.xlsx")


@router.get(f"{BASE}/notice", response_class=Response, summary="表彰通报（.docx；办公室）",
            responses={200: {"content": {DOCX: {"schema": {"type": "string", "format": "binary"}}}, "description": "文件"}})
def get_notice(session: DbSession, user: CurrentUser, campaign: UserCampaign) -> Response:
    from notifications.programme import notice_title, write_award_docx

    programme = programme_of(session, user, campaign)
    access.require_office(user, programme, "下载表彰通报")
    notice = awards.award_notice(session, programme, local_today())
    return _file(write_award_docx(notice), DOCX, f"{notice_title(notice)}.docx")

