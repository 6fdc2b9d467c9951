"""A school programme's plan file (示范校, issue 15 §1): the second kind of plan, beside the
county campaign's. It starts with ``类型: 示范校`` and names its phases with dates, its criteria
as data, its panels, its scoring rounds, the aggregate rule and the award rules.

``parse_programme_plan(text)`` validates it one section at a time (``SECTIONS``, in order; a
later section reads what an earlier one found) and returns a ``ProgrammePlan`` or raises
``PlanError`` listing every problem with its line and key, as the county plan does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from tracker.plans.checker import PYDANTIC_MESSAGES, Checker, PlanError, path_text, read_plan_text, suggest
from tracker.plans.programme_sections import (
    PROGRAMME_KIND_WORDS,
    ROLE_MENTOR,
    ROLE_POTENTIAL,
    Aggregate,
    AwardRules,
    Criteria,
    MentorRule,
    Panel,
    ProgrammeHeader,
    ProgrammePerson,
    ProgrammePhase,
    ProgrammeSchool,
    ProgrammeUnit,
    ScoringRound,
)
from tracker.yamlfile import YamlError, read_yaml

PROGRAMME_KEYS = {
    "类型", "编号", "名称", "县", "创建工作", "阶段", "评选标准", "评审组", "评分", "评分规则", "导师型学校",
    "表彰规则", "单位", "人员", "学校",
}


class ProgrammePlan(BaseModel):
    """The validated programme plan, stored as ``Campaign.plan["programme"]`` (English names)."""

    model_config = ConfigDict(extra="forbid")

    code: str
    name: str
    county: str
    beside: str = ""
    phases: list[ProgrammePhase]
    criteria: Criteria
    panels: list[Panel]
    rounds: list[ScoringRound]
    aggregate: Aggregate
    mentor: MentorRule
    awards: AwardRules
    units: list[ProgrammeUnit]
    people: list[ProgrammePerson]
    schools: list[ProgrammeSchool]

    def stored(self) -> dict:
        return {"programme": self.model_dump(mode="json")}

    @classmethod
    def from_stored(cls, plan: dict) -> ProgrammePlan:
        return cls.model_validate(plan["programme"])

    def phase(self, code: str) -> ProgrammePhase:
        return next(p for p in self.phases if p.code == code)

    def round(self, code: str) -> ScoringRound | None:
        return next((r for r in self.rounds if r.code == code), None)

    def panel(self, code: str) -> Panel:
        return next(p for p in self.panels if p.code == code)

    def full_points(self) -> float:
        return sum(c.points for c in self.criteria.categories)


def is_programme_document(data: Any) -> bool:
    return isinstance(data, dict) and str(data.get("类型", data.get("kind", ""))).strip() in PROGRAMME_KIND_WORDS


@dataclass
class ProgrammeResolution:
    checker: Checker
    data: dict[str, Any]
    header: ProgrammeHeader | None = None
    phases: list[ProgrammePhase] = field(default_factory=list)
    criteria: Criteria | None = None
    panels: list[Panel] = field(default_factory=list)
    rounds: list[ScoringRound] = field(default_factory=list)
    aggregate: Aggregate | None = None
    mentor: MentorRule | None = None
    awards: AwardRules | None = None
    units: list[ProgrammeUnit] = field(default_factory=list)
    people: list[ProgrammePerson] = field(default_factory=list)
    schools: list[ProgrammeSchool] = field(default_factory=list)

    def entries(self, key: str, model: type[BaseModel], *, required: bool = True) -> list:
        raw = self.data.get(key)
        if raw is None:
            if required:
                self.checker.problem((key,), f"缺少必填项「{key}」")
            return []
        if not isinstance(raw, list):
            self.checker.problem((key,), PYDANTIC_MESSAGES["list_type"])
            return []
        out = [self.checker.validate(model, item, (key, i)) for i, item in enumerate(raw)]
        return [e for e in out if e is not None]

    def mapping(self, key: str, model: type[BaseModel]) -> Any:
        """A section written as one mapping: missing is a problem naming it."""
        if key not in self.data:
            self.checker.problem((key,), f"缺少必填项「{key}」")
            return None
        return self.checker.validate(model, self.data[key], (key,))

    def duplicates(self, key: str, values: list[str], what: str) -> None:
        seen: set[str] = set()
        for i, value in enumerate(values):
            if value in seen:
                self.checker.problem((key, i), f"{what}「{value}」重复")
            seen.add(value)


def top_keys(r: ProgrammeResolution) -> None:
    for key in r.data:
        if key not in PROGRAMME_KEYS:
            r.checker.problem((key,), f"不认识的键「{path_text((key,))}」{suggest(key, PROGRAMME_KEYS)}")


def header(r: ProgrammeResolution) -> None:
    raw = {k: r.data[k] for k in ("类型", "编号", "名称", "县", "创建工作") if k in r.data}
    r.header = r.checker.validate(ProgrammeHeader, raw, ())


def units(r: ProgrammeResolution) -> None:
    r.units = r.entries("单位", ProgrammeUnit)
    r.duplicates("单位", [u.name for u in r.units], "单位")
    if r.units and sum(u.office for u in r.units) != 1:
        r.checker.problem(("单位",), "单位中应有且只有一个「办公室: 是」（督导室或项目办公室）")


def schools(r: ProgrammeResolution) -> None:
    r.schools = r.entries("学校", ProgrammeSchool, required=False)
    r.duplicates("学校", [s.name for s in r.schools], "学校")
    if not r.schools and not (r.header and r.header.beside):
        r.checker.problem(("学校",), "未写「学校」时须用「创建工作」指明同县的创建工作（从中取学校名单）")


def people(r: ProgrammeResolution) -> None:
    r.people = r.entries("人员", ProgrammePerson, required=False)
    r.duplicates("人员", [p.name for p in r.people], "人员")
    unit_names = {u.name for u in r.units} | {u.short_name for u in r.units if u.short_name}
    for i, person in enumerate(r.people):
        if person.unit and person.unit not in unit_names:
            r.checker.problem(("人员", i, "单位"), f"单位「{person.unit}」不在「单位」中{suggest(person.unit, unit_names)}")


def phases(r: ProgrammeResolution) -> None:
    r.phases = r.entries("阶段", ProgrammePhase)
    r.duplicates("阶段", [p.code for p in r.phases], "阶段编号")
    for i, phase in enumerate(r.phases):
        if phase.ends_on < phase.starts_on:
            r.checker.problem(("阶段", i, "结束"), f"结束日期 {phase.ends_on.isoformat()} 早于开始日期 "
                                                 f"{phase.starts_on.isoformat()}（时间窗口颠倒）")


def criteria(r: ProgrammeResolution) -> None:
    r.criteria = r.mapping("评选标准", Criteria)
    if r.criteria:
        codes = [c.code for c in r.criteria.categories]
        if len(set(codes)) != len(codes):
            r.checker.problem(("评选标准", "类别"), "类别编号重复")


def panels(r: ProgrammeResolution) -> None:
    r.panels = r.entries("评审组", Panel)
    r.duplicates("评审组", [p.code for p in r.panels], "评审组编号")
    school_names = {s.name for s in r.schools}
    for i, panel in enumerate(r.panels):
        names = [m.name for m in panel.members]
        if len(set(names)) != len(names):
            r.checker.problem(("评审组", i, "成员"), "成员姓名重复")
        for j, member in enumerate(panel.members):
            if member.school and school_names and member.school not in school_names:
                r.checker.problem(("评审组", i, "成员", j, "学校"),
                                  f"学校「{member.school}」不在「学校」中{suggest(member.school, school_names)}")


def rounds(r: ProgrammeResolution) -> None:
    r.rounds = r.entries("评分", ScoringRound)
    r.duplicates("评分", [s.code for s in r.rounds], "评分编号")
    phase_codes = {p.code for p in r.phases}
    panel_codes = {p.code for p in r.panels}
    for i, scoring in enumerate(r.rounds):
        if phase_codes and scoring.phase not in phase_codes:
            r.checker.problem(("评分", i, "阶段"), f"阶段「{scoring.phase}」不在「阶段」中{suggest(scoring.phase, phase_codes)}")
        if panel_codes and scoring.panel not in panel_codes:
            r.checker.problem(("评分", i, "评审组"), f"评审组「{scoring.panel}」不在「评审组」中{suggest(scoring.panel, panel_codes)}")
    potential = [s for s in r.rounds if s.role == ROLE_POTENTIAL]
    if potential and abs(sum(s.weight for s in potential) - 1) > 1e-6:
        r.checker.problem(("评分",), f"对象为潜力校的各评分权重之和应为 1，现为 {sum(s.weight for s in potential):g}")


def aggregate(r: ProgrammeResolution) -> None:
    r.aggregate = r.checker.validate(Aggregate, r.data.get("评分规则") or {}, ("评分规则",))


def mentor_rule(r: ProgrammeResolution) -> None:
    r.mentor = r.mapping("导师型学校", MentorRule)
    if r.mentor and r.rounds and r.mentor.round not in {s.code for s in r.rounds}:
        r.checker.problem(("导师型学校", "评分"), f"评分「{r.mentor.round}」不在「评分」中")


def award_rules(r: ProgrammeResolution) -> None:
    r.awards = r.mapping("表彰规则", AwardRules)
    if r.awards is None:
        return
    for i, rule in enumerate(r.awards.rules):
        if rule.min_pair_mean is not None and rule.roles != [ROLE_MENTOR]:
            r.checker.problem(("表彰规则", "类别", i), "「结对校平均分不低于」只适用于角色为导师型学校的类别")


SECTIONS: tuple[tuple[str, Callable[[ProgrammeResolution], None]], ...] = (
    ("顶层键", top_keys),
    ("类型、编号、名称、县", header),
    ("单位", units),
    ("学校", schools),
    ("人员", people),
    ("阶段", phases),
    ("评选标准", criteria),
    ("评审组", panels),
    ("评分", rounds),
    ("评分规则", aggregate),
    ("导师型学校", mentor_rule),
    ("表彰规则", award_rules),
)


def parse_programme_plan(text: str, source: str | Path | None = None) -> ProgrammePlan:
    try:
        document = read_yaml(text)
    except YamlError as exc:
        where = f"第 {exc.line} 行第 {exc.column} 列：" if exc.line else ""
        raise PlanError([f"{where}YAML 格式错误（{exc.message}）"], source) from None
    data = document.data
    if not is_programme_document(data):
        raise PlanError(["第 1 行：示范校方案应以「类型: 示范校」开头"], source)
    checker = Checker(document.lines)
    checker.problems.extend((line, path_text(path), f"键「{path[-1]}」重复（第一次在第 {first} 行）")
                            for path, line, first in document.duplicates)
    r = ProgrammeResolution(checker=checker, data={str(k): v for k, v in data.items()})
    for _, section in SECTIONS:
        section(r)
    if checker.problems or None in (r.header, r.criteria, r.aggregate, r.mentor, r.awards):
        raise PlanError(checker.formatted() or ["方案不完整"], source)
    h = r.header
    return ProgrammePlan(code=h.code, name=h.name, county=h.county, beside=h.beside, phases=r.phases,
                         criteria=r.criteria, panels=r.panels, rounds=r.rounds, aggregate=r.aggregate,
                         mentor=r.mentor, awards=r.awards, units=r.units, people=r.people, schools=r.schools)


def load_programme_plan(path: str | Path) -> ProgrammePlan:
    path = Path(path)
    text = read_plan_text(path)
    return parse_programme_plan(text, source=path)
