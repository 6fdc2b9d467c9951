"""Creating users, checking passwords (slowed down after repeated failures), and API tokens.

Functions take a session first and never commit: the caller commits. Except ``authenticate``,
which commits the attempt's count before it checks the password (concurrent guesses must see
it), and so also whatever the session held before.

Slowing down guessing: tracker.accounts.throttle (per user name as typed and source address,
decided before the password is checked). Unknown user names get the same answer, the same count
and the same argon2 work (a dummy hash) as a wrong password, so neither the answer, the lock nor
the answer time tells which names exist.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, field_validator
from sqlalchemy import delete as sa_delete
from sqlmodel import Session, select

from tracker.accounts import throttle
from tracker.accounts.models import ROLE_NAMES, ApiToken, User, UserRole
from tracker.accounts.sessions import end_sessions, purge_expired_sessions, token_hash
from tracker.org.models import Campaign, Department, Person, School
from tracker.org.queries import CAMPAIGN_REMINDERS, CAMPAIGN_WITHOUT_PLAN, keep_reminders_section
from tracker.org.service import UnknownName, find_department, find_person
from tracker.tasks.queries import LIST_STAMP, keep_list_stamp
from tracker.db import utcnow
from tracker.errors import JunhengError

log = logging.getLogger("tracker.accounts")

# argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile); tests swap in a cheaper one
HASHER = PasswordHasher()

FREE_FAILURES = throttle.FREE_FAILURES  # wrong passwords in a row from one address before it is slowed down
LOCK_MAX_SECONDS = throttle.LOCK_MAX_SECONDS
lock_seconds = throttle.lock_seconds
TOKEN_LIFETIME = dt.timedelta(hours=12)
MIN_PASSWORD_LENGTH = 8

_USERNAME = re.compile(r"^[A-Za-z0-9_.@\-\u4e00-\u9fff]{2,64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

FIELD_NAMES = {"username": "用户名", "name": "姓名", "role": "角色", "password": "密码", "department": "单位",
               "school": "学校", "person": "人员", "campaign": "创建工作"}


class AccountError(JunhengError, ValueError):
    """A user that cannot be created or changed as asked (Chinese message)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------------------------------------
# creating users


class UserInput(BaseModel):
    """What ``junheng user add`` (and the demo) give to create a user. Department, school and
    person are names as the plan and the school sheet write them."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    username: str
    name: str = ""  # defaults to the person's name, else the username
    role: UserRole
    password: Annotated[str, StringConstraints(strip_whitespace=False)]
    department: str | None = None
    school: str | None = None
    person: str | None = None

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        if not _USERNAME.match(value):
            raise ValueError("用户名应为 2 到 64 个字母、数字、汉字或 _ . @ -，不含空格")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if _CONTROL.search(value) or len(value) > 64:
            raise ValueError("姓名不能含控制字符，最长 64 个字")
        return value

    @field_validator("password")
    @classmethod
    def _password(cls, value: str) -> str:
        check_password_strength(value)
        return value

    @field_validator("department", "school", "person")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符")
    if _CONTROL.search(password):
        raise AccountError("密码不能含控制字符")


def _input_problems(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = FIELD_NAMES.get(str(err["loc"][0]), str(err["loc"][0])) if err["loc"] else "输入"
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, AccountError):
            message = ctx_error.message
        elif err["type"] == "enum":
            message = "应为 " + "、".join(f"{r.value}（{ROLE_NAMES[r]}）" for r in UserRole)
        elif err["type"] == "missing":
            message = "必须填写"
        elif err["type"] == "extra_forbidden":
            message = "不认识的字段"
        else:
            message = str(ctx_error) if ctx_error else err["msg"]
        parts.append(f"{field}：{message}")
    return "；".join(parts)


def validate_user_input(data: dict) -> UserInput:
    try:
        return UserInput.model_validate(data)
    except ValidationError as exc:
        raise AccountError(f"用户信息有误：{_input_problems(exc)}") from None


def find_school(session: Session, campaign: Campaign, key_or_name: str) -> School:
    """A school of the campaign by its 学校标识码 (key) or its name."""
    wanted = key_or_name.strip()
    schools = list(session.exec(select(School).where(School.campaign_id == campaign.id)))
    for match in ([s for s in schools if s.key == wanted], [s for s in schools if s.name == wanted]):
        if len(match) == 1:
            return match[0]
        if len(match) > 1:
            raise UnknownName(f"创建工作「{campaign.code}」中有 {len(match)} 所学校名为「{wanted}」，请用学校标识码指定")
    if not schools:
        raise UnknownName(f"创建工作「{campaign.code}」还没有学校：请先导入学校数据（junheng data import）")
    raise UnknownName(f"创建工作「{campaign.code}」中没有学校「{wanted}」（请用学校名称或学校标识码）")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def create_user(session: Session, campaign: Campaign, data: UserInput | dict) -> User:
    """Create a user of ``campaign``. Raises ``AccountError`` or ``UnknownName`` (Chinese)."""
    user_input = data if isinstance(data, UserInput) else validate_user_input(data)
    role = user_input.role
    username = user_input.username
    if session.exec(select(User.id).where(User.username == username)).first() is not None:
        raise AccountError(f"用户名「{username}」已被使用")

    if role is UserRole.region:
        raise AccountError("市/省督导账号属于一个地区，请用 junheng region user 建立")
    department = school = person = None
    if user_input.person:
        person = find_person(session, campaign, user_input.person)
    if user_input.department:
        department = find_department(session, campaign, user_input.department)
    if user_input.school:
        school = find_school(session, campaign, user_input.school)

    if department is not None and school is not None:
        raise AccountError("--department 与 --school 只能指定一个")
    if role is UserRole.department:
        if department is None and person is not None and person.department_id is not None:
            department = session.get(Department, person.department_id)
        if department is None:
            raise AccountError("责任单位用户必须指定所属单位（--department）")
    elif role is UserRole.school:
        if school is None:
            raise AccountError("学校用户必须指定所属学校（--school）")
    elif school is not None:
        raise AccountError(f"{ROLE_NAMES[role]}用户不属于某所学校，不能指定 --school")
    elif role is UserRole.reviewer and department is not None:
        raise AccountError("评估人员不属于某个单位，不能指定 --department")
    if person is not None:
        if role is UserRole.department and person.department_id != department.id:
            raise AccountError(f"人员「{person.name}」不属于单位「{department.name}」")
        if role is UserRole.office and not person.is_office:
            raise AccountError(f"人员「{person.name}」不是办公室人员，不能作为办公室用户")
        if role is UserRole.school and person.school_id not in (None, school.id):
            raise AccountError(f"人员「{person.name}」属于另一所学校")

    user = User(
        campaign_id=campaign.id,
        username=username,
        name=user_input.name or (person.name if person else username),
        role=role.value,
        department_id=department.id if department else None,
        school_id=school.id if school else None,
        person_id=person.id if person else None,
        password_hash=hash_password(user_input.password),
    )
    session.add(user)
    session.flush()
    log.info("新建用户「%s」（%s，创建工作 %s）", username, ROLE_NAMES[role], campaign.code)
    return user


def find_user(session: Session, username: str) -> User | None:
    return session.exec(select(User).where(User.username == username.strip())).first()


def list_users(session: Session, campaign: Campaign | None = None) -> list[User]:
    stmt = select(User).order_by(User.campaign_id, User.role, User.username)
    if campaign is not None:
        stmt = stmt.where(User.campaign_id == campaign.id)
    return list(session.exec(stmt))


def set_password(session: Session, user: User, password: str) -> None:
    """A new password; it also ends the user's page sessions and API tokens."""
    check_password_strength(password)
    user.password_hash = hash_password(password)
    session.add(user)
    revoke_tokens(session, user)
    end_sessions(session, user)
    session.flush()


def set_active(session: Session, user: User, active: bool) -> None:
    """Enable or disable ``user``; disabling ends its page sessions and API tokens at once."""
    user.active = active
    session.add(user)
    if not active:
        revoke_tokens(session, user)
        end_sessions(session, user)
    session.flush()


def generate_password() -> str:
    """A one-time password people can type: 12 characters without look-alikes."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


# ---------------------------------------------------------------------------------------------
# logging in


@dataclass(frozen=True)
class LoginResult:
    user: User | None  # None: refused
    message: str = ""  # why it was refused (Chinese)
    retry_after: int | None = None  # seconds, when refused because of the slow-down

    @property
    def ok(self) -> bool:
        return self.user is not None


WRONG_PASSWORD = "用户名或密码错误"

_dummy_hash: str | None = None


def _burn_time(password: str) -> None:
    """The argon2 work a real check costs, so an unknown name answers as slowly as a known one."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = HASHER.hash(secrets.token_hex(16))
    try:
        HASHER.verify(_dummy_hash, password)
    except VerificationError:
        pass


def _throttled(until: dt.datetime, now: dt.datetime) -> LoginResult:
    seconds = max(1, int((until - now).total_seconds() + 0.999))
    wait = f"{seconds} 秒" if seconds < 120 else f"{(seconds + 59) // 60} 分钟"
    return LoginResult(None, f"登录失败次数过多，请 {wait}后再试", retry_after=seconds)


LOCAL = "local"  # the source of attempts made in this process (the CLI, tests)


def authenticate(session: Session, username: str, password: str, *, source: str = LOCAL,
                 now: dt.datetime | None = None) -> LoginResult:
    """Check a user name and password tried from ``source`` (the client's address). The attempt
    is counted, and committed, before the password is checked; refused unchecked while the name
    is locked from that address (tracker.accounts.throttle). The caller commits the rest."""
    now = now or utcnow()
    username = (username or "").strip()
    admission = throttle.admit(session, username, source, now)
    if not admission.admitted:
        log.warning("登录被暂缓：用户名「%s」（来自 %s）失败次数过多", username[:64], source)
        return _throttled(admission.locked_until, now)
    user = find_user(session, username) if username and len(username) <= 64 else None
    if user is None:
        _burn_time(password)
        known = False
    else:
        try:
            known = HASHER.verify(user.password_hash, password)
        except (VerifyMismatchError, InvalidHashError, VerificationError):
            known = False
    if not known:
        if admission.locked_until is not None:
            log.warning("登录失败：用户名「%s」（来自 %s）连续失败 %d 次，暂停登录", username[:64], source,
                        admission.failed_count)
            return _throttled(admission.locked_until, now)
        log.warning("登录失败：用户名「%s」（来自 %s）%s", username[:64], source,
                    "密码错误" if user is not None else "不存在")
        return LoginResult(None, WRONG_PASSWORD)
    if not user.active:
        log.warning("登录被拒绝：用户「%s」已停用", user.username)
        return LoginResult(None, "该账号已停用，请联系领导小组办公室")
    throttle.succeeded(session, username, source)
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    session.add(user)
    session.flush()
    return LoginResult(user)


def change_password(session: Session, user: User, current: str, new: str, again: str, *, source: str = LOCAL,
                    now: dt.datetime | None = None) -> LoginResult:
    """A user changing their own password (the web page): the current one, the new one twice, the
    rules of ``junheng user passwd`` (``check_password_strength``). The current password is checked
    like a login (``authenticate``: counted and slowed down per name and address, so a left-open
    session cannot be used to guess it). On success every page session and API token of the user
    ends (``set_password``); the caller starts a new session for the browser that changed it.
    Returns the user, or why not (nothing changed)."""
    if not current or not new or not again:
        return LoginResult(None, "请填写当前密码，并两次输入新密码")
    if new != again:
        return LoginResult(None, "两次输入的新密码不一致")
    try:
        check_password_strength(new)
    except AccountError as exc:
        return LoginResult(None, exc.message)
    result = authenticate(session, user.username, current, source=source, now=now)
    if not result.ok:
        if result.retry_after is None and result.message == WRONG_PASSWORD:
            return LoginResult(None, "当前密码不正确")
        return result
    if new == current:
        return LoginResult(None, "新密码不能与当前密码相同")
    set_password(session, result.user, new)
    log.info("用户「%s」修改了自己的密码（其他登录会话和令牌已失效）", user.username)
    return LoginResult(result.user)


# ---------------------------------------------------------------------------------------------
# API tokens


def issue_token(session: Session, user: User, *, now: dt.datetime | None = None,
                lifetime: dt.timedelta = TOKEN_LIFETIME) -> tuple[str, ApiToken]:
    """A new bearer token for ``user``: the token itself (shown once) and its stored row."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=token_hash(token), created_at=now, expires_at=now + lifetime)
    session.add(row)
    session.flush()
    return token, row


def verify_token(session: Session, token: str, *, now: dt.datetime | None = None) -> User | None:
    """The active user a bearer token belongs to, or None (unknown, expired, user disabled).
    One query: the token by its unique hash, joined to its user."""
    if not token or len(token) > 128:
        return None
    now = now or utcnow()
    user = session.exec(select(User).join(ApiToken, ApiToken.user_id == User.id)
                        .where(ApiToken.token_hash == token_hash(token), ApiToken.expires_at > now)).first()
    if user is None or not user.active:
        return None
    return user


def verify_token_in(session: Session, token: str, code: str, *,
                    now: dt.datetime | None = None) -> tuple[User | None, Campaign | None]:
    """``verify_token`` and the campaign with ``code`` (None when there is none; its plan left
    unread, as ``campaign_by_code``; its task-list revision kept for ``list_stamp``) in one
    statement: what an API request about a campaign reads first. Whether the user may see that
    campaign is the caller's to check."""
    if not token or len(token) > 128:
        return None, None
    now = now or utcnow()
    found = session.exec(select(User, Campaign, CAMPAIGN_REMINDERS, LIST_STAMP)
                         .join(ApiToken, ApiToken.user_id == User.id)
                         .outerjoin(Campaign, Campaign.code == code).options(CAMPAIGN_WITHOUT_PLAN)
                         .where(ApiToken.token_hash == token_hash(token), ApiToken.expires_at > now)).first()
    if found is None:
        return None, None
    user, campaign, reminders, stamp = found
    if campaign is not None:
        keep_reminders_section(session, campaign, reminders)
        keep_list_stamp(session, campaign.id, stamp)  # the task list API's kept answers (api/v1/task_list_cache.py)
    if not user.active:
        return None, campaign
    return user, campaign


def revoke_token(session: Session, token: str) -> bool:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == token_hash(token))).first()
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def revoke_tokens(session: Session, user: User) -> None:
    for row in session.exec(select(ApiToken).where(ApiToken.user_id == user.id)):
        session.delete(row)


def purge_expired_tokens(session: Session, now: dt.datetime | None = None) -> int:
    """Delete the API tokens and page sessions that have expired, and login counters a day old;
    returns how many rows. The scheduler runs it daily: what has expired is refused anyway, but
    its row would stay for ever."""
    now = now or utcnow()
    result = session.execute(sa_delete(ApiToken).where(ApiToken.expires_at <= now))
    return (result.rowcount or 0) + purge_expired_sessions(session, now) + throttle.purge_stale(session, now)


# ---------------------------------------------------------------------------------------------
# acting on tasks


def acting_person(session: Session, user: User) -> Person:
    """The person the task lifecycle sees acting for ``user``.

    The linked person when there is one; otherwise a stand-in built from the user's role and
    unit, never stored (the event log then names the user, with no person id)."""
    if user.person_id is not None:
        person = session.get(Person, user.person_id)
        if person is not None:
            return person
    role = UserRole(user.role)
    return Person(
        id=None,
        campaign_id=user.campaign_id,
        name=user.name,
        department_id=user.department_id if role in (UserRole.department, UserRole.office) else None,
        school_id=user.school_id if role is UserRole.school else None,
        is_office=role is UserRole.office,
        active=user.active and role is not UserRole.reviewer,
    )
