"""From owed notices to the recipients' items: when a notice's sending window opens.

The sweep writes one ``OwedNotice`` per task and rung (a due task owes one or two rungs; it used to
write a ``NoticeItem`` per recipient, 5.6 per due task, and that INSERT was half the sweep). The
composer calls ``expand_owed`` first, in its own transaction: each owed notice whose window has
opened (``not_before <= now``, an urgent one at once) becomes one ``NoticeItem`` per recipient,
worked out now from the campaign's people by the same rules as before (``recipients_for``), keyed
``<the notice's key><the recipient's part>`` as the sweep keyed them, inserted ``ON CONFLICT DO
NOTHING``; and the notice is marked expanded in the same statement batch. So:

- nothing lost: the items and the mark commit together with the messages that claim them, or
  none of it does, and the notice is still owed at the next run;
- nothing doubled per recipient: a recipient's item has the same unique key however often its
  notice is expanded (two composers at once, a run killed after the expansion);
- recipients are those of the moment the notice goes out (a contact replaced overnight gets the
  morning's reminders, not the one who left).

A fixed number of statements per run whatever the number of notices (SQLite: slices of 500 ids;
PostgreSQL: one statement each, the ids as one array parameter).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict

from sqlalchemy import Text, and_, cast, or_, select, update
from sqlmodel import Session

from tracker.notices.models import OwedNotice, Rung
from tracker.org.models import School
from tracker.reminders.ladder import RUNG_AUDIENCE
from tracker.reminders.notices import ITEM_COLUMNS, JSON_ASCII, JSON_UTF8, among, insert_items
from tracker.reminders.recipients import CampaignContext
from tracker.tasks.models import Task, TaskCooperator

logger = logging.getLogger(__name__)
_O = OwedNotice.__table__
_T = Task.__table__
_SLICE = 500


def expand_owed(session: Session, now: dt.datetime, *, task_ids: list[int] | None = None) -> int:
    """Write the recipients' items of every owed notice whose window has opened at ``now`` (of
    ``task_ids`` only, window or not, when given: a notice owed in a move, at once); returns how
    many items were written. Does not commit."""
    postgres = session.get_bind().dialect.name == "postgresql"
    # the payload as its JSON text and (SQLite) the times in their stored text form: written back
    # as read, neither parsed nor formatted again per row
    times = (_O.c.not_before, _O.c.created_at) if postgres else \
        (cast(_O.c.not_before, Text).label("not_before"), cast(_O.c.created_at, Text).label("created_at"))
    query = (select(_O.c.id, _O.c.campaign_id, _O.c.task_id, _O.c.rung, _O.c.occurrence, _O.c.idempotency_key,
                    _O.c.urgent, cast(_O.c.payload, Text).label("payload"), *times,
                    _T.c.department_id, _T.c.responsible_school_id)
             .select_from(_O.join(_T, _T.c.id == _O.c.task_id))
             .where(_O.c.expanded_at.is_(None)).order_by(_O.c.id))
    if task_ids is not None:
        if not task_ids:
            return 0
        query = query.where(_O.c.task_id.in_(task_ids))
    else:
        query = query.where(or_(_O.c.not_before <= now, _O.c.urgent.is_(True)))
    # PostgreSQL: another composer's notices are skipped, not waited for
    owed = session.execute(query.with_for_update(of=_O, skip_locked=True)).all()
    if not owed:
        return 0

    assigned = sorted({o.task_id for o in owed if o.rung == Rung.assigned.value})
    cooperating: dict[int, list[int]] = defaultdict(list)
    slice_ = len(assigned) or 1 if postgres else _SLICE  # PostgreSQL: one array parameter, one statement
    for start in range(0, len(assigned), slice_):
        for task_id, dept_id in session.execute(
                select(TaskCooperator.task_id, TaskCooperator.department_id)
                .where(among(TaskCooperator.task_id, assigned[start:start + slice_], session))
                .order_by(TaskCooperator.task_id, TaskCooperator.department_id)):
            cooperating[task_id].append(dept_id)
    school_ids = sorted({o.responsible_school_id for o in owed if o.responsible_school_id is not None})
    schools: dict[int, School] = {}
    for start in range(0, len(school_ids), _SLICE):
        schools.update((s.id, s) for s in session.execute(
            select(School).where(School.id.in_(school_ids[start:start + _SLICE]))).scalars())

    found_problems: list[str] = []  # the sweep said so when it owed them; logged again here
    contexts: dict[int, CampaignContext] = {}
    # rows in the bulk insert's forms (notices.BulkInsert): PostgreSQL a JSON object each, SQLite a tuple
    encode = JSON_UTF8 if postgres else JSON_ASCII
    rows: list = []
    no_one = []
    for o in owed:
        ctx = contexts.get(o.campaign_id)
        if ctx is None:
            ctx = contexts[o.campaign_id] = CampaignContext(session, o.campaign_id, found_problems)
        rung = Rung(o.rung)
        school = schools.get(o.responsible_school_id) if o.responsible_school_id is not None else None
        found = ctx.recipients(o, RUNG_AUDIENCE[rung], rung, cooperating.get(o.task_id, []), school)
        if not found.people:
            no_one.append(o.task_id)
            continue
        plain = (o.payload or "{}").strip()
        head = (o.campaign_id, o.task_id, o.rung, o.occurrence, o.urgent)
        times = (o.not_before.isoformat(), o.created_at.isoformat()) if postgres else (o.not_before, o.created_at)
        for r in found.people:
            text = _with_mention(plain, encode(list(r.mentions))) if r.mentions else plain
            row = (*head, text, *times, o.idempotency_key + r.key, r.person_id, r.name, r.address, r.copy)
            rows.append(_pg_row(row, encode) if postgres else row)
    if no_one:
        found_problems.append(f"{len(no_one)} 条提醒已无可送达的收件人（任务 #{'、#'.join(map(str, no_one[:10]))}"
                              f"{' 等' if len(no_one) > 10 else ''}）：请在创建方案中补充联系人。")
    for problem in found_problems:
        logger.warning("%s", problem)
    written = len(insert_items(session, rows, postgres))
    ids = [o.id for o in owed]
    slice_ = len(ids) if postgres else _SLICE  # PostgreSQL: one statement (500 ids each was an eighth of it)
    for start in range(0, len(ids), slice_):
        session.execute(update(_O).where(and_(among(_O.c.id, ids[start:start + slice_], session),
                                              _O.c.expanded_at.is_(None)))
                        .values(expanded_at=now))
    return written


_ITEM_NAMES = list(ITEM_COLUMNS)


def _with_mention(payload: str, mentions: str) -> str:
    """A payload's JSON text (an object) with a robot's ``mention`` added."""
    body = payload[:-1].rstrip()
    return f'{body}{", " if body != "{" else ""}"mention": {mentions}}}'


def _pg_row(row: tuple, encode) -> str:
    """A row as the JSON object the PostgreSQL bulk insert reads (the payload a JSON value)."""
    values = dict(zip(_ITEM_NAMES, row))
    payload = values.pop("payload")
    return encode(values)[:-1] + f', "payload": {payload}}}'



def unexpanded_recipients(session: Session, campaign_id: int, rung: Rung, since: dt.datetime,
                          before: dt.datetime) -> int:
    """How many recipients the owed notices of ``rung`` created in [since, before) whose items are
    not written yet will reach (worked out as their expansion will: the briefing's 送达人次 counts
    them beside the items already written)."""
    owed = session.execute(
        select(_O.c.task_id, _T.c.department_id, _T.c.responsible_school_id)
        .select_from(_O.join(_T, _T.c.id == _O.c.task_id))
        .where(_O.c.campaign_id == campaign_id, _O.c.rung == rung.value, _O.c.expanded_at.is_(None),
               _O.c.created_at >= since, _O.c.created_at < before)).all()
    if not owed:
        return 0
    ctx = CampaignContext(session, campaign_id, [])
    cooperating: dict[int, list[int]] = defaultdict(list)
    if rung is Rung.assigned:
        ids = sorted({o.task_id for o in owed})
        for start in range(0, len(ids), _SLICE):
            for task_id, dept_id in session.execute(
                    select(TaskCooperator.task_id, TaskCooperator.department_id)
                    .where(TaskCooperator.task_id.in_(ids[start:start + _SLICE]))
                    .order_by(TaskCooperator.task_id, TaskCooperator.department_id)):
                cooperating[task_id].append(dept_id)
    school_ids = sorted({o.responsible_school_id for o in owed if o.responsible_school_id is not None})
    schools = {s.id: s for s in session.execute(select(School).where(School.id.in_(school_ids))).scalars()} \
        if school_ids else {}
    return sum(len(ctx.recipients(o, RUNG_AUDIENCE[rung], rung, cooperating.get(o.task_id, []),
                                  schools.get(o.responsible_school_id)).people) for o in owed)
