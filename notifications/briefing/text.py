"""How a briefing's figures are put into words — shared by the Word document, the e-mail and the
CLI, so all three say the same thing the same way."""

from __future__ import annotations

import datetime as dt

from tracker.briefings.compute import BriefingData, Figures, cn_day
from tracker.tasks.models import TaskOrigin

WEEKDAYS = "一二三四五六日"
# the ranking rule in words (tracker.briefings.compute.rank_key), for the note under the tables
RANK_RULE = ("排名时，有逾期任务的单位排在无逾期任务的单位之后；无逾期的单位按按时完成率、再按完成率排，"
             "尚无到期或办结任务的排在其后；有逾期的单位同样按按时完成率、再按完成率排；"
             "按时完成率以已到期和已办结的任务计")
# the plan's 考核 may rank by score instead (tracker.appraisal: 排名依据 得分)
SCORE_RANK_RULE = ("排名按考核得分（满分减逾期、逾期完成、退回、督办单的扣分，见工作方案「考核」），"
                   "同分时有逾期任务的单位在后，再按按时完成率、完成率排")


def rank_rule(data) -> str:
    """The ranking rule of this briefing, in words."""
    return SCORE_RANK_RULE if getattr(data, "rank_by", "on_time_rate") == "score" else RANK_RULE


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def period_text(data: BriefingData) -> str:
    start, end = data.period_start, data.period_end
    last = cn_day(end) if end.year == start.year else cn_date(end)
    return f"{cn_date(start)}至{last}"


def percent(rate: float | None, digits: int = 1) -> str:
    return "—" if rate is None else f"{100 * rate:.{digits}f}%"


def rate_change(now: float | None, before: float | None) -> str:
    """「比上周提高 3.2 个百分点」, 「与上周持平」, or "" when either week has no rate."""
    if now is None or before is None:
        return ""
    points = round(100 * (now - before), 1)
    if points > 0:
        return f"比上周提高{points:.1f}个百分点"
    if points < 0:
        return f"比上周下降{-points:.1f}个百分点"
    return "与上周持平"


def count_change(now: int, before: int) -> str:
    if now > before:
        return f"比上周增加{now - before}项"
    if now < before:
        return f"比上周减少{before - now}项"
    return "与上周持平"


def title(data: BriefingData) -> str:
    return f"关于{data.campaign_name}工作进展情况的通报"


def number_text(data: BriefingData) -> str:
    return f"第{data.number}期" if data.number is not None else "（未编号）"


def subject(data: BriefingData) -> str:
    return f"【均衡督办】创建工作调度通报{number_text(data)}（{period_text(data)}）"


def status_counts(f: Figures) -> str:
    return "，".join(f"{status}{n}项" for status, n in f.by_status.items() if n) or "暂无任务"


def opening(data: BriefingData) -> str:
    """The first paragraph: what the briefing is and whether the week had working days."""
    # the period in words only: an ISO week code (2026-W51) is not how an official text dates things
    text = f"现将{period_text(data)}{data.county}义务教育优质均衡发展创建工作进展情况通报如下。"
    if data.holiday_week:
        text += "本周为法定节假日，无工作日；以下为截至本周末的情况，逾期天数只计工作日。"
    elif data.partial:
        text += f"本周尚未结束，以下为截至{cn_day(data.as_of_date)}的情况；本周结束后重新生成，可得全周情况。"
    return text


def overall_paragraph(data: BriefingData) -> str:
    """Counts and rates, each with its change from last week — only when last week was a week of the
    campaign (a first issue has nothing to compare with)."""
    f, p = data.overall, data.previous
    compare = data.has_previous_week
    parts = [f"截至{cn_day(data.as_of_date)}，全县共有创建任务{f.total}项（{status_counts(f)}）",
             f"应办{f.assigned}项，已销号{f.done}项，完成率{percent(f.completion_rate)}"]
    change = rate_change(f.completion_rate, p.completion_rate) if compare else ""
    if change:
        parts[-1] += f"，{change}"
    on_time = f"按时完成率{percent(f.on_time_rate)}"
    change = rate_change(f.on_time_rate, p.on_time_rate) if compare else ""
    if change:
        on_time += f"，{change}"
    parts.append(on_time)
    overdue = f"逾期任务{f.overdue}项"
    if compare:
        overdue += f"，{count_change(f.overdue, p.overdue)}"
    parts.append(overdue)
    text = "；".join(parts) + "。"
    if not compare:
        text += "本期为首期通报，暂无上周数据可比较。"
    return text


def phase_paragraph(data: BriefingData) -> str:
    ph = data.phase
    if ph is None:
        return "各阶段均已通过验收。"
    text = f"当前处于“{ph.name}”阶段，本阶段共有任务{ph.total_tasks}项，未办结{ph.open_tasks}项"
    if ph.gate_on is None:
        return text + "；阶段关口日期以上级通知为准。"
    left = ph.working_days_to_gate or 0
    when = (f"距阶段关口（{cn_date(ph.gate_on)}）还有{left}个工作日" if left > 0
            else f"阶段关口（{cn_date(ph.gate_on)}）已到期" if left == 0
            else f"已超过阶段关口（{cn_date(ph.gate_on)}）{-left}个工作日")
    text += f"，{when}"
    pace = (f"近{ph.pace_working_days}个工作日销号{ph.verified_recently}项，"
            f"日均{ph.pace_per_working_day:.2f}项")
    if left > 0 and ph.open_tasks and not ph.pace_known:
        # the campaign has just begun and nothing is verified yet: no pace, so no projection
        text += "。本阶段尚无任务销号，暂无法按进度测算能否按期完成，请各单位按完成时限抓紧办理。"
    elif ph.at_risk:
        if left <= 0:
            text += f"。仍有{ph.open_tasks}项任务未办结，请各单位立即办理。"
        elif ph.verified_recently == 0:
            text += (f"。近{ph.pace_working_days}个工作日本阶段没有任务销号，按此进度到关口不能办结，"
                     f"存在不能按期通过关口的风险，请各单位加快进度。")
        elif (ph.projected_closed or 0) < 0.5:
            text += (f"。按当前进度（{pace}），到关口预计办结不足1项，"
                     f"存在不能按期通过关口的风险，请各单位加快进度。")
        else:
            text += (f"。按当前进度（{pace}），到关口预计只能办结约{(ph.projected_closed or 0):.0f}项，"
                     f"存在不能按期通过关口的风险，请各单位加快进度。")
    elif ph.open_tasks:
        text += f"。按当前进度（{pace}），可以按期完成。"
    else:
        text += "，本阶段任务已全部办结。"
    return text


def no_completion_chart(data: BriefingData) -> str | None:
    """Why there is no completion chart (None: there is one). Bars of 0% compare nothing."""
    units = [u for u in data.units if u.figures.assigned]
    if not units:
        return "本期各单位均无任务，不绘制完成率图表。"
    if not any(u.figures.done for u in units):
        return "本期各单位尚无销号任务，暂无可比较的完成情况，不绘制完成率图表。"
    return None


def week_paragraph(data: BriefingData) -> str:
    w = data.week
    origins = "，".join(f"{name}{w.new_by_origin.get(origin.value, 0)}项"
                        for origin, name in ((TaskOrigin.shortfall, "问题整改"), (TaskOrigin.attestation, "佐证认定"),
                                             (TaskOrigin.finding, "反馈问题整改"), (TaskOrigin.plan, "方案任务"),
                                             (TaskOrigin.office, "办公室交办"))
                        if w.new_by_origin.get(origin.value, 0))
    text = (f"本周签收任务{w.accepted}项，提交{w.submitted}项，销号{w.verified}项，退回{w.returned}项；"
            f"新增任务{w.new_tasks}项" + (f"（{origins}）" if origins else ""))
    if w.escalated_tasks:
        # one 督办单 per task; each goes to several people (the unit, its head, the leader in charge)
        text += (f"；对{'、'.join(w.escalated_units)}的{w.escalated_tasks}项逾期任务发出督办单"
                 f"{w.escalated_tasks}份（送达{w.escalation_notices}人次）")
    else:
        text += "；本周未发出督办单"
    return text + "。"


def indicators_paragraph(data: BriefingData) -> str:
    if data.assessment is None:
        return "截至本期，尚未完成学校数据评估。"
    failing = [r for r in data.indicators if r.cv_ok is False]
    when = data.assessment.at.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    text = f"最近一次评估（{cn_date(when)}）"
    if failing:
        names = "、".join(f"{r.stage_name}“{r.title}”" for r in failing)
        text += f"中，{names}的差异系数未达到标准要求"
    else:
        text += "中，各项指标的差异系数均达到标准要求"
    if data.previous_assessment is None:
        text += "。"
    else:
        improved = sum(1 for r in data.indicators if r.cv_change is not None and r.cv_change < 0)
        worse = sum(1 for r in data.indicators if r.cv_change is not None and r.cv_change > 0)
        text += f"；与上次评估相比，差异系数缩小{improved}项、扩大{worse}项。"
    return text


def materials_paragraph(data: BriefingData) -> str | None:
    """迎检资料 (issue 13 §4): a review near and required materials missing; None otherwise."""
    m = data.materials
    if m is None or not m.missing:
        return None
    units = list(dict.fromkeys(u for row in m.missing for u in row.units))
    return (f"{cn_date(m.held_on)}将迎接{m.review}（还有{m.working_days_left}个工作日），资料清单中尚有"
            f"{len(m.missing)}项必备资料没有佐证材料文件，请{'、'.join(units) or '各责任单位'}抓紧上传并标注资料项：")


def material_lines(data: BriefingData) -> list[str]:
    m = data.materials
    return [f"指标{r.indicator} {r.item_id} {r.title}（{'、'.join(r.units) or '—'}）" for r in m.missing] if m else []


def days_overdue_text(days: int) -> str:
    return f"{days}个工作日" if days else "不足1个工作日"


def days_overdue_cell(days: int) -> str:
    """The table's 逾期天数 (working days): a task due on Friday is overdue on Sunday, by none yet."""
    return str(days) if days else "不足1"


def signed_change(value: float | None, digits: int) -> str:
    """A change with its sign (a real minus sign, U+2212); 「持平」 when it rounds to 0; 「—」 unknown."""
    if value is None:
        return "—"
    if round(value, digits) == 0:
        return "持平"
    return f"{value:+.{digits}f}".replace("-", "\u2212")


def cv_change(value: float | None) -> str:
    """A change of a difference coefficient, 3 decimals."""
    return signed_change(value, 3)


def value_change(value: float | None) -> str:
    """A change of a county value, 2 decimals (as the value is shown)."""
    return signed_change(value, 2)


def extensions_sentence(data: BriefingData) -> str | None:
    """Who asked for more time (延期申请) so far, and how many were granted; None when nobody asked."""
    asked = [u for u in (*data.departments(), *data.schools()) if u.extensions_requested]
    if not asked:
        return None
    parts = [f"{u.short_name}{u.extensions_requested}项（同意{u.extensions_granted}项）" for u in asked]
    total = sum(u.extensions_requested for u in asked)
    granted = sum(u.extensions_granted for u in asked)
    return (f"截至本期，各单位共申请延期{total}项，同意{granted}项：{'、'.join(parts)}。"
            "同意延期的任务按调整后的截止日期计算逾期和按时完成。")
