"""What every page shares: the navigation for the user's role, one-off messages carried across a
redirect (POST → 303 → GET), what was typed into a refused form (the page comes back with it),
today's local date (tracker.clock), and the template filters."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from api.templating import templates
from tracker.accounts.models import ROLE_NAMES, User, UserRole
from tracker.calendar import load_calendar
from tracker.org.models import Campaign
from tracker.clock import local_today

FLASH_KEY = "flash"
WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    active: bool = False


PROGRAMME_KIND = "school-programme"  # tracker.programmes.models.PROGRAMME_KIND


def nav_for(user: User, current: str, kind: str = "county") -> list[NavItem]:
    role = UserRole(user.role)
    if kind == PROGRAMME_KIND:  # a 示范校 programme's log-ins (issue 15 §1): its page and its tasks
        items = [("/programme", "示范校"), ("/tasks", "任务")]
    elif role is UserRole.office:
        items = [("/overview", "总览"), ("/indicators", "指标"), ("/tasks", "任务"), ("/departments", "单位"),
                 ("/data", "学校数据"), ("/briefings", "通报"), ("/reports", "申报材料")]
    elif role is UserRole.reviewer:
        items = [("/overview", "总览"), ("/indicators", "指标"), ("/tasks", "任务"), ("/departments", "单位"),
                 ("/briefings", "通报")]
    elif role is UserRole.department:
        items = [(f"/departments/{user.department_id}", "本单位"), ("/tasks", "任务"), ("/briefings", "通报")]
    elif role is UserRole.region:
        items = [("/region", "地区总览")]
    else:
        items = [(f"/schools/{user.school_id}", "本校"), ("/tasks", "任务"), ("/data", "数据报送")]
    if user.region_id is not None and role is not UserRole.region:  # a region account inside a county
        items = [("/region", "地区总览"), *items]
    return [NavItem(href, label, current == href or current.startswith(href + "/")) for href, label in items]


def home_for(user: User, kind: str = "county") -> str:
    role = UserRole(user.role)
    if kind == PROGRAMME_KIND:
        return "/programme"
    if role is UserRole.region:
        return "/region"
    if role in (UserRole.office, UserRole.reviewer):
        return "/overview"
    if role is UserRole.department and user.department_id is not None:
        return f"/departments/{user.department_id}"
    if role is UserRole.school and user.school_id is not None:
        return f"/schools/{user.school_id}"
    return "/tasks"


def today(session: Session) -> dt.date:
    """Today's local (Beijing) date; also installs the store's working-day calendar for this request
    (imported holiday notices count at once, in every app process)."""
    load_calendar(session)
    return local_today()


def flash(request: Request, text: str, kind: str = "ok") -> None:
    messages = list(request.session.get(FLASH_KEY, []))
    messages.append([kind, text])
    request.session[FLASH_KEY] = messages[-5:]


def take_flashes(request: Request) -> list[tuple[str, str]]:
    return [tuple(m) for m in request.session.pop(FLASH_KEY, [])]


class Typed(dict):
    """The typed values by form; a form with nothing typed reads as empty, so a template can say
    ``typed.share.note`` on any page."""

    def __missing__(self, form: str) -> dict:
        return {}


def keep_typed(request: Request, form: str, values: dict[str, Any]) -> None:
    """What the user typed into a refused form, for the page shown again in the same response
    (templates read ``typed.<form>``; Jinja escapes it like any value). Not kept in the session:
    the cookie could not hold a long 措施 text."""
    request.state.typed = Typed({form: values})


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def render(request: Request, session: Session, user: User, template: str, context: dict[str, Any],
           *, status_code: int = 200, nav_path: str | None = None) -> Response:
    campaign = session.get(Campaign, user.campaign_id)
    return templates.TemplateResponse(request, template, {
        "user": user,
        "role": UserRole(user.role).value,
        "role_name": ROLE_NAMES[UserRole(user.role)],
        "campaign": campaign,
        "nav": nav_for(user, nav_path or request.url.path, campaign.kind if campaign else "county"),
        "flashes": take_flashes(request),
        "typed": getattr(request.state, "typed", None) or Typed(),
        **context,
    }, status_code=status_code)


# ---------------------------------------------------------------------------------------------
# filters


def fmt_number(value: Any, digits: int = 2) -> str:
    """A figure as the official forms print it (2 decimals, CVs 3); — when there is none."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float)):
        text = f"{value:,.{digits}f}"
        return text
    return str(value)


def fmt_date(value: dt.date | None, weekday: bool = False) -> str:
    if value is None:
        return "以上级通知为准"
    text = f"{value.year}年{value.month}月{value.day}日"
    if weekday:
        text += f"（周{WEEKDAYS[value.weekday()]}）"
    return text


def fmt_short_date(value: dt.date | None) -> str:
    return value.strftime("%m-%d") if value else "—"


def to_json(value: Any) -> Markup:
    """Data for a chart inside <script type="application/json">: no "</" can close the tag."""
    text = json.dumps(value, ensure_ascii=False).replace("</", "<\\/").replace("<!--", "<\\!--")
    return Markup(text)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}%"


templates.env.filters.update(num=fmt_number, date_cn=fmt_date, short_date=fmt_short_date, tojson_safe=to_json,
                             percent=percent)
