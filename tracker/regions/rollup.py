"""The roll-up of a region (`junheng region status`, the 地区总览 page and its API): per county
its phase and working days to the gate, tasks, on-time rate, overdue and 督办 counts, latest CVs
against the limits, per-school pass rate, survey rate, a light and a rank.

Set-based: a fixed number of statements whatever the number of counties (tallies, one GROUP BY
each, the assessment summaries) — see ``tracker.regions.queries``.

The light (per county, first rule that holds):
- red: its gate has passed with work still open, or more than 10% of its tasks are overdue;
- yellow: any task overdue, any CV above its limit, or the gate within 10 working days with
  less than 80% of the tasks done;
- green otherwise.

The rank: by light (green, yellow, red), then completion rate (done ÷ tasks not withdrawn,
higher first), then overdue tasks (fewer first), then on-time rate (higher first), then the
county's name. Counties ranked last with a red light are "behind" in the 市级调度通报.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, fields

from sqlmodel import Session

from tracker.org.models import Campaign
from tracker.org.service import pick_phase
from tracker.regions import queries
from tracker.regions.queries import RegionRow
from tracker.regions.models import Region
from tracker.regions.service import city_names, region_campaign_ids, region_campaigns
from tracker.regions.summaries import current_summaries, cv_limits, cv_over_limit, stage_cvs
from tracker.surveys.figure import overall_rates
from tracker.tasks.models import TaskStatus
from tracker.workdays import working_days_between

LIGHTS = ("green", "yellow", "red")
LIGHT_NAMES = {"green": "绿灯", "yellow": "黄灯", "red": "红灯"}
RED_OVERDUE_SHARE = 0.10
GATE_NEAR_DAYS = 10
GATE_NEAR_DONE = 0.80


@dataclass
class CountyLine:
    campaign: str
    county: str
    name: str
    city: str
    phase: str | None
    gate_date: str | None
    days_to_gate: int | None
    tasks: dict[str, int]  # total, done, overdue (as `campaign status`), withdrawn, open
    completion_rate: float | None
    on_time_rate: float | None
    escalations: int
    cvs: dict[str, dict[str, float | None]]
    cv_limits: dict[str, float]
    cv_over: list[dict]
    schools_assessed: int
    school_pass_rate: float | None
    assessed_on: str | None
    survey_rate: float | None  # overall 满意度 of the newest survey (fraction); None without answers
    light: str
    reasons: list[str] = field(default_factory=list)
    rank: int = 0


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def light_of(line: CountyLine) -> tuple[str, list[str]]:
    tasks = line.tasks
    live = tasks["total"] - tasks["withdrawn"]
    reasons: list[str] = []
    if line.days_to_gate is not None and line.days_to_gate < 0 and tasks["open"]:
        reasons.append(f"关口已过 {-line.days_to_gate} 个工作日，仍有 {tasks['open']} 项任务未办结")
    if live and tasks["overdue"] / live > RED_OVERDUE_SHARE:
        reasons.append(f"逾期 {tasks['overdue']} 项，超过任务的 {RED_OVERDUE_SHARE:.0%}")
    if reasons:
        return "red", reasons
    if tasks["overdue"]:
        reasons.append(f"逾期 {tasks['overdue']} 项")
    if line.cv_over:
        reasons.append(f"{len(line.cv_over)} 项差异系数超过限值")
    if line.days_to_gate is not None and 0 <= line.days_to_gate <= GATE_NEAR_DAYS and live \
            and tasks["done"] / live < GATE_NEAR_DONE:
        reasons.append(f"距关口 {line.days_to_gate} 个工作日，完成率不足 {GATE_NEAR_DONE:.0%}")
    return ("yellow" if reasons else "green"), reasons


def rank_key(line: CountyLine) -> tuple:
    return (LIGHTS.index(line.light), -(line.completion_rate or 0.0), line.tasks["overdue"],
            -(line.on_time_rate or 0.0), line.county, line.campaign)


def county_lines(session: Session, campaigns: list[Campaign], today: dt.date,
                 survey_rates: dict[int, float] | None = None) -> list[CountyLine]:
    """The ranked lines of the given campaigns (a region's, read by ``region_campaigns``).
    ``survey_rates`` (campaign id → fraction) defaults to each county's newest survey's overall
    rate (``tracker.surveys.figure.overall_rates``)."""
    ids = [c.id for c in campaigns]
    if not ids:
        return []
    statuses = queries.status_counts(session, ids)
    overdue = queries.overdue_counts(session, ids, today)
    done = queries.done_counts(session, ids)
    escalations = queries.escalation_counts(session, ids)
    phases = queries.phases_of(session, ids)
    summaries = current_summaries(session, ids)
    cities = city_names(session, ids)
    if survey_rates is None:
        survey_rates = overall_rates(session, campaigns)
    lines: list[CountyLine] = []
    for campaign in campaigns:
        by_status = statuses.get(campaign.id, {})
        total = sum(by_status.values())
        verified = by_status.get(TaskStatus.verified.value, 0)
        withdrawn = by_status.get(TaskStatus.withdrawn.value, 0)
        open_ = total - verified - withdrawn
        tasks = {"total": total, "done": verified, "overdue": overdue.get(campaign.id, 0),
                 "withdrawn": withdrawn, "open": open_}
        n_done, n_on_time = done.get(campaign.id, (0, 0))
        phase = pick_phase(phases.get(campaign.id, []), today)
        summary = summaries.get(campaign.id)
        line = CountyLine(
            campaign=campaign.code, county=campaign.county, name=campaign.name, city=cities.get(campaign.id, ""),
            phase=phase.name if phase else None,
            gate_date=phase.gate_on.isoformat() if phase and phase.gate_on else None,
            days_to_gate=working_days_between(today, phase.gate_on) if phase and phase.gate_on else None,
            tasks=tasks, completion_rate=_rate(verified, total - withdrawn),
            on_time_rate=_rate(n_on_time, n_done + tasks["overdue"]),
            escalations=escalations.get(campaign.id, 0),
            cvs=stage_cvs(summary), cv_limits=cv_limits(summary),
            cv_over=[{"stage": s, "indicator": c, "cv": cv, "limit": lim} for s, c, cv, lim in cv_over_limit(summary)],
            schools_assessed=summary.schools if summary else 0,
            school_pass_rate=_rate(summary.schools_ok, summary.schools) if summary else None,
            assessed_on=summary.as_of if summary else None,
            survey_rate=survey_rates.get(campaign.id),
            light="green",
        )
        line.light, line.reasons = light_of(line)
        lines.append(line)
    lines.sort(key=rank_key)
    for i, line in enumerate(lines, start=1):
        line.rank = i
    return lines


_answers: dict[tuple[str, int, dt.date], tuple[tuple, dict]] = {}
_answers_lock = threading.Lock()


def region_rollup(session: Session, region: Region | RegionRow, today: dt.date, *, mark: tuple | None = None,
                  prepare: Callable[[Session], object] | None = None) -> dict:
    """The JSON of ``junheng region status --json`` and ``GET /api/v1/regions/{code}/status``:
    ``{"region", "region_name", "level", "today", "counties": [CountyLine…]}`` ranked.

    The answer is kept (per process, per region and day) with the region's change mark
    (``queries.change_mark``, or ``mark`` when the caller read it with the region:
    ``queries.region_and_mark``); while the mark is the same, the figures cannot have changed and
    the kept answer is returned. ``prepare`` runs only when the figures are computed (the web app
    makes the store's working-day calendar the one in use). Treat the answer as read-only."""
    mark = queries.change_mark(session, region.id) if mark is None else mark
    key = (str(session.get_bind().url), region.id, today)
    kept = _answers.get(key)
    if kept is not None and kept[0] == mark:
        return kept[1]
    if prepare is not None:
        prepare(session)
    lines = county_lines(session, region_campaigns(session, region.id), today)
    figures = {"region": region.code, "region_name": region.name, "level": region.level, "today": today.isoformat(),
               "counties": [line_json(line) for line in lines]}
    with _answers_lock:
        if len(_answers) >= 256:
            _answers.clear()
        _answers[key] = (mark, figures)
    return figures


def kept_rollup(store: str, region_id: int, today: dt.date, mark: tuple) -> dict | None:
    """The answer ``region_rollup`` keeps for the region on ``today`` in the store with URL
    ``store``, when it was made under ``mark``; else None (nothing is computed)."""
    kept = _answers.get((store, region_id, today))
    return kept[1] if kept is not None and kept[0] == mark else None


_encoded: dict[int, tuple[dict, bytes]] = {}


def rollup_json(figures: dict) -> bytes:
    """``figures`` (an answer of ``region_rollup``) as UTF-8 JSON, encoded once per answer: a
    province's 100 counties cost tens of milliseconds to encode, the answer changes far less often
    than it is asked for."""
    kept = _encoded.get(id(figures))
    if kept is not None and kept[0] is figures:
        return kept[1]
    body = json.dumps(figures, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    with _answers_lock:
        if len(_encoded) >= 256:
            _encoded.clear()
        _encoded[id(figures)] = (figures, body)
    return body


def line_json(line: CountyLine) -> dict:
    """A line as plain JSON values (``asdict`` without its deep copies)."""
    return {name: getattr(line, name) for name in LINE_FIELDS}


LINE_FIELDS = tuple(f.name for f in fields(CountyLine))


__all__ = ["CountyLine", "LIGHT_NAMES", "county_lines", "light_of", "pick_phase", "rank_key", "region_campaign_ids",
           "region_rollup"]
