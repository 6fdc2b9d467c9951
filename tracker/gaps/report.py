"""A gap plan end to end: plan, apply, assess again; the JSON contract, the totals and the .xlsx.

JSON (issue 14; more fields are fine): ``{"feasible", "total_cost", "additions": [{"school",
"stage", "indicator", "amount", "unit", "cost"}], "after": <assess JSON>, "naive": {"total_cost",
"ok"}}``. Costs are 万元.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tracker.assessment.engine import Assessment, assess
from tracker.assessment.report import to_json
from tracker.gaps.costs import CostBook
from tracker.gaps.planner import Addition, PlanResult, apply_additions, plan_gaps
from tracker.gaps.problem import build_problem
from tracker.standards.records import SchoolRecord
from tracker.standards.schema import STAGE_NAMES, Standard


@dataclass(slots=True)
class GapPlan:
    standard: Standard
    costs: CostBook
    result: PlanResult
    before: Assessment
    after: Assessment | None  # the records with the plan's additions, assessed again
    naive_after: Assessment
    units_by_indicator: dict[str, str] | None = None  # campaign mode: the responsible unit per indicator

    @property
    def feasible(self) -> bool:
        # None: a stage with a single section has no CV; that is the data, not the plan
        return self.result.feasible and self.after is not None and self.after.ok is not False

    @property
    def total_cost(self) -> float:
        return round(self.result.plan.cost, 4) if self.result.plan is not None else 0.0

    def planned(self, school_key: str, indicator: str, stage: str | None) -> list[Addition]:
        """The plan's additions for a school and indicator (a teacher stage, or the whole school)."""
        return [a for a in self.result.additions if a.school_key == school_key and a.indicator == indicator
                and (a.stage is None or stage is None or a.stage == stage)]


def make_plan(standard: Standard, records: list[SchoolRecord], costs: CostBook, margin: float = 0.02,
              as_of: dt.date | None = None, county_inputs: dict[str, object] | None = None,
              kindergarten_weight: float | None = None) -> GapPlan:
    """Plan the additions, then assess the sheet with them (and with the naive plan's) by the engine."""
    problem = build_problem(standard, records, costs, kindergarten_weight)
    result = plan_gaps(problem, margin)
    before = assess(standard, records, county_inputs, as_of=as_of, kindergarten_weight=kindergarten_weight)
    after = None
    if result.plan is not None:
        after = assess(standard, apply_additions(records, result.additions, problem), county_inputs,
                       as_of=as_of, kindergarten_weight=kindergarten_weight)
    naive_after = assess(standard, apply_additions(records, result.naive_additions, problem), county_inputs,
                         as_of=as_of, kindergarten_weight=kindergarten_weight)
    return GapPlan(standard, costs, result, before, after, naive_after)


def addition_json(a: Addition) -> dict[str, object]:
    return {"school": a.school, "school_key": a.school_key, "stage": a.stage, "indicator": a.indicator,
            "amount": a.amount, "unit": a.unit, "cost": a.cost, "township": a.township}


def totals(plan: GapPlan, additions: list[Addition] | None = None) -> dict[str, list[dict[str, object]]]:
    """Per indicator (amount and cost), per township and per responsible unit (cost)."""
    additions = plan.result.additions if additions is None else additions
    titles = {i.code: i for i in plan.standard.resource_indicators}
    by_indicator: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    by_township: dict[str, float] = defaultdict(float)
    by_unit: dict[str, float] = defaultdict(float)
    for a in additions:
        by_indicator[a.indicator][0] += a.amount
        by_indicator[a.indicator][1] += a.cost
        by_township[a.township or "（未填乡镇）"] += a.cost
        by_unit[responsible_unit(plan, a.indicator)] += a.cost
    order = {c: i for i, c in enumerate(titles)}
    return {
        "by_indicator": [
            {"indicator": c, "title": titles[c].title, "unit": next(a.unit for a in additions if a.indicator == c),
             "amount": round(v[0], 4), "cost": round(v[1], 4)}
            for c, v in sorted(by_indicator.items(), key=lambda kv: order.get(kv[0], 99))
        ],
        "by_township": [{"township": t, "cost": round(c, 4)} for t, c in sorted(by_township.items(), key=lambda kv: -kv[1])],
        "by_unit": [{"unit": u, "cost": round(c, 4)} for u, c in sorted(by_unit.items(), key=lambda kv: -kv[1])],
    }


def responsible_unit(plan: GapPlan, indicator: str) -> str:
    """The campaign's lead unit for the indicator, else the standard's first department."""
    if plan.units_by_indicator and indicator in plan.units_by_indicator:
        return plan.units_by_indicator[indicator]
    departments = plan.standard.indicator(indicator).departments
    return departments[0] if departments else "（未定）"


def cv_rows(plan: GapPlan) -> list[dict[str, object]]:
    rows = []
    for stage, result in plan.before.stages.items():
        for code, ind in result.indicators.items():
            after = plan.after.stages[stage].indicators[code] if plan.after is not None else None
            rows.append({"stage": stage, "indicator": code, "limit": ind.cv_limit,
                         "target": round(ind.cv_limit - plan.result.margin, 6), "before": ind.cv,
                         "after": after.cv if after is not None else None,
                         "ok_after": after.cv_ok if after is not None else None})
    return rows


def plan_json(plan: GapPlan) -> dict[str, object]:
    result = plan.result
    return {
        "feasible": plan.feasible,
        "total_cost": plan.total_cost,
        "cost_unit": "万元",
        "continuous_cost": None if result.continuous_cost is None else round(result.continuous_cost, 4),
        "lower_bound": None if result.lower_bound is None else round(result.lower_bound, 4),
        "margin": result.margin,
        "exact_choice": result.exact_choice,  # the 6-of-7 choice is proven optimal
        "choice": result.choice,
        # how far the continuous plan may be from the best choice's (at most 1e-4 of it when exact),
        # and the outer approximation's master MILPs (0 when no CV or county value binds)
        "choice_gap": None if result.continuous_cost is None or result.lower_bound is None
        else round(max(result.continuous_cost - result.lower_bound, 0.0), 4),
        "choice_iterations": result.choice_iterations,
        "choice_fixed": result.choice_fixed,  # schools the Lagrangian fixing settled (``gaps.fixing``)
        "standard": plan.standard.id,
        "costs_source": plan.costs.source,
        "costs_illustrative": plan.costs.illustrative,
        "infeasible": list(result.infeasible),
        "additions": [addition_json(a) for a in result.additions],
        "totals": totals(plan),
        "cvs": cv_rows(plan),
        "after": to_json(plan.after) if plan.after is not None else None,
        "naive": {
            "total_cost": round(result.naive.cost, 4),
            "ok": plan.naive_after.ok is True,
            "reasons": plan.naive_after.verdict_reasons(),
            "additions": [addition_json(a) for a in result.naive_additions],
        },
    }


def write_plan_xlsx(plan: GapPlan, path: str | Path) -> Path:
    """测算结果, 补充明细, the totals, 差异系数 before and after, 各校结论, and the naive plan."""
    from tracker.spreadsheets import new_workbook, save_workbook

    path = Path(path)
    data = plan_json(plan)
    wb = new_workbook()
    ws = wb.active
    ws.title = "测算结果"
    naive = data["naive"]
    assert isinstance(naive, dict)
    summary = [
        ("结论", "可行" if plan.feasible else "不可行"),
        ("补短板总费用（万元）", data["total_cost"]),
        ("连续最优解费用（取整前，万元）", data["continuous_cost"]),
        ("下界（万元）", data["lower_bound"]),
        ("“6 项达标”选择已证明最优", "是" if data["exact_choice"] else f"否（与下界相差 {data['choice_gap']} 万元）"),
        ("朴素方案费用（各校补到标准，万元）", naive["total_cost"]),
        ("朴素方案能否通过", "能" if naive["ok"] else "不能"),
        ("差异系数预留余量", plan.result.margin),
        ("评估标准", plan.standard.id),
        ("单价文件", plan.costs.source + ("（示意单价，仅供演示）" if plan.costs.illustrative else "")),
    ]
    summary += [("无法满足的约束", text) for text in plan.result.infeasible]
    for r, (label, value) in enumerate(summary, start=1):
        ws.cell(row=r, column=1, value=label)
        ws.cell(row=r, column=2, value=value)

    def sheet(title: str, header: list[str], rows: list[list[object]]) -> None:
        out = wb.create_sheet(title)
        out.append(header)
        for row in rows:
            out.append(row)

    titles = {i.code: i.title for i in plan.standard.resource_indicators}

    def addition_rows(items: list[Addition]) -> list[list[object]]:
        return [[a.school, STAGE_NAMES.get(a.stage, "全校") if a.stage else "全校", a.township or "",
                 a.indicator, titles.get(a.indicator, ""), a.amount, a.unit, a.cost] for a in items]

    header = ["学校", "学段", "乡镇", "指标", "指标名称", "增加数量", "单位", "费用（万元）"]
    sheet("补充明细", header, addition_rows(plan.result.additions))
    t = totals(plan)
    sheet("按指标汇总", ["指标", "指标名称", "增加数量", "单位", "费用（万元）"],
          [[x["indicator"], x["title"], x["amount"], x["unit"], x["cost"]] for x in t["by_indicator"]])
    sheet("按乡镇汇总", ["乡镇", "费用（万元）"], [[x["township"], x["cost"]] for x in t["by_township"]])
    sheet("按责任单位汇总", ["责任单位", "费用（万元）"], [[x["unit"], x["cost"]] for x in t["by_unit"]])
    sheet("差异系数", ["学段", "指标", "限值", "测算目标", "补充前", "补充后", "补充后达标"],
          [[STAGE_NAMES[r["stage"]], r["indicator"], r["limit"], r["target"], r["before"], r["after"],  # type: ignore[index]
            {True: "是", False: "否", None: "—"}[r["ok_after"]]] for r in data["cvs"]])  # type: ignore[index, union-attr]
    school_rows = []
    if plan.after is not None:
        for stage, result in plan.after.stages.items():
            for s in result.schools:
                school_rows.append([s.school, STAGE_NAMES[stage], len(s.met), "达标" if s.ok else "不达标"])
    sheet("补充后各校结论", ["学校", "学段", "达标项数", "结论"], school_rows)
    sheet("朴素方案", header, addition_rows(plan.result.naive_additions))
    save_workbook(wb, path)
    return path
