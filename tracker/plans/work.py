"""Resolving the work of the plan: its phases (阶段), the assignment table (分工), what a school
fixes itself (学校自行整改), the preparatory tasks (准备工作) and the reminder ladder (提醒).
One function per section, called after the organisation is resolved (they name its units).
"""

from __future__ import annotations


from tracker.plans.checker import PYDANTIC_MESSAGES, KeyPath, suggest, top, top_list
from tracker.plans.fields import NAME_MAX, TOWNSHIPS_PLACEHOLDER, str_list
from tracker.plans.kinds import DEFAULT_PHASES, PhaseKind
from tracker.plans.sections import AppraisalRule, AssignmentEntry, PhaseEntry, PreparatoryTask, ReminderLadder
from tracker.plans.state import Resolution


def phases(r: Resolution) -> None:
    checker = r.checker
    raw_list, key = top_list(checker, r.data, "阶段")
    if key not in r.data:
        r.phases = [(-1, PhaseEntry(code=c, name=n, kind=k, order=o, note="以上级通知为准"))
                    for o, (c, n, k) in enumerate(DEFAULT_PHASES, start=1)]
        checker.warn((), "未写「阶段」：使用默认的五个阶段（自查自评、整改、市级复评、省级评估、国家审核认定），日期待定")
    elif not raw_list:
        checker.problem((key,), "「阶段」至少要有一项")
    for i, raw in enumerate(raw_list):
        if isinstance(raw, dict):
            r.phase_spellings.update(str(raw[k]).strip() for k in ("编号", "名称", "code", "name") if raw.get(k) is not None)
        entry = checker.validate(PhaseEntry, raw, (key, i))
        if entry is None:
            continue
        if entry.order is None:
            entry.order = i + 1
        raw_gate = raw.get("关口", raw.get("gate_on")) if isinstance(raw, dict) else None
        if entry.gate_on is None and not entry.note:
            entry.note = raw_gate.strip() if isinstance(raw_gate, str) and raw_gate.strip() else "以上级通知为准"
        if entry.starts_on and entry.gate_on and entry.gate_on < entry.starts_on:
            checker.problem((key, i, "关口"), f"关口日期 {entry.gate_on.isoformat()} 早于开始日期 "
                                             f"{entry.starts_on.isoformat()}（时间窗口颠倒）")
        r.phases.append((i, entry))
    seen_codes: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    seen_orders: dict[int, int] = {}
    for i, entry in r.phases:
        for value, seen, field, what in ((entry.code, seen_codes, "编号", "阶段编号"),
                                         (entry.name, seen_names, "名称", "阶段名称")):
            if value in seen:
                first = checker.line_of((key, seen[value]))
                checker.problem((key, i, field), f"{what}「{value}」重复（第 {first} 行已用）")
            seen[value] = i
        if entry.order in seen_orders:
            first = checker.line_of((key, seen_orders[entry.order]))
            checker.problem((key, i, "顺序"), f"顺序 {entry.order} 重复（第 {first} 行已用）")
        seen_orders[entry.order] = i


def assignments(r: Resolution) -> None:
    """The 分工 table as written, then every indicator it leaves out from the standard's defaults."""
    checker, standard = r.checker, r.standard
    assign_raw, assign_key = top(r.data, "分工")
    codes: dict[str, str] = {}  # code → title, of everything the standard lets a plan assign
    if standard is not None:
        codes = {i.code: i.title for i in standard.indicators}
        codes |= {c.code: c.title for c in (*standard.application_conditions, *standard.vetoes)}
    if assign_raw is not None and not isinstance(assign_raw, dict):
        checker.problem((assign_key,), "「分工」应为 指标编号: {牵头: …, 配合: […]} 的映射")
        assign_raw = {}
    for code, raw in (assign_raw or {}).items():
        path: KeyPath = (assign_key, code)
        if standard is not None and code not in codes:
            shown = code if len(code) <= NAME_MAX else code[:20] + "…"
            checker.problem(path, f"未知的指标「{shown}」：标准 {standard.id} 中没有这个编号{suggest(code, codes)}")
        if isinstance(raw, str):  # "4: 计财股" — a lead only
            raw = {"牵头": raw}
        entry = checker.validate(AssignmentEntry, raw, path)
        if entry is None:
            continue
        lead = r.unit(entry.lead, path + ("牵头",), allow_townships=False)
        coop = [c for c in r.units(entry.cooperating, path + ("配合",)) if c != lead]
        if lead is not None:
            r.assignments[code] = entry.model_copy(update={"lead": lead, "cooperating": coop})
    if standard is None or not r.departments:
        return
    for indicator in standard.indicators:
        if indicator.code in r.assignments or indicator.code in (assign_raw or {}):
            continue
        candidates = [*indicator.bureau_units, *indicator.departments]
        found: list[str] = []
        dropped: list[str] = []
        for name in candidates:
            if name == TOWNSHIPS_PLACEHOLDER:
                if r.townships and name not in found:
                    found.append(name)
            elif name in r.lookup:
                if r.lookup[name] not in found:
                    found.append(r.lookup[name])
            elif name not in dropped:
                dropped.append(name)
        leads = [n for n in found if n != TOWNSHIPS_PLACEHOLDER]
        where = (assign_key,)
        if not leads:
            checker.problem(where, f"指标 {indicator.code}（{indicator.title}）未在分工表中，且标准所列单位"
                                   f"（{'、'.join(candidates) or '无'}）都不在方案中：请写明牵头单位")
            continue
        r.assignments[indicator.code] = AssignmentEntry(
            lead=leads[0], cooperating=[n for n in found if n != leads[0]], from_standard=True)
        if len(found) > 1:
            checker.warn(where, f"指标 {indicator.code} 未在分工表中：按标准默认由「{leads[0]}」牵头、"
                                f"「{'、'.join(found[1:])}」配合，请在分工中写明谁牵头")
        if dropped:
            checker.warn(where, f"指标 {indicator.code}：标准所列单位「{'、'.join(dropped)}」不在方案中，已略去")
    if standard is not None:  # the standard's own order (one order per standard)
        r.assignments = {c: r.assignments[c] for c in sorted(r.assignments, key=standard.indicator_sort_key)}


def school_fixable(r: Resolution) -> None:
    """学校自行整改: the indicators a school fixes itself; the standard's list when not written."""
    raw, key = top(r.data, "学校自行整改")
    standard = r.standard
    if raw is None:
        r.school_fixable = [i.code for i in standard.indicators if i.school_can_fix] if standard else []
        return
    values = str_list(raw)
    if not isinstance(values, list):
        r.checker.problem((key,), PYDANTIC_MESSAGES["list_type"])
        values = []
    for j, code in enumerate(values):
        code = str(code).strip()
        if standard is not None and code not in {i.code for i in standard.indicators}:
            shown = code if len(code) <= NAME_MAX else code[:20] + "…"
            r.checker.problem((key, j), f"未知的指标「{shown}」：标准 {standard.id} 中没有这个编号")
        elif code not in r.school_fixable:
            r.school_fixable.append(code)


def preparatory_tasks(r: Resolution) -> None:
    checker = r.checker
    raw_list, key = top_list(checker, r.data, "准备工作")
    seen: dict[str, int] = {}
    in_order = [e for _, e in sorted(r.phases, key=lambda p: p[1].order or 0)]
    default_phase = next((e.code for e in in_order if e.kind is PhaseKind.self_check), None) or next(
        (e.code for e in in_order), None)
    phase_by_spelling = {e.code: e.code for _, e in r.phases} | {e.name: e.code for _, e in r.phases}
    for i, raw in enumerate(raw_list):
        entry = checker.validate(PreparatoryTask, raw, (key, i))
        if entry is None:
            continue
        if entry.code in seen:
            checker.problem((key, i, "编号"), f"准备工作编号「{entry.code}」重复"
                                             f"（第 {checker.line_of((key, seen[entry.code]))} 行已用）")
        seen[entry.code] = i
        lead = r.unit(entry.lead, (key, i, "牵头"), allow_townships=False)
        coop = [c for c in r.units(entry.cooperating, (key, i, "配合")) if c != lead]
        phase_code = default_phase
        if entry.phase is not None:
            phase_code = phase_by_spelling.get(entry.phase)
            if phase_code is None and entry.phase not in r.phase_spellings:
                checker.problem((key, i, "阶段"), f"未知的阶段「{entry.phase}」{suggest(entry.phase, phase_by_spelling)}")
        if lead is None or phase_code is None:
            continue
        gate = next((e.gate_on for _, e in r.phases if e.code == phase_code), None)
        if gate is not None and entry.due_on > gate:
            checker.warn((key, i, "完成时限"), f"完成时限 {entry.due_on.isoformat()} 晚于阶段「{phase_code}」"
                                              f"的关口 {gate.isoformat()}")
        r.preparatory.append(entry.model_copy(update={"lead": lead, "cooperating": coop, "phase": phase_code}))


def reminders(r: Resolution) -> None:
    raw, key = top(r.data, "提醒")
    if raw is None:
        return
    validated = r.checker.validate(ReminderLadder, raw, (key,))
    if validated is None:
        return
    r.reminders = validated
    if validated.send_window_end <= validated.send_window_start:
        r.checker.problem((key, "发送结束"), f"发送结束 {validated.send_window_end:%H:%M} 应晚于"
                                            f"发送开始 {validated.send_window_start:%H:%M}")


def appraisal(r: Resolution) -> None:
    """考核: the scoring rule; absent, the default rule (tracker.plans.sections.AppraisalRule)."""
    raw, key = top(r.data, "考核")
    if raw is None:
        return
    validated = r.checker.validate(AppraisalRule, raw, (key,))
    if validated is not None:
        r.appraisal = validated


KINDERGARTEN_HINT = ("应为一个正数（每名幼儿的折算权重，小学生为 1），或写明两方的比例，"
                     "如「幼儿班折算: {幼儿: 1, 小学: 1.1}」")


def kindergarten_weight(r: Resolution) -> None:
    """幼儿班折算: how an attached kindergarten's pupils weigh against primary pupils when shared
    facilities (indicators 4–7) are split. A number is a kindergarten pupil's weight (a primary
    pupil's is 1); ``{幼儿: 1, 小学: 1.1}`` says the ratio with both sides named (seed 001's 1 : 1.1).
    Absent, the assessment uses JUNHENG_KINDERGARTEN_WEIGHT (default 1)."""
    raw, key = top(r.data, "幼儿班折算")
    if raw is None:
        return
    weight: float | None = None
    if isinstance(raw, dict):
        names = {"幼儿": "kindergarten", "小学": "primary"}
        parts = {names.get(str(k).strip(), str(k).strip()): v for k, v in raw.items()}
        if set(parts) != {"kindergarten", "primary"}:
            r.checker.problem((key,), f"「幼儿班折算」应写明 幼儿 和 小学 两项，现为 {'、'.join(map(str, raw)) or '空'}")
            return
        kid, pupil = _positive(parts["kindergarten"]), _positive(parts["primary"])
        weight = None if kid is None or pupil is None else kid / pupil
    else:
        weight = _positive(raw)
    if weight is None:
        r.checker.problem((key,), f"「幼儿班折算」「{str(raw)[:NAME_MAX]}」{KINDERGARTEN_HINT}")
        return
    r.kindergarten_weight = weight


def _positive(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if 0 < number < float("inf") else None
