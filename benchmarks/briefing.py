"""Weekly briefing speed: a county of 5,000 tasks with their event history, and a city of 10 such
counties.

    uv run python benchmarks/briefing.py                       # SQLite in a temporary directory
    uv run python benchmarks/briefing.py --backend postgresql  # JUNHENG_BENCH_POSTGRES_URL, default
                                                               # postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    uv run python benchmarks/briefing.py --tasks 2000 --counties 3 --pdf

Each county is the example plan (examples/plan.yaml: 22 units, five phases) under its own code,
with two assessments of the example schools (the second one with more equipment), and N tasks
created over the eight weeks 11-02 … 12-27 with a history written the way the lifecycle writes it:
签收 (85 %), 进度, 提交 (some late), 销号 (most of those), a few 退回 and 撤销 — about 3.3 events
per task — and the reminders and 督办单 the sweep would have queued for the late ones. Rows are
loaded in bulk; only the briefing is timed, for the week 2026-W52, computed on Monday 12-28:

    compute   tracker.briefings.compute_briefing: replay of every task's events to Sunday 24:00
    render    both charts (matplotlib) and the Word document (python-docx)

Prints seconds per county briefing (compute + render; the aim is under 3 s) and for the city
(its 10 county briefings one after another). ``--pdf`` also times one LibreOffice conversion.
Not part of CI.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import time_machine  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from tracker.assessment.models import AssessmentSnapshot  # noqa: E402
from tracker.calendar import CHINA, active_calendar  # noqa: E402
from tracker.campaigns.service import apply_plan  # noqa: E402
from tracker.db import make_engine, migrate  # noqa: E402
from tracker.events.models import Event  # noqa: E402
from tracker.notices.models import NoticeItem  # noqa: E402
from tracker.org.models import Campaign, Department, Person, Phase
from tracker.plans import load_plan  # noqa: E402
from tracker.plans.kinds import UnitKind  # noqa: E402
from tracker.schooldata.models import DataSubmission  # noqa: E402
from tracker.tasks.models import Task, TaskStatus  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WEEK = "2026-W52"
NOW = dt.datetime(2026, 12, 28, 9, 0, tzinfo=CHINA)  # the Monday the scheduler issues W52
FIRST_DAY = dt.date(2026, 11, 2)
S = TaskStatus


def _moment(day: dt.date, rng: random.Random) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=CHINA) \
        .astimezone(dt.timezone.utc)


def assessment_results() -> tuple[dict, dict]:
    """Two real assessment results of the example county: as sent in, and after more equipment."""
    from tracker.assessment.engine import assess
    from tracker.assessment.report import to_json
    from tracker.schooldata.sheet import read_school_sheet
    from tracker.standards import load_standard

    standard = load_standard("national-2017")
    records = read_school_sheet(ROOT / "examples" / "schools.xlsx")
    first = to_json(assess(standard, records, {}, dt.date(2026, 11, 30)))
    # rectification: no school below 2,800 元 of equipment per pupil (values in 万元)
    improved = [dataclasses.replace(r, equipment_value=max(r.equipment_value, round(0.28 * _pupils(r), 2)))
                for r in records]
    second = to_json(assess(standard, improved, {}, dt.date(2026, 12, 21)))
    return _finite(first), _finite(second)


def _pupils(record) -> int:
    return sum(getattr(record, name, 0) or 0 for name in ("primary_students", "junior_students"))


def _finite(value):
    import math

    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def build_county(engine, index: int, tasks: int, results: tuple[dict, dict]) -> tuple[str, int]:
    """One county: the example plan under code ``county-<index>``, its history loaded in bulk."""
    rng = random.Random(1000 + index)
    cal = active_calendar()
    plan = load_plan(ROOT / "examples" / "plan.yaml")
    plan = plan.model_copy(update={"code": f"county-{index:02d}", "name": f"第{index}县创建全国义务教育优质均衡发展县",
                                   "county": f"第{index}县"})
    with Session(engine, expire_on_commit=False) as session:
        campaign = apply_plan(session, plan)
        session.commit()
        phases = session.exec(select(Phase).where(Phase.campaign_id == campaign.id).order_by(Phase.ordinal)).all()
        units = [d.id for d in session.exec(select(Department).where(Department.campaign_id == campaign.id))
                 if UnitKind(d.kind) is not UnitKind.office]
        people = session.exec(select(Person).where(Person.campaign_id == campaign.id)).all()
        office = next(p for p in people if p.is_office)
        contact = {p.department_id: p for p in people if p.is_contact and p.department_id}
        for n, (result, day) in enumerate(zip(results, (dt.date(2026, 11, 30), dt.date(2026, 12, 21)), strict=True)):
            submission = DataSubmission(campaign_id=campaign.id, label=f"第{n + 1}次", school_count=40)
            session.add(submission)
            session.flush()
            session.add(AssessmentSnapshot(campaign_id=campaign.id, submission_id=submission.id,
                                           standard_id="national-2017", ok=False, result=result,
                                           created_at=_moment(day, rng)))
        session.commit()
        campaign_id, phase_ids = campaign.id, [phases[0].id, phases[1].id]

    working_days = [FIRST_DAY + dt.timedelta(days=d) for d in range(56) if cal.is_working_day(FIRST_DAY + dt.timedelta(days=d))]
    end = dt.date(2026, 12, 27)
    task_rows, histories = [], []
    for n in range(tasks):
        created_day = rng.choice(working_days[:-5])
        created = _moment(created_day, rng)
        due = cal.add_working_days(created_day, rng.randint(5, 30))
        dept = rng.choice(units)
        events: list[tuple[str, dt.datetime, dict]] = [("task.created", created, {"origin_key": f"b|{n}"})]
        status, progress, submitted_at, verified_at = S.assigned, 0, None, None
        clock = created_day

        def later(day: dt.date, lo: int, hi: int) -> dt.date:
            return cal.add_working_days(day, rng.randint(lo, hi))

        def move(kind: str, day: dt.date, old: S, new: S, **extra) -> bool:
            if day > end:
                return False
            events.append((kind, _moment(day, rng), {"from": old.value, "to": new.value, **extra}))
            return True

        fate = rng.random()
        if fate > 0.15:
            clock = later(clock, 0, 3)
            if move("task.accepted", clock, status, S.accepted):
                status = S.accepted
                if rng.random() < 0.7:
                    clock = later(clock, 1, 6)
                    if move("task.progress", clock, status, S.in_progress, percent=rng.choice([20, 40, 60, 80])):
                        status, progress = S.in_progress, events[-1][2]["percent"]
                if rng.random() < 0.03:
                    clock = later(clock, 1, 4)
                    if move("task.withdrawn", clock, status, S.withdrawn, reason="不再需要"):
                        status = S.withdrawn
                elif rng.random() < 0.7:
                    clock = due if rng.random() < 0.25 else later(clock, 1, 10)  # some on the very last day
                    if rng.random() < 0.2:
                        clock = later(due, 1, 6)  # late
                    if move("task.submitted", clock, status, S.submitted, note="已完成"):
                        status, progress, submitted_at = S.submitted, 100, events[-1][1]
                        if rng.random() < 0.06:
                            clock = later(clock, 1, 2)
                            if move("task.returned", clock, status, S.in_progress, reason="佐证不全"):
                                status, submitted_at = S.in_progress, None
                                clock = later(clock, 1, 3)
                                if move("task.submitted", clock, status, S.submitted, note="已补充"):
                                    status, submitted_at = S.submitted, events[-1][1]
                        if status is S.submitted and rng.random() < 0.85:
                            clock = later(clock, 1, 3)
                            if move("task.verified", clock, status, S.verified, note=""):
                                status, verified_at = S.verified, events[-1][1]
        last = events[-1][1]
        task_rows.append({
            "campaign_id": campaign_id, "phase_id": phase_ids[0] if due <= dt.date(2026, 12, 31) else phase_ids[1],
            "title": f"整改任务{n + 1}：按标准补齐短板", "measures": "按方案整改", "department_id": dept,
            "due_on": due, "status": status.value, "progress": progress, "notes": "", "origin": rng.choice(
                ["shortfall", "attestation", "plan", "finding"]), "origin_key": f"b|{n}", "created_at": created,
            "updated_at": last, "submitted_at": submitted_at, "verified_at": verified_at, "next_reminder_at": None,
            "assignee_id": contact[dept].id if status is not S.assigned else None,
        })
        histories.append((events, due, status, contact[dept], office))

    with engine.begin() as conn:
        conn.execute(sa.insert(Task.__table__), task_rows)
        # the rows just inserted (applying the plan already made its preparatory tasks)
        ids = [row[0] for row in conn.execute(sa.select(Task.__table__.c.id).where(
            Task.__table__.c.campaign_id == campaign_id, Task.__table__.c.origin_key.like("b|%"))
            .order_by(Task.__table__.c.id))]
        event_rows, notice_rows = [], []
        for task_id, (events, due, status, person, office_person) in zip(ids, histories, strict=True):
            for kind, at, payload in events:
                actor = office_person if kind in ("task.verified", "task.returned", "task.withdrawn") else person
                event_rows.append({"campaign_id": campaign_id, "at": at, "actor": actor.name, "actor_id": actor.id,
                                   "type": kind, "task_id": task_id, "payload": payload, "dispatched_at": at})
            if status in (S.assigned, S.accepted, S.in_progress) and due < end:
                late = cal.working_days_between(due, end)
                for k in range(1, late // 2 + 1):  # 催办 every 2 working days
                    notice_rows.append(_notice(campaign_id, task_id, "chase", k, person,
                                               _moment(cal.add_working_days(due, 2 * k), rng)))
                if late >= 3:
                    notice_rows.append(_notice(campaign_id, task_id, "escalation", 0, office_person,
                                               _moment(cal.add_working_days(due, 3), rng)))
        for start in range(0, len(event_rows), 5000):
            conn.execute(sa.insert(Event.__table__), event_rows[start:start + 5000])
        if notice_rows:
            conn.execute(sa.insert(NoticeItem.__table__), notice_rows)
    return plan.code, len(event_rows)


def _notice(campaign_id: int, task_id: int, rung: str, occurrence: int, person, at: dt.datetime) -> dict:
    return {"campaign_id": campaign_id, "task_id": task_id, "rung": rung, "occurrence": occurrence,
            "idempotency_key": f"{task_id}:{rung}:{occurrence}:p{person.id}", "recipient_person_id": person.id,
            "recipient_name": person.name, "recipient_address": person.email, "in_copy": False, "urgent": False,
            "payload": {}, "not_before": at, "created_at": at, "message_id": None}


def time_briefing(engine, code: str) -> tuple[float, float, int, float]:
    """(compute seconds, render seconds, docx bytes, CPU seconds of both) of one county's W52 briefing."""
    from notifications.briefing.charts import briefing_charts
    from notifications.briefing.document import write_briefing_docx
    from tracker.briefings.compute import compute_briefing

    with time_machine.travel(NOW, tick=True):
        with Session(engine) as session:
            campaign = session.exec(select(Campaign).where(Campaign.code == code)).one()
            cpu = time.process_time()
            started = time.perf_counter()
            data = compute_briefing(session, campaign, WEEK)
            computed = time.perf_counter() - started
        data.number, data.issued_on = 52, NOW.date()
        started = time.perf_counter()
        docx = write_briefing_docx(data, briefing_charts(data))
        rendered = time.perf_counter() - started
    return computed, rendered, len(docx), time.process_time() - cpu


@contextlib.contextmanager
def scratch_database(backend: str, label: str):
    """A database of its own for one benchmark run, dropped afterwards: a SQLite file in a temporary
    folder, or a fresh PostgreSQL database on ``JUNHENG_BENCH_POSTGRES_URL``'s server."""
    if backend == "sqlite":
        yield f"sqlite:///{tempfile.mkdtemp(prefix=f'junheng-bench-{label}-')}/bench.db"
        return
    base = os.environ.get("JUNHENG_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    name = f"junheng_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tasks", type=int, default=5000, help="tasks per county")
    parser.add_argument("--counties", type=int, default=10, help="counties in the city")
    parser.add_argument("--pdf", action="store_true", help="also time one LibreOffice PDF conversion")
    args = parser.parse_args()

    with scratch_database(args.backend, "briefing") as url:
        migrate(url)
        engine = make_engine(url)
        results = assessment_results()
        started = time.perf_counter()
        codes, events = [], 0
        with time_machine.travel(dt.datetime(2026, 11, 1, 9, 0, tzinfo=CHINA), tick=True):
            for index in range(1, args.counties + 1):
                code, count = build_county(engine, index, args.tasks, results)
                codes.append(code)
                events += count
        print(f"{args.backend}: {args.counties} 个县 × {args.tasks} 项任务，事件 {events} 条"
              f"（约 {events / (args.counties * args.tasks):.1f} 条/任务），造数 {time.perf_counter() - started:.1f} 秒")

        time_briefing(engine, codes[0])  # warm-up: imports, fonts, the standard file
        timings = [time_briefing(engine, code) for code in codes]
        totals = [c + r for c, r, _, _ in timings]
        compute = [c for c, _, _, _ in timings]
        render = [r for _, r, _, _ in timings]
        cpu = [p for _, _, _, p in timings]
        load = os.getloadavg()[0]
        print(f"每个县的调度通报（计算 + 图表和 Word）：中位数 {statistics.median(totals):.2f} 秒，"
              f"最慢 {max(totals):.2f} 秒（目标 < 3 秒）；CPU 时间中位数 {statistics.median(cpu):.2f} 秒"
              f"（测时系统负载 {load:.1f}，{os.cpu_count()} 核）")
        print(f"  其中计算 中位数 {statistics.median(compute):.2f} 秒，图表和 Word 中位数 {statistics.median(render):.2f} 秒；"
              f"Word 文件约 {statistics.median(b for _, _, b, _ in timings) / 1024:.0f} KB")
        print(f"全市 {args.counties} 个县依次生成：{sum(totals):.1f} 秒（CPU {sum(cpu):.1f} 秒）")
        if args.pdf:
            from notifications.briefing.charts import briefing_charts
            from notifications.briefing.document import write_briefing_docx
            from notifications.briefing.pdf import docx_to_pdf, soffice_path
            from tracker.briefings.compute import compute_briefing

            if soffice_path() is None:
                print("未安装 LibreOffice，跳过 PDF")
            else:
                with time_machine.travel(NOW, tick=True), Session(engine) as session:
                    campaign = session.exec(select(Campaign).where(Campaign.code == codes[0])).one()
                    data = compute_briefing(session, campaign, WEEK)
                data.number = 52
                docx = write_briefing_docx(data, briefing_charts(data))
                started = time.perf_counter()
                pdf = docx_to_pdf(docx)
                print(f"PDF（LibreOffice）：{time.perf_counter() - started:.1f} 秒，{len(pdf or b'') / 1024:.0f} KB")
        engine.dispose()


if __name__ == "__main__":
    main()
