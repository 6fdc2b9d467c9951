"""What a review or the national check needs ready, from the other rooms: the materials
checklist's missing required items as tasks of their units, the satisfaction survey opened,
the application package's gaps (issue 16 §1, wired to issue 13 §3–4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from tracker.clock import local_today
from tracker.events.service import SYSTEM_ACTOR
from tracker.materials.queries import missing_required_items
from tracker.org.models import Campaign, Department, Phase
from tracker.org.queries import departments, office_department
from tracker.standards import load_standard
from tracker.surveys import queries as survey_queries
from tracker.surveys.service import open_survey
from tracker.tasks.models import TaskOrigin
from tracker.tasks.service import NewTask, create_tasks
from tracker.workdays import add_working_days


def _unit(by_name: dict[str, Department], name: str) -> Department | None:
    return by_name.get(name)


def materials_tasks(session: Session, campaign: Campaign, phase: Phase, actor: str = SYSTEM_ACTOR,
                    lead_days: int = 10, today: dt.date | None = None) -> dict[str, Any]:
    """One task per required checklist item still without a file, for the first unit the plan names
    for its indicator (the others cooperate; the office where the plan names none of the county's
    units), due ``lead_days`` working days before the gate. Keyed by phase and item: made once."""
    missing = missing_required_items(session, campaign.id)
    if not missing:
        return {"created": [], "missing": 0}
    units = departments(session, campaign.id, active_only=True)
    by_name = {d.name: d for d in units} | {d.short_name: d for d in units if d.short_name}
    office = office_department(session, campaign.id)
    gate = phase.gate_on
    due = add_working_days(gate, -lead_days) if gate is not None else add_working_days(today or local_today(), 20)
    new = []
    for item in missing:
        named = [d for d in (_unit(by_name, n) for n in item.units) if d is not None]
        lead = named[0] if named else office
        if lead is None:
            continue
        new.append(NewTask(
            phase=phase, title=f"{phase.name}迎检：补齐资料「{item.title}」", indicator=item.indicator,
            measures=f"指标{item.indicator}（{item.indicator_title}）的必备资料「{item.title}」尚无文件："
                     f"整理后上传为佐证材料，并标注资料项 {item.item_id}。",
            origin=TaskOrigin.plan, origin_key=f"phase:{phase.code}:材料:{item.item_id}", due_on=due,
            department=lead, cooperating=[d for d in named[1:] if d.id != lead.id]))
    created = create_tasks(session, campaign, new, actor=actor, today=today)
    return {"created": [t.id for t in created], "missing": len(missing)}


def survey_opened(session: Session, campaign: Campaign, actor: str = SYSTEM_ACTOR) -> dict[str, Any]:
    """Open a satisfaction survey round with the standard's questionnaire, unless one is open."""
    standard = load_standard(campaign.standard_id)
    if standard.survey is None:
        return {"opened": False, "note": "该评估标准未设满意度调查"}
    current = survey_queries.open_survey_of(session, campaign.id)
    if current is not None:
        return {"opened": False, "survey_id": current.id, "note": "已有一轮满意度调查正在进行"}
    survey = open_survey(session, campaign, actor)
    return {"opened": True, "survey_id": survey.id}


def materials_gaps(session: Session, campaign: Campaign) -> list[str]:
    """The 资料汇编's missing required items, by name, for the application package's check."""
    return [f"资料汇编缺必备资料「{m.title}」（指标{m.indicator}）" for m in missing_required_items(session, campaign.id)]
