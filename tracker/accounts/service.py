"""Creating users, checking passwords (slowed down after repeated failures), and API tokens.

Functions take a session first and never commit: the caller commits, also after a *failed*
login, whose counters must be kept (``authenticate`` returns a result instead of raising for
that reason).

Slowing down. Five wrong passwords in a row are free (typing mistakes); from the fifth on, the
account is locked for 30 s, doubling with every further failure up to 15 minutes. While locked,
attempts are refused without checking the password, so guessing costs the attacker the lock
window and costs the server no argon2 work. A correct password after the lock window resets the
count. Unknown user names get the same answer as a wrong password, after the same argon2 work
(a dummy hash), so the answer time does not tell which names exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, field_validator
from sqlalchemy import delete as sa_delete, update
from sqlmodel import Session, select

from tracker.accounts.models import ROLE_NAMES, ApiToken, User, UserRole
from tracker.org.models import Campaign, Department, Person, School
from tracker.org.service import UnknownName, find_department, find_person
from tracker.db import utcnow
from tracker.errors import JunhengError

log = logging.getLogger("tracker.accounts")

# argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile); tests swap in a cheaper one
HASHER = PasswordHasher()

FREE_FAILURES = 5  # wrong passwords in a row before logging in is slowed down
LOCK_BASE_SECONDS = 30
LOCK_MAX_SECONDS = 15 * 60
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
    """A new password; it also ends the user's API tokens, lock and failure count."""
    check_password_strength(password)
    user.password_hash = hash_password(password)
    user.failed_count = 0
    user.locked_until = None
    session.add(user)
    revoke_tokens(session, user)
    session.flush()


def set_active(session: Session, user: User, active: bool) -> None:
    user.active = active
    session.add(user)
    if not active:
        revoke_tokens(session, user)
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


def lock_seconds(failed_count: int) -> int:
    """How long the account stays locked after its ``failed_count``-th failure in a row."""
    if failed_count < FREE_FAILURES:
        return 0
    return min(LOCK_BASE_SECONDS * 2 ** (failed_count - FREE_FAILURES), LOCK_MAX_SECONDS)


def _throttled(until: dt.datetime, now: dt.datetime) -> LoginResult:
    seconds = max(1, int((until - now).total_seconds() + 0.999))
    wait = f"{seconds} 秒" if seconds < 120 else f"{(seconds + 59) // 60} 分钟"
    return LoginResult(None, f"登录失败次数过多，请 {wait}后再试", retry_after=seconds)


def authenticate(session: Session, username: str, password: str, *, now: dt.datetime | None = None) -> LoginResult:
    """Check a user name and password. The caller commits, whatever the outcome."""
    now = now or utcnow()
    user = find_user(session, username) if username and len(username) <= 64 else None
    if user is None:
        _burn_time(password)
        log.warning("登录失败：没有用户「%s」", (username or "")[:64])
        return LoginResult(None, WRONG_PASSWORD)
    if user.locked_until is not None and user.locked_until > now:
        log.warning("登录被暂缓：用户「%s」已连续失败 %d 次", user.username, user.failed_count)
        return _throttled(user.locked_until, now)
    try:
        HASHER.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError, VerificationError):
        # counted in the database, not on the object: several app processes may count at once
        session.execute(update(User).where(User.id == user.id)
                        .values(failed_count=User.failed_count + 1, last_failed_at=now))
        session.refresh(user)
        seconds = lock_seconds(user.failed_count)
        if seconds:
            user.locked_until = now + dt.timedelta(seconds=seconds)
            session.add(user)
            session.flush()
            log.warning("登录失败：用户「%s」连续失败 %d 次，暂停登录 %d 秒", user.username, user.failed_count, seconds)
            return _throttled(user.locked_until, now)
        log.warning("登录失败：用户「%s」密码错误（连续第 %d 次）", user.username, user.failed_count)
        return LoginResult(None, WRONG_PASSWORD)
    if not user.active:
        log.warning("登录被拒绝：用户「%s」已停用", user.username)
        return LoginResult(None, "该账号已停用，请联系领导小组办公室")
    if HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_count = 0
    user.locked_until = None
    user.last_login_at = now
    session.add(user)
    session.flush()
    return LoginResult(user)


# ---------------------------------------------------------------------------------------------
# API tokens


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(session: Session, user: User, *, now: dt.datetime | None = None,
                lifetime: dt.timedelta = TOKEN_LIFETIME) -> tuple[str, ApiToken]:
    """A new bearer token for ``user``: the token itself (shown once) and its stored row."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=_token_hash(token), created_at=now, expires_at=now + lifetime)
    session.add(row)
    session.flush()
    return token, row


def verify_token(session: Session, token: str, *, now: dt.datetime | None = None) -> User | None:
    """The active user a bearer token belongs to, or None (unknown, expired, user disabled)."""
    if not token or len(token) > 128:
        return None
    now = now or utcnow()
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _token_hash(token))).first()
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return user


def revoke_token(session: Session, token: str) -> bool:
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == _token_hash(token))).first()
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def revoke_tokens(session: Session, user: User) -> None:
    for row in session.exec(select(ApiToken).where(ApiToken.user_id == user.id)):
        session.delete(row)


def purge_expired_tokens(session: Session, now: dt.datetime | None = None) -> int:
    """Delete the API tokens that have expired (one statement); returns how many. The scheduler
    runs it daily: an expired token is refused anyway, but its row would stay for ever."""
    result = session.execute(sa_delete(ApiToken).where(ApiToken.expires_at <= (now or utcnow())))
    return result.rowcount or 0


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
