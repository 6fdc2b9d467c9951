"""Survey results speed: the results of a round of N respondents (default 20,000, a large county's
parents, teachers and the rest), beside a yardstick measured in the same run on the same rows:

    read rows    fetching (group, school, answers) of every response, the one statement the
                 results make (tracker.surveys.queries.response_rows)

    uv run python benchmarks/survey.py                         # SQLite in a temporary directory
    uv run python benchmarks/survey.py --backend postgresql    # JUNHENG_BENCH_POSTGRES_URL
    uv run python benchmarks/survey.py --respondents 50000

Prints the median of 7 runs of each and the ratio (results ÷ reading the rows). Not part of CI.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import Session  # noqa: E402

from benchmarks.briefing import scratch_database  # noqa: E402
from tracker.db import make_engine, migrate  # noqa: E402
from tracker.org.models import Campaign, School  # noqa: E402
from tracker.standards import load_standard  # noqa: E402
from tracker.surveys import queries  # noqa: E402
from tracker.surveys.figure import results_data  # noqa: E402
from tracker.surveys.models import SurveyResponse  # noqa: E402
from tracker.surveys.service import open_survey  # noqa: E402

CHOICES = ["满意", "比较满意", "一般", "不满意", "不了解"]
SHARES = {"家长": 0.6, "学生": 0.2, "教师": 0.1, "校长": 0.02, "人大代表和政协委员": 0.03, "社会人士": 0.05}


def build(url: str, respondents: int) -> tuple[int, int]:
    migrate(url)
    engine = make_engine(url)
    rng = random.Random(13)
    with Session(engine) as session:
        campaign = Campaign(code="bench", name="基准县", county="基准县", standard_id="national-2017")
        session.add(campaign)
        session.flush()
        schools = [School(campaign_id=campaign.id, key=f"s{i}", name=f"第{i}学校", school_type="小学") for i in range(300)]
        session.add_all(schools)
        session.flush()
        survey = open_survey(session, campaign, "基准")
        groups = {g["name"]: [q["id"] for q in g["questions"]] for g in survey.questionnaire["groups"]}
        rows = []
        for group, share in SHARES.items():
            for _ in range(int(respondents * share)):
                school = None if group in ("人大代表和政协委员", "社会人士") else rng.choice(schools).id
                rows.append({"survey_id": survey.id, "school_id": school, "group": group, "channel": "paper",
                             "code_id": None, "answers": {q: rng.choices(CHOICES, (60, 25, 8, 3, 4))[0]
                                                          for q in groups[group]}})
        session.execute(insert(SurveyResponse), rows)
        session.commit()
        return campaign.id, survey.id


def median_seconds(fn, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--respondents", type=int, default=20_000)
    args = parser.parse_args()
    with scratch_database(args.backend, "survey") as url:
        campaign_id, survey_id = build(url, args.respondents)
        engine = make_engine(url)
        standard = load_standard("national-2017")
        with Session(engine) as session:
            campaign = session.get(Campaign, campaign_id)
            from tracker.surveys.models import Survey

            survey = session.get(Survey, survey_id)
            read = median_seconds(lambda: queries.response_rows(session, survey_id))
            full = median_seconds(lambda: results_data(session, campaign, standard, survey))
            data = results_data(session, campaign, standard, survey)
        engine.dispose()
    print(f"{args.backend}, {data['overall']['respondents']} respondents, {data['overall']['answers']} counted answers")
    print(f"read rows (yardstick): {read * 1000:.0f} ms")
    print(f"results:               {full * 1000:.0f} ms  ({full / read:.2f}× reading the rows)")


if __name__ == "__main__":
    main()
