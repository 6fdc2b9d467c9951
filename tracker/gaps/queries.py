"""Reading stored gap plans, and what one says for one shortfall (a task's 测算补充量)."""

from __future__ import annotations

from sqlmodel import Session, select

from tracker.assessment.models import ShortfallRecord
from tracker.assessment.shortfalls import format_amount
from tracker.gaps.models import GapPlanRecord
from tracker.org.models import School

CV_NAMED = 5  # a CV shortfall names at most this many additions


def latest_gap_plan(session: Session, assessment_id: int) -> GapPlanRecord | None:
    """The newest plan stored for an assessment."""
    return session.exec(select(GapPlanRecord).where(GapPlanRecord.assessment_id == assessment_id)
                        .order_by(GapPlanRecord.id.desc())).first()


def planned_text(result: dict, kind: str, indicator: str, stage: str | None, school_key: str | None) -> str | None:
    """The plan's amount for a school and indicator, or for a CV the additions that bring it under;
    None when the plan has nothing for it."""
    additions = result.get("additions") or []
    if kind == "school_value" and school_key is not None:
        own = [a for a in additions if a["school_key"] == school_key and a["indicator"] == indicator
               and (a["stage"] is None or a["stage"] == stage)]
        if not own:
            return "测算方案不需补充（按最少费用方案，本项可保留在标准的 85% 以上）" if result.get("feasible") else None
        amount = sum(a["amount"] for a in own)
        cost = sum(a["cost"] for a in own)
        where = "（全校，按学段权重分摊）" if own[0]["stage"] is None else ""
        return f"测算补充 {format_amount(round(amount, 4))} {own[0]['unit']}{where}，约 {cost:.2f} 万元"
    if kind == "cv":
        cv = next((c for c in result.get("cvs") or [] if c["indicator"] == indicator and c["stage"] == stage), None)
        after = cv.get("after") if cv else None
        stage_schools = set(result.get("stage_schools", {}).get(stage or "", []))
        own = [a for a in additions if a["indicator"] == indicator
               and (a["stage"] == stage or (a["stage"] is None and (not stage_schools or a["school_key"] in stage_schools)))]
        if not own:
            return None
        own.sort(key=lambda a: -a["cost"])
        named = "、".join(f"{a['school']} +{format_amount(a['amount'])} {a['unit']}" for a in own[:CV_NAMED])
        more = f" 等 {len(own)} 项" if len(own) > CV_NAMED else ""
        lead = f"补充后差异系数 {after:.4f}：" if after is not None else "测算补充："
        return lead + named + more
    return None


def planned_for_indicator(result: dict, indicator: str) -> str | None:
    """One line for the 任务分解表: the plan's total for an indicator, and the CVs it brings under."""
    own = [a for a in result.get("additions") or [] if a["indicator"] == indicator]
    if not own:
        return None
    amount = sum(a["amount"] for a in own)
    cost = sum(a["cost"] for a in own)
    schools = len({a["school_key"] for a in own})
    text = f"补短板测算：{schools} 所学校共补充 {format_amount(round(amount, 4))} {own[0]['unit']}，约 {cost:.2f} 万元"
    brought = [c for c in result.get("cvs") or [] if c["indicator"] == indicator and c.get("before") is not None
               and c["before"] > c["limit"] and c.get("after") is not None]
    for c in brought:
        name = {"primary": "小学", "junior": "初中"}.get(c["stage"], c["stage"])
        text += f"；{name}差异系数 {c['before']:.4f} → {c['after']:.4f}"
    return text + "。"


def planned_for_shortfall(session: Session, shortfall: ShortfallRecord) -> str | None:
    """A shortfall's planned amount from the newest plan of its assessment (None: no plan stored)."""
    plan = latest_gap_plan(session, shortfall.assessment_id)
    if plan is None:
        return None
    school = session.get(School, shortfall.school_id) if shortfall.school_id else None
    return planned_text(plan.result, shortfall.kind, shortfall.indicator, shortfall.stage,
                        school.key if school else None)
