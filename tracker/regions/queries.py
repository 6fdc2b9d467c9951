"""The roll-up's reads: one GROUP BY each over all the counties of a region (the tallies kept by
the task triggers, the phases, the tasks done, the 督办单 issued), never a query per county."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import NamedTuple

from sqlalchemy import Integer, and_, case, func
from sqlmodel import Session, select

from tracker.appraisal.queries import beijing_date
from tracker.notices.models import NoticeItem, Rung
from tracker.org.models import Phase
from tracker.tasks.models import Task, TaskDueTally, TaskStatus, TaskTally


def status_counts(session: Session, campaign_ids) -> dict[int, dict[str, int]]:
    """Tasks per county and status, from ``task_tally``."""
    out: dict[int, dict[str, int]] = defaultdict(dict)
    rows = session.exec(select(TaskTally.campaign_id, TaskTally.status, func.sum(TaskTally.n))
                        .where(TaskTally.campaign_id.in_(campaign_ids))
                        .group_by(TaskTally.campaign_id, TaskTally.status))
    for campaign_id, status, n in rows:
        out[campaign_id][status] = int(n or 0)
    return out


def overdue_counts(session: Session, campaign_ids, today: dt.date) -> dict[int, int]:
    """Tasks with their unit due before ``today`` per county, from ``task_due_tally``: the same
    figure as ``campaign status``'s overdue."""
    rows = session.exec(select(TaskDueTally.campaign_id, func.sum(TaskDueTally.n))
                        .where(TaskDueTally.campaign_id.in_(campaign_ids), TaskDueTally.due_on < today)
                        .group_by(TaskDueTally.campaign_id))
    return {campaign_id: int(n or 0) for campaign_id, n in rows}


def done_counts(session: Session, campaign_ids) -> dict[int, tuple[int, int]]:
    """(done, done by the due date) per county: tasks submitted or verified, and those of them
    whose work was done (submitted, else verified; Beijing date) on or before their due date."""
    t = Task.__table__.c
    done_at = func.coalesce(t.submitted_at, t.verified_at)
    on_time = case((and_(done_at.is_not(None), beijing_date(done_at) <= t.due_on), 1), else_=0)
    rows = session.execute(select(t.campaign_id, func.count(), func.sum(on_time))
                           .where(t.campaign_id.in_(campaign_ids),
                                  t.status.in_([TaskStatus.submitted.value, TaskStatus.verified.value]))
                           .group_by(t.campaign_id))
    return {campaign_id: (int(n), int(ok or 0)) for campaign_id, n, ok in rows}


def escalation_counts(session: Session, campaign_ids) -> dict[int, int]:
    """督办单 issued per county: one per task and occurrence (several recipients, one 督办单)."""
    n = NoticeItem.__table__.c
    issued = (select(n.campaign_id, n.task_id, n.occurrence).distinct()
              .where(n.campaign_id.in_(campaign_ids), n.rung == Rung.escalation.value, n.task_id.is_not(None))
              .subquery())
    rows = session.execute(select(issued.c.campaign_id, func.count()).group_by(issued.c.campaign_id))
    return {campaign_id: int(c) for campaign_id, c in rows}


def phases_of(session: Session, campaign_ids) -> dict[int, list[Phase]]:
    """Every county's phases in their order."""
    out: dict[int, list[Phase]] = defaultdict(list)
    for phase in session.exec(select(Phase).where(Phase.campaign_id.in_(campaign_ids))
                              .order_by(Phase.campaign_id, Phase.ordinal, Phase.id)):
        out[phase.campaign_id].append(phase)
    return out


def change_mark(session: Session, region_id: int) -> tuple:
    """One cheap statement whose answer changes whenever a figure of the roll-up of ``region_id``
    may have: the newest event (every task move, phase change, plan change and calendar import
    writes one), notice item (督办单), assessment snapshot, task and phase, survey and survey
    response, region notice, and the region's own rows (``region_rows``). Each ``max(id)`` is one
    index lookup."""
    connection = session.connection()
    return tuple(connection.execute(_statement("mark", connection.dialect.name), {"region_id": region_id}).one())


def region_and_mark(session: Session, region_id: int, campaign_id: int | None = None):
    """``(region row, mark, header)`` in one statement (what a request that finds its answer kept
    costs): the region's columns (id, code, name, level, parent_id), its change mark, and with
    ``campaign_id`` that campaign's county, name and kind (a page's header shows them; else
    ``()``). None when there is no such region. The statement is built once (bound parameters):
    building it costs more than running it."""
    which = "header" if campaign_id is not None else "region"
    connection = session.connection()
    row = connection.execute(_statement(which, connection.dialect.name),
                             {"region_id": region_id, "campaign_id": campaign_id}).first()
    if row is None:
        return None
    n = 5 + MARK_SIZE
    return RegionRow(*row[:5]), tuple(row[5:n]), tuple(row[n:])


class RegionRow(NamedTuple):
    """A region's columns as the roll-up reads them (as ``Region`` does)."""

    id: int
    code: str
    name: str
    level: str
    parent_id: int | None


def _mark_models() -> tuple:
    from tracker.assessment.models import AssessmentSnapshot
    from tracker.events.models import Event
    from tracker.regions.models import RegionNotice
    from tracker.surveys.models import Survey, SurveyResponse

    return (Event, NoticeItem, AssessmentSnapshot, Task, Phase, Survey, SurveyResponse, RegionNotice)


MARK_SIZE = 8 + 2  # the newest ids of _mark_models(), and region_rows' two strings
_statements: dict[tuple[str, str], object] = {}


def _statement(which: str, dialect: str):
    """The mark alone, with its region's row, or with the region's row and a campaign's header."""
    key = (which, dialect)
    statement = _statements.get(key)
    if statement is not None:
        return statement
    from sqlalchemy import bindparam

    from tracker.org.models import Campaign
    from tracker.regions.models import Region

    region_id = bindparam("region_id", type_=Integer)
    mark = mark_columns(region_id, dialect)
    if which == "mark":
        statement = select(*mark)
    else:
        campaign = bindparam("campaign_id", type_=Integer)
        header = [select(column).where(Campaign.id == campaign).scalar_subquery()
                  for column in (Campaign.county, Campaign.name, Campaign.kind)] if which == "header" else []
        statement = select(Region.id, Region.code, Region.name, Region.level, Region.parent_id, *mark, *header) \
            .where(Region.id == region_id)
    _statements[key] = statement
    return statement


def mark_columns(region_id, dialect: str) -> list:
    """The change mark's ``MARK_SIZE`` columns for a statement of one's own: ``region_id`` is a
    bound parameter or any scalar expression (the page sessions' statement reads it from the
    session's user: ``tracker.accounts.regional.region_page_view``)."""
    return [select(func.max(model.id)).scalar_subquery() for model in _mark_models()] + region_rows(region_id, dialect)


def region_rows(region_id, dialect: str = "postgresql") -> list:
    """The region's own rows as two strings: the region and its cities (id, code, name, level,
    parent; code and name after their lengths, so no two sets of rows read the same) and which
    county is in which of them. A renamed city, a county moved between two cities, into or out
    of the region, a city given to another province: each changes a string (whatever else stays
    the same). A region holds tens of rows, a province a few thousand counties at most: two small
    aggregates. Their order (an ordered subquery) only matters for keeping an answer, never for
    its correctness: equal strings are equal sets of rows. Separators are SQL literals, not
    parameters: the statement is then compiled once and reused as is."""
    from sqlalchemy import String, cast, literal_column, or_

    from tracker.regions.models import Region, RegionCounty

    def text(column):
        return func.coalesce(cast(column, String), literal_column("''"))

    def sized(column):
        return cast(func.length(column), String) + literal_column("':'") + column

    bar, comma, newline = literal_column("'|'"), literal_column("','"), literal_column("';'")
    aggregate = func.string_agg if dialect == "postgresql" else func.group_concat
    mine = or_(Region.id == region_id, Region.parent_id == region_id)
    regions = (select((text(Region.id) + bar + sized(Region.code) + bar + sized(Region.name) + bar + text(Region.level)
                       + bar + text(Region.parent_id)).label("row"))
               .where(mine).order_by(Region.id).subquery())
    counties = (select((text(RegionCounty.region_id) + literal_column("':'") + text(RegionCounty.campaign_id)).label("row"))
                .where(RegionCounty.region_id.in_(select(Region.id).where(mine)))
                .order_by(RegionCounty.region_id, RegionCounty.campaign_id).subquery())
    return [select(aggregate(regions.c.row, newline)).scalar_subquery(),
            select(aggregate(counties.c.row, comma)).scalar_subquery()]
