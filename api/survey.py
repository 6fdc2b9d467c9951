"""The answer page behind a survey code: ``/s/{code}``, opened on a phone from a QR slip, no account.

GET shows the group's questions; POST stores the answers once (tracker.surveys.service.submit_online)
and uses the code up. A used, unknown or expired code, or a closed survey, gets a Chinese page
saying so (404 unknown, 409 used, 410 expired or closed).

Guessing codes is slowed down per client address with the login throttle
(tracker.accounts.throttle, keyed ``答卷码@<address>`` so one address's failures lock only that
address): while the address is locked every request gets 429 before its code is looked at; each
refused code counts as a failure (5 free, then 30 s doubling to 15 min). Answering with a valid
code counts nothing: a parents' meeting on one school Wi-Fi shares an address, and each valid
code answers once anyway.

No CSRF token, by design (like the 签收 page, api/ack.py; tests/api/test_csrf.py lists it): there is
no session to forge a request in; the code in the path is the secret and it can do one thing,
answer once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from api.login import client_address
from tracker.accounts.throttle import admit, locked_until
from tracker.clock import local_time
from tracker.db import get_engine, utcnow
from tracker.surveys.questionnaire import MAX_QUESTIONS
from tracker.surveys.service import CodeInvitation, CodeRefused, SurveyError, invitation, submit_online

router = APIRouter()
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")

STATUS = {"unknown": 404, "used": 409, "expired": 410, "closed": 410}
TITLES = {"unknown": "答卷码无效", "used": "答卷码已使用", "expired": "答卷码已过期", "closed": "调查已结束"}
MAX_CODE = 64


def store_session() -> Iterator[Session]:
    with Session(get_engine(), expire_on_commit=False) as session:
        yield session


def _throttle_key(source: str) -> str:
    return f"答卷码@{source}"


def _problem(request: Request, status: int, title: str, message: str, headers: dict | None = None) -> Response:
    return templates.TemplateResponse(request, "survey_problem.html", {"title": title, "message": message},
                                      status_code=status, headers=headers)


def _locked(request: Request, session: Session, source: str) -> Response | None:
    now = utcnow()
    until = locked_until(session, _throttle_key(source), source, now)
    if until is None:
        return None
    seconds = max(1, int((until - now).total_seconds()))
    return _problem(request, 429, "请稍后再试",
                    f"此网络连续输入了多个无效的答卷码，请在 {local_time(until):%H:%M} 后再试。",
                    {"Retry-After": str(seconds)})


def _refused(request: Request, session: Session, source: str, exc: CodeRefused) -> Response:
    admit(session, _throttle_key(source), source, utcnow())  # a refused code counts against the address
    return _problem(request, STATUS[exc.reason], TITLES[exc.reason], exc.message)


def _form(request: Request, found: CodeInvitation, code: str, *, answers: dict[str, str] | None = None,
          message: str = "", status_code: int = 200) -> Response:
    return templates.TemplateResponse(request, "survey_form.html", {
        "code": code, "survey": found.survey, "group": found.group, "choices": found.questionnaire.choices,
        "school": found.school.name if found.school else "", "answers": answers or {}, "message": message,
        "note": found.questionnaire.note if found.survey.illustrative else "",
    }, status_code=status_code)


def _show(request: Request, code: str, session: Session) -> Response:
    source = client_address(request)
    locked = _locked(request, session, source)
    if locked is not None:
        return locked
    try:
        found = invitation(session, code[:MAX_CODE])
    except CodeRefused as exc:
        return _refused(request, session, source, exc)
    return _form(request, found, code)


def _submit(request: Request, code: str, answers: dict[str, str], session: Session) -> Response:
    source = client_address(request)
    locked = _locked(request, session, source)
    if locked is not None:
        return locked
    try:
        found = invitation(session, code[:MAX_CODE])
    except CodeRefused as exc:
        return _refused(request, session, source, exc)
    try:
        submit_online(session, code[:MAX_CODE], answers)
        session.commit()
    except CodeRefused as exc:  # used by another submission a moment ago
        session.rollback()
        return _problem(request, STATUS[exc.reason], TITLES[exc.reason], exc.message)
    except SurveyError as exc:  # a question left unanswered: show the form again with the answers given
        session.rollback()
        return _form(request, found, code, answers=answers, message=exc.message, status_code=422)
    return templates.TemplateResponse(request, "survey_problem.html", {
        "title": "提交成功", "message": "您的答卷已提交，感谢您的参与！", "ok": True})


@router.get("/s/{code}", response_class=HTMLResponse, name="survey_answer")
def show_survey(request: Request, code: str, session: Session = Depends(store_session)) -> Response:
    return _show(request, code, session)


# CSRF-exempt on purpose: the code in the path is the secret (see the module docstring)
@router.post("/s/{code}", response_class=HTMLResponse)
async def answer_survey(request: Request, code: str, session: Session = Depends(store_session)) -> Response:
    form = await request.form(max_files=0, max_fields=MAX_QUESTIONS + 5)
    answers = {str(k)[:32]: str(v)[:40] for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_submit, request, code, answers, session)
