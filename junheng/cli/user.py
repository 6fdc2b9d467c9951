"""`junheng user add|list|passwd|disable|enable`: the log-ins of the web application.

The password is read from standard input: at a terminal with a prompt that does not echo (asked
twice), otherwise one line from the pipe (``echo "$PW" | junheng user add …``) — never from the
command line, where it would stay in the shell history and the process list.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session

from tracker.accounts.models import ROLE_NAMES, User, UserRole
from tracker.accounts.throttle import failure_counts
from tracker.accounts.service import (
    AccountError,
    check_password_strength,
    create_user,
    find_user,
    list_users,
    set_active,
    set_password,
    validate_user_input,
)
from tracker.db import get_engine, migrate, session_scope
from tracker.org.models import Department, Person, School
from tracker.org.queries import campaign_codes
from tracker.org.service import resolve_campaign

user_app = typer.Typer(help="网页登录账号：新建、列出、改密码、停用", no_args_is_help=True)

ROLE_HELP = "角色：office（办公室）、department（责任单位）、school（学校）、reviewer（评估人员）"


def _fail(message: str) -> NoReturn:
    Console(stderr=True, soft_wrap=True, highlight=False).print(f"[red]错误：[/red]{escape(message)}")
    raise typer.Exit(2)


def read_password(confirm: bool = True) -> str:
    """The password from stdin: a no-echo prompt at a terminal, else one line of the pipe."""
    if sys.stdin is not None and sys.stdin.isatty():
        first = getpass.getpass("密码：")
        if confirm and getpass.getpass("再输入一次：") != first:
            _fail("两次输入的密码不一致")
        return first
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line:
        _fail("没有读到密码：请从标准输入提供，例如 echo \"$PASSWORD\" | junheng user add …")
    return line.rstrip("\r\n")


def _parse_role(text: str) -> UserRole:
    value = text.strip().lower()
    by_name = {name: role for role, name in ROLE_NAMES.items()}
    if text.strip() in by_name:
        return by_name[text.strip()]
    try:
        return UserRole(value)
    except ValueError:
        _fail(f"角色「{text}」无效；{ROLE_HELP}")


@user_app.command("add")
def add(
    username: Annotated[str, typer.Argument(help="登录用户名", show_default=False)],
    role: Annotated[str, typer.Option("--role", help=ROLE_HELP, show_default=False)],
    department: Annotated[str | None, typer.Option("--department", help="所属单位（责任单位用户必填）")] = None,
    school: Annotated[str | None, typer.Option("--school", help="所属学校：名称或学校标识码（学校用户必填）")] = None,
    person: Annotated[str | None, typer.Option("--person", help="对应方案中的人员（事件记录以其名义）")] = None,
    name: Annotated[str, typer.Option("--name", help="显示姓名；默认为人员姓名或用户名")] = "",
    campaign: Annotated[str | None, typer.Option("--campaign", help="创建工作编号（只有一个时可省略）")] = None,
) -> None:
    """新建登录账号。密码从标准输入读取（终端中不回显，需输入两次）。"""
    parsed_role = _parse_role(role)
    migrate()
    with session_scope(get_engine()) as session:
        found = resolve_campaign(session, campaign)
        password = read_password()
        data = validate_user_input({"username": username, "name": name, "role": parsed_role.value,
                                    "password": password, "department": department, "school": school,
                                    "person": person})
        user = create_user(session, found, data)
        summary = _describe(session, user)
        code = found.code
    Console(highlight=False, soft_wrap=True).print(f"已新建账号「{escape(username)}」：{escape(summary)}（创建工作 {escape(code)}）")


def _describe(session: Session, user: User) -> str:
    role = ROLE_NAMES[UserRole(user.role)]
    unit = ""
    if user.department_id is not None:
        dept = session.get(Department, user.department_id)
        unit = dept.name if dept else ""
    elif user.school_id is not None:
        school = session.get(School, user.school_id)
        unit = school.name if school else ""
    person = session.get(Person, user.person_id).name if user.person_id else ""
    parts = [role, user.name]
    if unit:
        parts.append(unit)
    if person and person != user.name:
        parts.append(f"人员 {person}")
    return "，".join(parts)


@user_app.command("list")
def list_command(
    campaign: Annotated[str | None, typer.Option("--campaign", help="只列出这个创建工作的账号")] = None,
) -> None:
    """列出登录账号。"""
    migrate()
    with Session(get_engine()) as session:
        found = resolve_campaign(session, campaign) if campaign else None
        users = list_users(session, found)
        codes = campaign_codes(session)
        rows = [(u, _describe(session, u), codes.get(u.campaign_id, "?")) for u in users]
        failures = failure_counts(session, [u.username for u in users])
    console = Console(highlight=False, soft_wrap=True)
    if not rows:
        console.print("还没有登录账号：用 junheng user add 新建。")
        return
    table = Table("用户名", "角色与单位", "创建工作", "状态", "最近登录")
    from tracker.clock import local_time

    for user, summary, code in rows:
        state = "启用" if user.active else "停用"
        if failures.get(user.username):
            state += f"（连续失败 {failures[user.username]} 次）"
        last = local_time(user.last_login_at).strftime("%Y-%m-%d %H:%M") if user.last_login_at else "—"
        table.add_row(escape(user.username), escape(summary), escape(code), state, last)
    console.print(table)


def _with_user(username: str, change) -> None:  # noqa: ANN001
    migrate()
    with session_scope(get_engine()) as session:
        user = find_user(session, username)
        if user is None:
            raise AccountError(f"没有用户名为「{username}」的账号")
        change(session, user)


@user_app.command("passwd")
def passwd(username: Annotated[str, typer.Argument(help="登录用户名", show_default=False)]) -> None:
    """修改密码（从标准输入读取），并使该账号已有的令牌和登录会话失效。"""
    password = read_password()
    check_password_strength(password)
    _with_user(username, lambda session, user: set_password(session, user, password))
    Console(highlight=False).print(f"已修改账号「{escape(username)}」的密码。")


@user_app.command("disable")
def disable(username: Annotated[str, typer.Argument(help="登录用户名", show_default=False)]) -> None:
    """停用账号（不能再登录，已有令牌和登录会话立即失效）。"""
    _with_user(username, lambda session, user: set_active(session, user, False))
    Console(highlight=False).print(f"已停用账号「{escape(username)}」。")


@user_app.command("enable")
def enable(username: Annotated[str, typer.Argument(help="登录用户名", show_default=False)]) -> None:
    """重新启用账号。"""
    _with_user(username, lambda session, user: set_active(session, user, True))
    Console(highlight=False).print(f"已启用账号「{escape(username)}」。")
