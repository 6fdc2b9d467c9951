"""A school sheet stored as a dated data submission (填报批次), one row per school, and the
campaign's School rows kept up to date from it (upserted in bulk by key).

``import_submission`` never commits: the self-check flow and the CLI decide the transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import math
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from tracker.events.service import SYSTEM_ACTOR, record_event
from tracker.org.models import Campaign, Department, School
from tracker.org.service import township_department, township_lookup
from tracker.plans import CampaignPlan
from tracker.schooldata.models import DataSubmission, SchoolDataRow
from tracker.standards.records import SchoolRecord
from tracker.schooldata.sheet import read_school_sheet
from tracker.errors import JunhengError


class SelfCheckError(JunhengError, ValueError):
    """A self-check that cannot run as asked (Chinese message)."""



def json_safe(value: Any) -> Any:
    """Extra columns are kept verbatim, but the store holds JSON: dates become ISO text."""
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def latest_submission(session: Session, campaign: Campaign) -> DataSubmission | None:
    """The newest county data: a school's own row waiting for the office (``school_id`` set)
    and a returned sheet are not county data (issue 5)."""
    return session.exec(
        select(DataSubmission).where(DataSubmission.campaign_id == campaign.id,
                                     DataSubmission.school_id.is_(None), DataSubmission.status != "returned")
        .order_by(DataSubmission.submitted_at.desc(), DataSubmission.id.desc())
    ).first()


def upsert_school(session: Session, campaign: Campaign, record: SchoolRecord,
                  plan: CampaignPlan | None = None) -> School:
    """The campaign's School row for a sheet's record, created or brought up to date. ``plan``
    (the campaign's, read once by a caller importing many) gives the school's contact."""
    school = session.exec(
        select(School).where(School.campaign_id == campaign.id, School.key == record.key)
    ).first()
    township = township_department(session, campaign, record.township)
    if plan is None and campaign.plan:
        plan = CampaignPlan.from_stored(campaign.plan)
    school = _school_of(campaign, record, school, township, plan)
    session.add(school)
    return school


def upsert_schools(session: Session, campaign: Campaign, records: list[SchoolRecord],
                   plan: CampaignPlan | None = None) -> list[School]:
    """``upsert_school`` for a whole sheet, by key, in a few statements however many schools:
    the campaign's schools and units read once; the new ones inserted and the changed ones
    updated together at the next flush."""
    schools = {s.key: s for s in session.exec(select(School).where(School.campaign_id == campaign.id))}
    townships = township_lookup(session, campaign)
    if plan is None and campaign.plan:
        plan = CampaignPlan.from_stored(campaign.plan)
    new: dict[str, School] = {}
    for record in records:
        known = schools.get(record.key)
        school = _school_of(campaign, record, known, townships(record.township), plan)
        if known is None:
            schools[record.key] = new[record.key] = school
    # the new ones in one batch (executemany); the changed ones are updated at the next flush
    if new:
        columns = ("campaign_id", "key", "name", "school_type", "township", "township_department_id",
                   "contact_name", "contact_email")
        session.execute(insert(School).execution_options(render_nulls=True),
                        [{c: getattr(s, c) for c in columns} for s in new.values()])
        stored = {s.key: s for s in session.exec(select(School).where(School.campaign_id == campaign.id,
                                                                      School.key.in_(list(new))))}
        schools.update(stored)
    return [schools[record.key] for record in records]


def _school_of(campaign: Campaign, record: SchoolRecord, school: School | None, township: Department | None,
               plan: CampaignPlan | None) -> School:
    """``school`` (None: a new School row) brought in line with the sheet's ``record``."""
    if school is None:
        school = School(campaign_id=campaign.id, key=record.key, name=record.name,
                        school_type=record.school_type)
    school.name = record.name
    school.school_type = record.school_type
    school.township = record.township
    school.township_department_id = township.id if township is not None else None
    # The contact receives the notices of the school's own tasks. The plan's 学校联系人 comes first:
    # the office chose that person, who may also act on the tasks (matched by e-mail). Otherwise
    # the sheet's 联系人/联系邮箱; a blank 联系邮箱 keeps the contact stored (an older sheet's).
    contact = plan.school_contact(record.key, record.name) if plan is not None else None
    if contact is not None:
        school.contact_name, school.contact_email = contact.name, contact.email
    elif record.contact_email:
        school.contact_name, school.contact_email = record.contact_name or "", record.contact_email
    return school


def import_submission(
    session: Session, campaign: Campaign, path: str | Path, actor: str = SYSTEM_ACTOR, label: str = "",
    *, assessed_by_caller: bool = False,
) -> DataSubmission:
    """Store a school sheet as a new data submission of the campaign.

    All or nothing: ``read_school_sheet`` checks the whole sheet first and its ``SheetError``
    (every problem, by row and column) propagates before anything is added to the session.
    Writes one ``submission.imported`` event. A caller that assesses the submission itself (the
    self-check, ``junheng reassess FILE``) passes ``assessed_by_caller``: the event is then written
    already dispatched, so the dispatcher starts no second re-assessment for it.
    """
    path = Path(path)
    records = read_school_sheet(path)
    sha256 = file_sha256(path)
    submission = DataSubmission(
        campaign_id=campaign.id,
        label=label or "",
        source_filename=path.name,
        sha256=sha256,
        submitted_by=actor,
        school_count=len(records),
    )
    session.add(submission)
    session.flush()
    plan = CampaignPlan.from_stored(campaign.plan) if campaign.plan else None
    if records:
        session.execute(insert(SchoolDataRow).execution_options(render_nulls=True), [
            {"submission_id": submission.id, "school_key": record.key, "row": record.row,
             "data": json_safe(dataclasses.asdict(record))} for record in records])
    upsert_schools(session, campaign, records, plan)
    session.flush()
    event = record_event(
        session,
        type="submission.imported",
        actor=actor,
        campaign_id=campaign.id,
        payload={"submission_id": submission.id, "label": submission.label, "filename": path.name,
                 "sha256": sha256, "schools": len(records), "assessed_by_caller": assessed_by_caller},
    )
    if assessed_by_caller:
        event.dispatched_at = event.at
        session.add(event)
    return submission


_RECORD_FIELDS = {f.name for f in dataclasses.fields(SchoolRecord)}


def records_of(session: Session, submission: DataSubmission) -> list[SchoolRecord]:
    """The submission's schools rebuilt from the stored rows, so an assessment can be redone."""
    rows = session.exec(
        select(SchoolDataRow).where(SchoolDataRow.submission_id == submission.id).order_by(SchoolDataRow.row)
    )
    return [SchoolRecord(**{k: v for k, v in row.data.items() if k in _RECORD_FIELDS}) for row in rows]


