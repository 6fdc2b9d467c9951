"""The levels of a review (市级, 省级, 国家, and the county's own 县级督查), its verdicts, the
bounds on what the office types about it, and the errors a review action raises."""

from __future__ import annotations

from tracker.errors import ErrorDetail, ErrorKind, JunhengError
from tracker.plans.kinds import PhaseKind
from tracker.reviews.models import Review

# the reviews above the county, each with the kind of phase it normally has
LEVELS: dict[str, PhaseKind] = {
    "市级": PhaseKind.review_city,
    "省级": PhaseKind.review_province,
    "国家": PhaseKind.review_national,
}
COUNTY_LEVEL = "县级督查"  # the county's own 督查: no phase of its own, no verdict needed
ALL_LEVELS = (*LEVELS, COUNTY_LEVEL)
LEVEL_ALIASES = {"市": "市级", "市级复评": "市级", "市级复核": "市级", "市督导室复核": "市级", "省": "省级",
                 "省级评估": "省级", "国家级": "国家", "国家审核认定": "国家", "教育部": "国家",
                 "县级": COUNTY_LEVEL, "县": COUNTY_LEVEL, "督查": COUNTY_LEVEL, "县督查": COUNTY_LEVEL,
                 "县级督导": COUNTY_LEVEL, "专项督查": COUNTY_LEVEL}
# bounds on what the office types about a round (the API checks the same)
ROUND_MAX, TEAM_MAX, SCOPE_MAX, NOTE_MAX = 32, 500, 500, 500
FINDING_TEXT_MAX = 2000
VERDICTS = ("通过", "不通过", "有条件通过")


class ReviewError(JunhengError, ValueError):
    """A review action that cannot be done as asked (Chinese message); ``field`` names the input
    at fault (level, phase, round_name, team, scope, verdict, note) when one is."""

    def __init__(self, message: str, field: str | None = None, *, kind: ErrorKind | None = None):
        details = [ErrorDetail(message, location=f"body.{field}")] if field else []
        super().__init__(message, kind=kind, details=details)
        self.field = field


class ReviewNotFound(ReviewError, kind=ErrorKind.not_found):
    """No such review in the campaign."""


class ReviewConflict(ReviewError, kind=ErrorKind.conflict):
    """The review's state does not allow the move (a verdict recorded twice)."""


def normalize_level(level: str) -> str:
    text = (level or "").strip()
    text = LEVEL_ALIASES.get(text, text)
    if text not in ALL_LEVELS:
        raise ReviewError(f"评估级别「{level}」无效，应为 {'、'.join(ALL_LEVELS)} 之一", "level")
    return text


def is_county(review: Review) -> bool:
    return review.level == COUNTY_LEVEL


def review_label(review: Review) -> str:
    """How a review is named to people: 市级, or 县级督查第一轮."""
    return f"{review.level}{review.round_name}" if is_county(review) else review.level

