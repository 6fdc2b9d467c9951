"""Questionnaires as data: per respondent group, its questions, and the answer choices.

A questionnaire file (YAML, read through tracker.yamlfile: bounded) is validated whole; every
problem names the file and the field. The shipped ones (``questionnaires/<id>.yaml``, one per
standard, named by the standard's ``survey.questionnaire``) are illustrative, not official texts;
an office edits a copy and opens a survey with it (``junheng survey open --questionnaire``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tracker.errors import ErrorDetail, ErrorKind, JunhengError
from tracker.standards.schema import Standard
from tracker.yamlfile import YamlError, read_text, read_yaml

SHIPPED_DIR = Path(__file__).resolve().parent / "questionnaires"

# The respondent groups the standard names (调查对象), in the order the results list them.
GROUPS = ("学生", "家长", "教师", "校长", "人大代表和政协委员", "社会人士")
MAX_QUESTIONS = 60  # per group; a paper sheet's columns stay readable


class QuestionnaireError(JunhengError, ValueError, kind=ErrorKind.invalid):
    def __init__(self, name: str, problems: list[tuple[str, str]]):
        details = [ErrorDetail(message, location=where or None) for where, message in problems]
        lines = "\n".join(f"{name}：{where + '：' if where else ''}{message}" for where, message in problems)
        super().__init__(f"问卷文件 {name} 有 {len(problems)} 处问题：\n{lines}",
                         summary=f"问卷文件 {name} 有 {len(problems)} 处问题", details=details)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Question(_Strict):
    id: str = Field(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_-]+$")
    text: str = Field(min_length=2, max_length=200)


class GroupQuestions(_Strict):
    name: str
    intro: str = Field("", max_length=500)
    questions: list[Question] = Field(min_length=1, max_length=MAX_QUESTIONS)

    @field_validator("name")
    @classmethod
    def _known_group(cls, value: str) -> str:
        if value not in GROUPS:
            raise ValueError(f"调查群体应为 {'、'.join(GROUPS)} 之一，现为“{value}”")
        return value


class Questionnaire(_Strict):
    """A questionnaire as a survey keeps it (``Survey.questionnaire`` is its JSON)."""

    id: str = Field(min_length=1, max_length=64)
    title: str = Field(min_length=2, max_length=200)
    illustrative: bool = False
    note: str = Field("", max_length=500)
    choices: list[str] = Field(min_length=2, max_length=10)
    groups: list[GroupQuestions] = Field(min_length=1, max_length=len(GROUPS))

    @model_validator(mode="after")
    def _unique(self) -> "Questionnaire":
        names = [g.name for g in self.groups]
        if len(set(names)) != len(names):
            raise ValueError("调查群体重复")
        ids = [q.id for g in self.groups for q in g.questions]
        if len(set(ids)) != len(ids):
            raise ValueError("题目编号（id）在整份问卷中应唯一")
        if len(set(self.choices)) != len(self.choices):
            raise ValueError("选项（choices）重复")
        return self

    def group(self, name: str) -> GroupQuestions:
        for group in self.groups:
            if group.name == name:
                return group
        raise QuestionnaireError(self.id, [("", f"问卷没有“{name}”群体（有：{'、'.join(g.name for g in self.groups)}）")])


def _problem(err: dict[str, Any]) -> tuple[str, str]:
    where = ""
    for part in err.get("loc", ()):
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    kind = err.get("type", "")
    if kind == "missing":
        message = "缺少此项"
    elif kind == "extra_forbidden":
        message = "不认识的字段"
    elif kind in ("value_error", "assertion_error"):
        message = str((err.get("ctx") or {}).get("error", err.get("msg", "")))
    elif kind == "string_too_short":
        message = "内容太短或为空"
    elif kind == "string_too_long":
        message = "内容太长"
    elif kind == "too_short":
        message = "至少要有一项"
    elif kind == "too_long":
        message = "项数太多"
    elif kind == "string_pattern_mismatch":
        message = "编号只能由字母、数字、- 和 _ 组成"
    elif kind == "string_type":
        message = "应为文字"
    else:
        message = f"取值无效（{err.get('msg', kind)}）"
    return where, message


def parse_questionnaire(data: Any, name: str) -> Questionnaire:
    if not isinstance(data, dict):
        raise QuestionnaireError(name, [("", "文件内容应为一个映射，以 id、title、choices、groups 开头")])
    try:
        return Questionnaire.model_validate(data)
    except ValidationError as exc:
        raise QuestionnaireError(name, [_problem(e) for e in exc.errors()]) from None


def load_questionnaire_file(path: str | Path) -> Questionnaire:
    path = Path(path)
    name = path.name
    try:
        data = read_yaml(read_text(path)).data
    except UnicodeDecodeError:
        raise QuestionnaireError(name, [("", "不是 UTF-8 编码的文本文件")]) from None
    except YamlError as exc:
        where = f"第 {exc.line} 行：" if exc.line else ""
        raise QuestionnaireError(name, [("", f"{where}{exc.message}")]) from None
    except OSError:
        raise QuestionnaireError(name, [("", "找不到文件或无法读取")]) from None
    return parse_questionnaire(data, name)


def shipped_questionnaire(standard: Standard) -> Questionnaire:
    """The questionnaire shipped for a standard (its ``survey.questionnaire``)."""
    if standard.survey is None:
        raise QuestionnaireError(standard.id, [("survey", "该标准没有设定满意度调查（survey），请用 --questionnaire 指定问卷文件")])
    return load_questionnaire_file(SHIPPED_DIR / f"{standard.survey.questionnaire}.yaml")


def check_against_rule(questionnaire: Questionnaire, standard: Standard) -> None:
    """The standard's rule must name answers the questionnaire offers."""
    rule = standard.survey
    if rule is None:
        raise QuestionnaireError(questionnaire.id, [("", f"标准 {standard.id} 没有设定满意度调查规则（survey）")])
    missing = [a for a in (*rule.satisfied, *rule.left_out) if a not in questionnaire.choices]
    if missing:
        raise QuestionnaireError(questionnaire.id, [("choices", f"标准的计算规则用到选项“{'、'.join(missing)}”，问卷的选项中没有")])
