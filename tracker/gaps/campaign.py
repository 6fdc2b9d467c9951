"""The gap plan of a campaign: its latest assessment's data, county inputs and responsible units."""

from __future__ import annotations

from sqlmodel import Session

from tracker.assessment.county_inputs import county_inputs_of
from tracker.assessment.models import AssessmentSnapshot
from tracker.assessment.queries import latest_snapshot_id
from tracker.clock import local_date
from tracker.errors import ErrorKind, JunhengError
from tracker.gaps.costs import CostBook
from tracker.assessment.snapshots import finite_json
from tracker.gaps.models import GapPlanRecord
from tracker.gaps.report import GapPlan, make_plan, plan_json
from tracker.org.models import Campaign
from tracker.org.service import plan_of
from tracker.schooldata.models import DataSubmission
from tracker.schooldata.submissions import records_of
from tracker.standards import load_standard


class NoAssessmentYet(JunhengError, LookupError, kind=ErrorKind.not_found):
    """A campaign with no assessment to plan from."""


def campaign_gap_plan(session: Session, campaign: Campaign, costs: CostBook, margin: float = 0.02,
                      store: bool = True) -> GapPlan:
    """Plan from the data of the campaign's latest assessment, with its county inputs; totals per
    responsible unit use the plan's 牵头单位 of each indicator. ``store`` keeps it (the caller
    commits) for the tasks and the 任务分解表 to show."""
    snapshot_id = latest_snapshot_id(session, campaign.id)
    snapshot = session.get(AssessmentSnapshot, snapshot_id) if snapshot_id is not None else None
    submission = session.get(DataSubmission, snapshot.submission_id) if snapshot is not None else None
    if snapshot is None or submission is None:
        raise NoAssessmentYet(f"创建工作「{campaign.name}」还没有评估结果，请先运行 junheng selfcheck 导入学校数据并评估。")
    standard = load_standard(snapshot.standard_id)
    records = records_of(session, submission)
    as_of = local_date(snapshot.created_at)
    plan = make_plan(standard, records, costs, margin, as_of=as_of,
                     county_inputs=county_inputs_of(session, campaign))
    if campaign.plan:  # a campaign made without a plan file keeps the standard's departments
        plan.units_by_indicator = {code: entry.lead for code, entry in plan_of(campaign).assignments.items()}
    if store:
        data = plan_json(plan)
        data.pop("after")  # the assessment it leads to is recomputed on request; tasks need the additions
        data["stage_schools"] = {stage: [s.school_key for s in result.schools]
                                 for stage, result in plan.before.stages.items()}
        session.add(GapPlanRecord(campaign_id=campaign.id, assessment_id=snapshot.id, margin=margin,
                                  costs_source=costs.source, feasible=plan.feasible, total_cost=plan.total_cost,
                                  result=finite_json(data)))
        session.flush()
    return plan
