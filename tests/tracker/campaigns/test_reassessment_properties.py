"""Property: re-assessment is idempotent. Under any sequence of new data for the example county
(schools fixing or breaking resource indicators), with the office verifying resolved work or not
in between, the tasks always match the newest assessment: one task per shortfall ever seen,
never two; a shortfall present has an open, unresolved task; one gone has its task marked
resolved by data (or already verified); and reconciling the same assessment again changes nothing."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import Session, select

from tracker.assessment.models import ShortfallRecord
from tracker.campaigns import selfcheck
from tracker.campaigns.service import apply_plan
from tracker.events.models import Event
from tracker.org.service import find_person
from tracker.plans import load_plan
from tracker.schooldata.sheet import read_school_sheet
from tracker.schooldata import submissions
from tracker.tasks import lifecycle, reconcile
from tracker.tasks.models import Task, TaskOrigin, TaskStatus

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
RECORDS = read_school_sheet(EXAMPLES / "schools.xlsx")
PLAN = load_plan(EXAMPLES / "plan.yaml")
FIELDS = ("equipment_value", "sports_area", "multimedia_rooms")

# one batch of new data: some schools' fields scaled (0.2: broken, 5: fixed, 1: as in the example)
changes = st.lists(st.tuples(st.integers(0, len(RECORDS) - 1), st.sampled_from(FIELDS),
                             st.sampled_from([0.2, 1.0, 5.0])), max_size=6)
steps = st.lists(st.tuples(changes, st.booleans()), min_size=1, max_size=4)


def _sheet(batch) -> list:
    records = list(RECORDS)
    for index, name, factor in batch:
        records[index] = dataclasses.replace(records[index], **{name: getattr(records[index], name) * factor})
    return records


def test_reassessing_any_sequence_of_data_keeps_one_task_per_shortfall(engine, tmp_path):
    files = itertools.count()
    with Session(engine, expire_on_commit=False) as session:

        @settings(max_examples=12, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
        @given(steps=steps)
        def check(steps):
            campaign = apply_plan(session, PLAN)
            office = find_person(session, campaign, "韩静")
            seen: set[str] = set()
            try:
                for batch, verify_resolved in [([], False), *steps]:
                    # the sheet's reading is tested elsewhere: here each batch of records is the sheet
                    path = tmp_path / f"sheet-{next(files)}.xlsx"
                    path.write_bytes(path.name.encode())
                    with mock.patch.object(submissions, "read_school_sheet", return_value=_sheet(batch)):
                        result = selfcheck.run_self_check(session, campaign, path, actor="韩静")
                    snapshot = result.snapshot
                    now = set(session.exec(select(ShortfallRecord.key)
                                           .where(ShortfallRecord.assessment_id == snapshot.id)))
                    seen |= now
                    tasks = {t.origin_key: t for t in session.exec(select(Task).where(
                        Task.campaign_id == campaign.id, Task.origin == TaskOrigin.shortfall.value))}
                    assert set(tasks) == seen  # one task per shortfall ever seen
                    for key, task in tasks.items():
                        status = TaskStatus(task.status)
                        if key in now:
                            assert task.resolved_by_assessment_id is None and status is not TaskStatus.verified, key
                        else:
                            assert task.resolved_by_assessment_id is not None or status is TaskStatus.verified, key

                    again = reconcile.reconcile_tasks(session, campaign, snapshot)
                    assert (again.created, again.resolved, again.reopened) == ([], [], [])

                    if verify_resolved:  # the office 销号 what the data resolved
                        for task in tasks.values():
                            if task.resolved_by_assessment_id is not None and task.status != TaskStatus.verified:
                                lifecycle.verify(session, task, office)

                created = session.exec(select(Event.task_id, func.count()).where(
                    Event.campaign_id == campaign.id, Event.type == "task.created").group_by(Event.task_id)).all()
                assert created and all(count == 1 for _, count in created)
            finally:
                session.rollback()

        check()
