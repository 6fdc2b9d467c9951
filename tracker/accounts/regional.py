"""Region accounts (市/省 督导, issue 15 §2): who they are, what they see, what they may change.

A region account reads every campaign inside its region (a city's counties; a province's
cities' counties) and changes nothing in them. To look into a county it is shown the county's
pages and API as a 评估人员 of that county (``county_view``: a copy of the account, never
stored, with role reviewer and that campaign): every existing read works and every write is
refused exactly as for a reviewer. With its own role it sees nothing of any campaign (every
clause of ``tracker.accounts.access`` is false for it), so a path that forgot to ask still
shows and changes nothing. What it does change is the region's own: its reviews of the
counties (``check_region_review``: 市级 for a city, 省级 for a province) and its notices.
Another region's counties do not exist for it (404).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine, String, bindparam
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from tracker.accounts.access import AccessDenied, role_of
from tracker.accounts.models import ApiToken, User, UserRole, WebSession
from tracker.accounts.sessions import MAX_TOKEN, session_state, token_hash
from tracker.accounts.service import AccountError, UserInput, hash_password
from tracker.db import read_alone
from tracker.errors import ErrorKind, JunhengError
from tracker.org.models import Campaign
from tracker.regions.models import Region, RegionLevel
from tracker.regions.queries import MARK_SIZE, RegionRow, mark_columns, region_and_mark
from tracker.regions.service import RegionNotFound, in_region, region_campaigns

REVIEW_LEVEL = {RegionLevel.city: "市级", RegionLevel.province: "省级"}


class CountyNotInRegion(JunhengError, LookupError, kind=ErrorKind.not_found):
    """A campaign outside the account's region: it does not exist for this account."""


def is_region_account(user: User) -> bool:
    return role_of(user) is UserRole.region and user.region_id is not None


def create_region_user(session: Session, region: Region, *, username: str, password: str, name: str = "") -> User:
    """A log-in of the region; its default county is the region's first (by county name)."""
    data = UserInput(username=username, name=name, role=UserRole.region, password=password)
    if session.exec(select(User.id).where(User.username == data.username)).first() is not None:
        raise AccountError(f"用户名「{data.username}」已被使用")
    counties = region_campaigns(session, region.id)
    if not counties:
        raise AccountError(f"地区「{region.name}」下还没有县的创建工作，请先导入地区文件")
    user = User(campaign_id=counties[0].id, region_id=region.id, username=data.username,
                name=data.name or f"{region.name}督导", role=UserRole.region.value,
                password_hash=hash_password(data.password))
    session.add(user)
    session.flush()
    return user


def account_region(session: Session, user: User) -> Region:
    """The region of a region account; 403 for any other account."""
    if not is_region_account(user):
        raise AccessDenied("地区总览仅限市/省督导账号")
    region = session.get(Region, user.region_id)
    if region is None:
        raise RegionNotFound("账号所属的地区已不存在")
    return region


def account_region_marked(session: Session, user: User, *, header: bool = False) -> tuple[RegionRow, tuple, tuple]:
    """``account_region`` (its columns) with the region's change mark read in the same statement
    (and, with ``header``, the account's campaign's county, name and kind): ``(region, mark,
    header)``."""
    if not is_region_account(user):
        raise AccessDenied("地区总览仅限市/省督导账号")
    found = region_and_mark(session, user.region_id, user.campaign_id if header else None)
    if found is None:
        raise RegionNotFound("账号所属的地区已不存在")
    return found


@dataclass(frozen=True, slots=True)
class RegionPageView:
    """What a region account's 地区总览 shows depends on: the account (id, name, role, its default
    campaign, whose county, name and kind the page's header shows: ``header``), its region's row
    and change mark. Two requests with equal views (on one day) are shown the same page."""

    user_id: int
    name: str
    role: str
    campaign_id: int
    region: RegionRow
    mark: tuple
    header: tuple

    @classmethod
    def of(cls, user: User, region: RegionRow, mark: tuple, header: tuple) -> RegionPageView:
        return cls(user.id, user.name, role_of(user).value, user.campaign_id, region, mark, header)


_STATEMENTS: dict[tuple[str, str], object] = {}


def _region_statement(by: str, dialect: str):
    """A credential's user, its region, the region's change mark and the account's campaign's
    header fields in one statement, built once per dialect; ``by`` "session" (a page session,
    with its row's times) or "token" (an API token not expired at ``:now``). The mark's region is
    read from the credential by aliases (never correlated with the outer query, so it can stand
    inside the mark's own subqueries)."""
    statement = _STATEMENTS.get((by, dialect))
    if statement is not None:
        return statement
    token_hash = bindparam("token_hash", type_=String)
    credential = WebSession if by == "session" else ApiToken
    own, own_user = aliased(credential), aliased(User)
    region_id = (select(own_user.region_id).join(own, own.user_id == own_user.id)
                 .where(own.token_hash == token_hash).scalar_subquery())
    # the session row's times (its idle and life clocks); a token's expiry is in the WHERE instead
    times = (WebSession.created_at, WebSession.last_seen_at) if by == "session" else (ApiToken.expires_at,) * 2
    statement = (
        select(User.id, User.name, User.role, User.campaign_id, User.active, *times,
               Region.id, Region.code, Region.name, Region.level, Region.parent_id,
               *mark_columns(region_id, dialect), Campaign.county, Campaign.name, Campaign.kind)
        .select_from(credential).join(User, User.id == credential.user_id)
        .join(Region, Region.id == User.region_id).outerjoin(Campaign, Campaign.id == User.campaign_id)
        .where(credential.token_hash == token_hash))
    if by == "token":
        statement = statement.where(ApiToken.expires_at > bindparam("now"))
    _STATEMENTS[(by, dialect)] = statement
    return statement


def _region_row(engine: Engine, by: str, token: str, now: dt.datetime):
    if not token or len(token) > MAX_TOKEN:
        return None
    with read_alone(engine) as connection:
        row = connection.execute(_region_statement(by, connection.dialect.name),
                                 {"token_hash": token_hash(token), "now": now}).first()
    if row is None or not row[4] or UserRole(row[2]) is not UserRole.region:
        return None
    return row


def _view(row) -> RegionPageView:
    n = 12 + MARK_SIZE
    return RegionPageView(row[0], row[1], UserRole(row[2]).value, row[3], RegionRow(*row[7:12]), tuple(row[12:n]),
                          tuple(row[n:]))


def region_page_view(engine: Engine, token: str, now: dt.datetime) -> tuple[RegionPageView, bool] | None:
    """``(view, stale)`` of the region account logged in by the page session ``token`` (as
    ``sessions.session_user`` and ``account_region_marked(header=True)`` would read them, in one
    statement); None when the session logs no region account in. ``stale``: the session's idle
    clock should be moved on (what ``touch_session`` does)."""
    row = _region_row(engine, "session", token, now)
    stale = None if row is None else session_state(row[4], row[5], row[6], now)
    return None if stale is None else (_view(row), stale)


def region_of_api_token(engine: Engine, token: str, now: dt.datetime) -> RegionPageView | None:
    """The view of the region account a bearer ``token`` belongs to (as ``verify_token`` and
    ``account_region_marked`` would read it, in one statement); None for any other token."""
    row = _region_row(engine, "token", token, now)
    return None if row is None else _view(row)


def visible_region(session: Session, user: User, code: str) -> Region:
    """The region ``code`` if the account may see it (its own, or a city of its province); 404
    otherwise: another region does not exist for it."""
    own = account_region(session, user)
    region = session.exec(select(Region).where(Region.code == code)).first()
    if region is None or (region.id != own.id and region.parent_id != own.id):
        raise RegionNotFound(f"没有编号为「{code}」的地区")
    return region


def county_of_region(session: Session, user: User, campaign: Campaign | None) -> Campaign:
    """The campaign if it is inside the account's region, else 404."""
    own = account_region(session, user)
    if campaign is None or not in_region(session, own.id, campaign.id):
        raise CountyNotInRegion("本地区没有这个县的创建工作")
    return campaign


def county_view(session: Session, user: User, campaign: Campaign) -> User:
    """The account as a read-only 评估人员 of ``campaign`` (a county of its region): a new
    ``User`` never added to the session, so nothing of it is stored."""
    county_of_region(session, user, campaign)
    return User(id=user.id, campaign_id=campaign.id, username=user.username, name=user.name,
                role=UserRole.reviewer.value, password_hash="", active=user.active, region_id=user.region_id)


def check_region_review(session: Session, user: User, campaign: Campaign, level: str) -> str:
    """A region account enters reviews of its counties at its own level only (市级 for a city,
    省级 for a province). Returns the level."""
    own = account_region(session, user)
    county_of_region(session, user, campaign)
    allowed = REVIEW_LEVEL[RegionLevel(own.level)]
    if level != allowed:
        raise AccessDenied(f"{own.name}只能录入{allowed}评估（复评）的结论和反馈问题，不能录入{level}")
    return allowed


def region_review(session: Session, user: User, review_id: int):
    """A review of one of the account's counties at the account's own level (its campaign and
    the review); another county's or another level's review does not exist for it (404)."""
    from tracker.reviews.service import ReviewNotFound
    from tracker.reviews.models import Review

    own = account_region(session, user)
    review = session.get(Review, review_id)
    if review is None or review.level != REVIEW_LEVEL[RegionLevel(own.level)]:
        raise ReviewNotFound(f"没有编号为 {review_id} 的{REVIEW_LEVEL[RegionLevel(own.level)]}评估")
    campaign = county_of_region(session, user, session.get(Campaign, review.campaign_id))
    return campaign, review
