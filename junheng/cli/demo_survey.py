"""The demo's satisfaction survey (issue 13 §3): a small illustrative round, marked 示例 everywhere.

On the first run, before the self-check (so its assessment takes the survey in: indicator 32 gets
the survey's figure and the questions below 85 % become tasks, and their notices go out with the
rest): a round opened with the standard's shipped (illustrative) questionnaire; five codes for
社会人士 with their QR slips (DIR/survey/), three answered as a phone would; a paper entry sheet
for 人大代表和政协委员, filled with made-up rows and imported; the results as .xlsx. The schools do
not exist before the self-check, so the demo asks the two groups not asked through a school.
Run again, it finds its round and changes nothing.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

from rich.console import Console
from rich.markup import escape

DEMO_TITLE = "（示例）青川县义务教育优质均衡发展满意度调查"
# made-up answers from a fixed seed: mostly satisfied; 校际差距 (C2) and 教育公平政策 (D3) weaker
WEIGHTS = {"满意": 60, "比较满意": 25, "一般": 8, "不满意": 3, "不了解": 4}
WEAK = {"C2", "D3"}


def _answer(rng: random.Random, qid: str) -> str:
    weights = dict(WEIGHTS)
    if qid in WEAK:
        weights.update({"满意": 30, "比较满意": 25, "一般": 30, "不满意": 15})
    return rng.choices(list(weights), list(weights.values()))[0]


def run_demo_survey(code: str, directory: Path, base_url: str, console: Console) -> None:
    from openpyxl import load_workbook

    from tracker.db import session_scope
    from tracker.org.service import resolve_campaign
    from tracker.spreadsheets import workbook_bytes
    from tracker.surveys import queries
    from tracker.surveys.figure import results_data
    from tracker.surveys.paper import import_paper, template_workbook
    from tracker.surveys.results_sheet import write_results_xlsx
    from tracker.surveys.service import issue_codes, open_survey, standard_of, submit_online
    from tracker.surveys.slips import write_slips

    console.print("满意度调查（示例）：")
    out = directory / "survey"
    rng = random.Random(13)
    with session_scope() as session:
        campaign = resolve_campaign(session, code)
        survey = queries.latest_survey(session, campaign.id)
        if survey is not None:
            console.print(f"已有满意度调查 #{survey.id}「{escape(survey.title)}」，不再新建")
            return
        survey = open_survey(session, campaign, "韩静", title=DEMO_TITLE, illustrative=True)
        groups = {g["name"]: g["questions"] for g in survey.questionnaire["groups"]}
        codes = issue_codes(session, survey, "社会人士", 5)
        slips = write_slips(out, codes, base_url, title=survey.title, school=None, group="社会人士",
                            stamp="示例", illustrative=True)
        for c in codes[:3]:  # as a phone would send them (api/survey.py)
            submit_online(session, c, {q["id"]: _answer(rng, q["id"]) for q in groups["社会人士"]})
        # the deputies answered on paper: the entry sheet, typed in, imported
        wb = load_workbook(io.BytesIO(workbook_bytes(template_workbook(survey, "人大代表和政协委员", [], campaign))))
        ws = wb["答卷"]
        for row in range(2, 14):
            values = ["人大代表和政协委员", None, *(_answer(rng, q["id"]) for q in groups["人大代表和政协委员"])]
            for col, value in enumerate(values, start=1):
                ws.cell(row, col, value)
        buffer = io.BytesIO()
        wb.save(buffer)
        sheet = out / "人大代表和政协委员纸质答卷（示例）.xlsx"
        sheet.write_bytes(buffer.getvalue())
        imported = import_paper(session, campaign, survey, buffer.getvalue(), sheet.name)
        data = results_data(session, campaign, standard_of(campaign), survey)
        results = write_results_xlsx(data, out / "满意度调查结果（示例）.xlsx")
    below = [q for q in data["questions"] if q["below"]]
    console.print(f"示例调查：3 份社会人士网上答卷（二维码纸条 {escape(str(slips))}），{imported.responses} 份"
                  f"人大代表和政协委员纸质答卷；总体满意率 {data['overall']['rate']:.1%}"
                  f"（{data['overall']['satisfied']} ÷ {data['overall']['answers']}）→ 指标 {data['survey']['indicator']}；"
                  f"低于 85% 的题目 {len(below)} 道（自查时列入问题清单）")
    console.print(f"结果表 {escape(str(results))}")
