"""The weekly dispatch briefing (调度通报): compute → store → render → queue the mail.

The scheduler starts ``weekly_briefing_flow`` every Monday at 08:30 (local, Beijing, time) for the week
before, through a ``briefing.due`` event and the dispatcher (junheng/scheduler.py), which asks it
to send the mail (``send=True``); ``junheng briefing`` runs the same steps on demand
(``run_briefing``, no Prefect server needed). Sending is never the default: a briefing made by
hand is only generated unless ``--send`` says otherwise.

Each step opens its own transaction and takes and returns ids and plain values (see flows/steps.py).
Every step is idempotent: issuing a week again keeps its number (期数) and, the week being over,
its figures; rendering again overwrites the stored documents with equal ones; queuing the mail
again queues nothing for recipients who already have this week's briefing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prefect import flow, task
from flows.naming import readable_run_name
from prefect.cache_policies import NO_CACHE
from sqlmodel import Session

from tracker.briefings.models import Briefing
from tracker.briefings.service import attach_documents, briefing_data, issue_briefing
from tracker.calendar import WorkingDayCalendar
from tracker.org.service import resolve_campaign
from tracker.db import session_scope
from tracker.events.service import SYSTEM_ACTOR
from tracker.errors import ErrorKind, JunhengError


class BriefingStepError(JunhengError, ValueError, kind=ErrorKind.not_found):
    """A briefing id that is not there (Chinese message)."""


def _briefing(session: Session, briefing_id: int) -> Briefing:
    briefing = session.get(Briefing, briefing_id)
    if briefing is None:
        raise BriefingStepError(f"没有编号为 {briefing_id} 的调度通报")
    return briefing


# --- the plain steps ---------------------------------------------------------------------------


def issue(campaign_code: str | None, iso_week: str, actor: str = SYSTEM_ACTOR) -> int:
    """Compute the week's figures from the event log and store the briefing; returns its id."""
    with session_scope() as session:
        campaign = resolve_campaign(session, campaign_code)
        calendar = WorkingDayCalendar.from_session(session)  # holiday notices imported into the store
        return issue_briefing(session, campaign, iso_week, actor=actor, calendar=calendar).id


def render(briefing_id: int, pdf: bool = True) -> dict:
    """Draw the charts, write the Word document (and the PDF where LibreOffice is installed) and keep
    them with the briefing."""
    from notifications.briefing import render_briefing

    with session_scope() as session:
        data = briefing_data(_briefing(session, briefing_id))
    rendered = render_briefing(data, pdf=pdf)  # outside the transaction: LibreOffice may take seconds
    with session_scope() as session:
        attach_documents(session, _briefing(session, briefing_id), docx=rendered.docx, pdf=rendered.pdf)
    return {"briefing_id": briefing_id, "docx_bytes": len(rendered.docx),
            "pdf_bytes": len(rendered.pdf) if rendered.pdf else 0, "charts": [c.key for c in rendered.charts]}


def queue_mail(briefing_id: int) -> dict:
    """Queue the e-mail to the leading group, the office and every department's contacts (once per
    recipient and week); the scheduler's delivery job sends it."""
    from notifications.briefing.charts import briefing_charts
    from notifications.briefing.mail import queue_briefing_mail

    with session_scope() as session:
        briefing = _briefing(session, briefing_id)
        data = briefing_data(briefing)
        report = queue_briefing_mail(session, briefing, data, briefing_charts(data), docx=briefing.docx,
                                     pdf=briefing.pdf)
        return {"queued": len(report.queued), "already": len(report.already), "unreachable": report.unreachable}


# --- as Prefect tasks ---------------------------------------------------------------------------

_TASK_OPTIONS = dict(cache_policy=NO_CACHE, retries=0, persist_result=False)


@task(name="issue-briefing", **_TASK_OPTIONS)
def issue_task(campaign_code: str | None, iso_week: str, actor: str = SYSTEM_ACTOR) -> int:
    return issue(campaign_code, iso_week, actor)


@task(name="render-briefing", **_TASK_OPTIONS)
def render_task(briefing_id: int, pdf: bool = True) -> dict:
    return render(briefing_id, pdf)


@task(name="queue-briefing-mail", **_TASK_OPTIONS)
def queue_mail_task(briefing_id: int) -> dict:
    return queue_mail(briefing_id)


@flow(name="weekly-briefing", log_prints=False, persist_result=False, flow_run_name=readable_run_name)
async def weekly_briefing_flow(campaign_code: str, iso_week: str, send: bool = False, pdf: bool = True) -> dict:
    """调度通报: the briefing of ``iso_week`` (e.g. 2026-W48) for the campaign — computed as of the end
    of the week from the event log, stored with its number, rendered, and e-mailed (``send``)."""
    briefing_id = issue_task(campaign_code, iso_week)
    rendered = render_task(briefing_id, pdf)
    mail = queue_mail_task(briefing_id) if send else {"queued": 0, "already": 0, "unreachable": []}
    return {"briefing_id": briefing_id, **rendered, "mail": mail}


# --- without Prefect (the CLI) ------------------------------------------------------------------


@dataclass
class BriefingRun:
    briefing_id: int
    rendered: dict
    mail: dict = field(default_factory=dict)


def run_briefing(campaign_code: str | None, iso_week: str, *, send: bool = False, pdf: bool = True,
                 actor: str = SYSTEM_ACTOR) -> BriefingRun:
    """The flow's steps in this process, in the same order (``junheng briefing``)."""
    briefing_id = issue(campaign_code, iso_week, actor)
    rendered = render(briefing_id, pdf)
    return BriefingRun(briefing_id, rendered, queue_mail(briefing_id) if send else {})

