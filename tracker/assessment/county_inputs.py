"""County-level inputs (县级指标, 申报条件, 一票否决): figures and verdicts the office enters,
the newest entry counting, as ``assess`` takes them.
"""

from __future__ import annotations

from sqlmodel import Session, select

from tracker.assessment.inputs import number, split_sub_item_code, verdict_word, veto_answer
from tracker.assessment.models import CountyInput
from tracker.events.service import record_event
from tracker.org.models import Campaign
from tracker.schooldata.submissions import SelfCheckError
from tracker.standards import load_standard
from tracker.standards.schema import Indicator, Judged
from tracker.surveys.figure import recognition_figure

# A county figure with several parts (indicator 18: 10 % and 20 %) is entered per part; its
# CountyInput.indicator is then "<code>:<key>", e.g. "18:backbone_share".
COUNTY_INPUT_KEY_SEPARATOR = ":"

# The county-level items: judged on a figure, an attestation or a score the office enters.
COUNTY_LEVEL = (Judged.county_figure, Judged.attestation, Judged.scored)


def latest_county_inputs(session: Session, campaign_id: int) -> dict[str, CountyInput]:
    """The latest entry per county-level item (``18:backbone_share`` for a part), in the order
    the items were first entered."""
    rows = session.exec(
        select(CountyInput).where(CountyInput.campaign_id == campaign_id)
        .order_by(CountyInput.entered_at, CountyInput.id)
    )
    latest: dict[str, CountyInput] = {}
    for row in rows:
        latest[row.indicator] = row  # later rows win
    return latest


def county_inputs_of(session: Session, campaign: Campaign) -> dict[str, object]:
    """The latest entry per county-level item, as ``assess`` takes them: a figure, a verdict
    ("pass"/"fail"), or for a figure of several parts ``{key: figure}``; and the recognition
    indicator (32, Hunan 36) from the satisfaction survey when the office entered no figure."""
    inputs = entered_county_inputs(session, campaign)
    standard = load_standard(campaign.standard_id)
    if standard.survey is not None and standard.survey.indicator not in inputs:
        figure = recognition_figure(session, campaign, standard)
        if figure is not None:
            inputs[figure.indicator] = figure.percent
    return inputs


def entered_county_inputs(session: Session, campaign: Campaign) -> dict[str, object]:
    """The county-level items as the office entered them (``county_inputs_of`` without the survey)."""
    inputs: dict[str, object] = {}
    for name, row in latest_county_inputs(session, campaign.id).items():
        value: object = row.status if row.status is not None else row.value
        if value is None:
            continue
        code, sep, key = name.partition(COUNTY_INPUT_KEY_SEPARATOR)
        if sep:
            parts = inputs.setdefault(code, {})
            if isinstance(parts, dict):
                parts[key] = value
        else:
            inputs[code] = value
    return inputs


def _scored_sub_item(standard, code: str) -> dict[str, object] | None:  # noqa: ANN001
    """The sub-item entered as ``code`` ("8.1": indicator 8's first), or None."""
    split = split_sub_item_code(code)
    if split is None:
        return None
    try:
        ind = standard.indicator(split[0])
    except KeyError:
        return None
    if ind.judged is not Judged.scored or split[1] > len(ind.sub_items):
        return None
    return ind.sub_items[split[1] - 1]


def set_county_input(session: Session, campaign: Campaign, code: str, value: str, actor: str,
                     note: str = "") -> CountyInput:
    """Enter a county-level figure or verdict (areas B–E, application conditions, vetoes).

    ``code`` is an indicator, condition or veto code; a figure of several parts is entered per
    part as ``code:key`` (e.g. ``18:backbone_share``). ``value`` is a number ("96.5", "96.5%"),
    or 通过/不通过 (pass/fail; for a veto also 未发生/发生). The newest entry counts; earlier
    ones are kept. Writes one ``county_input.set`` event. Raises ``SelfCheckError`` (Chinese).
    """
    standard = load_standard(campaign.standard_id)
    code = (code or "").strip()
    base, sep, key = code.partition(COUNTY_INPUT_KEY_SEPARATOR)
    text = (value or "").strip()
    status = verdict_word(text)
    figure = number(text)
    conditions = {c.code: c for c in standard.application_conditions}
    vetoes = {c.code: c for c in standard.vetoes}
    try:
        ind: Indicator | None = standard.indicator(base)
    except KeyError:
        ind = None
    sub = None
    if ind is None and base not in conditions and base not in vetoes:
        sub = _scored_sub_item(standard, base)
        if sub is None or sep:
            raise SelfCheckError(f"未知的指标代码「{base}」（标准 {standard.id} 中没有）")
        # a sub-item's points (Hunan 8.1, 8.2 …): the sub-items add up to the indicator's points
        most = float(sub["points"])  # type: ignore[arg-type]
        if figure is None or not 0 <= figure <= most:
            raise SelfCheckError(f"分项 {base}（{sub['title']}）的得分应为 0 到 {most:g} 之间的数，现为「{text}」")
        status = None
    if ind is not None:  # (a sub-item's points were checked above: ind is None then)
        if ind.judged not in COUNTY_LEVEL:
            raise SelfCheckError(f"指标 {base}（{ind.title}）由学校数据计算，不能直接录入")
        keys = [t.key or ind.code for t in ind.all_thresholds]
        if len(keys) > 1 and not sep and status is None:
            raise SelfCheckError(f"指标 {base}（{ind.title}）有 {len(keys)} 个数值，请分别录入："
                                 + "、".join(f"{base}{COUNTY_INPUT_KEY_SEPARATOR}{k}" for k in keys))
        if sep and key not in keys:
            raise SelfCheckError(f"指标 {base}（{ind.title}）没有名为「{key}」的数值（应为 {'、'.join(keys)}）")
        if ind.judged is Judged.attestation and status is None:
            raise SelfCheckError(f"指标 {base}（{ind.title}）是认定类指标，录入值应为 通过 或 不通过，现为「{text}」")
        if ind.judged is Judged.scored:
            if figure is None or not 0 <= figure <= (ind.points or 0):
                raise SelfCheckError(f"指标 {base}（{ind.title}）的得分应为 0 到 {ind.points:g} 之间的数，现为「{text}」")
            status = None
        elif status is None and figure is None:
            raise SelfCheckError(f"指标 {base}（{ind.title}）的录入值「{text}」应为数字，或 通过/不通过")
        if status is not None and sep:
            raise SelfCheckError(f"{code} 是一个数值，应录入数字，现为「{text}」")
    elif sub is None:  # an application condition or a veto
        if sep:
            raise SelfCheckError(f"「{base}」没有分项数值，请直接录入 {base}")
        if base in vetoes:
            # read against what the item asks: 是 to "存在…" is a veto
            status, problem = veto_answer(base, vetoes[base].title, text)
            if problem:
                raise SelfCheckError(problem)
        if status is None:
            hint = "通过（未发生）或 不通过（发生）" if base in vetoes else "通过 或 不通过"
            raise SelfCheckError(f"「{base}」的录入值应为 {hint}，现为「{text}」")
    if ind is None and base in conditions:
        from tracker.assessment.conditions import check_entered_condition  # it reads county inputs too

        check_entered_condition(session, campaign, standard, base, status)
    entry = CountyInput(campaign_id=campaign.id, indicator=code, value=None if status else figure, status=status,
                        note=(note or "").strip(), entered_by=actor)
    session.add(entry)
    session.flush()
    record_event(session, type="county_input.set", actor=actor, campaign_id=campaign.id,
                 payload={"indicator": code, "value": entry.value, "status": status, "note": entry.note,
                          "county_input_id": entry.id})
    return entry


