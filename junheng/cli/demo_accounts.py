"""`junheng demo` step 10, the demo accounts (office, department, school, reviewer) with fresh
one-time passwords."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from junheng.cli.demo import console, fail


# (username, role, what the account is bound to); the department and the school are picked from the
# example plan and data: 计财股 carries the most tasks, and its contact 孙悦 receives its notices
DEMO_ACCOUNTS = (
    ("office", "office", {"person": "韩静"}),
    ("jicai", "department", {"department": "计财股", "person": "孙悦"}),
    ("school", "school", {}),  # the school with the most tasks of its own (一校一案)
    ("reviewer", "reviewer", {"name": "市级评估组"}),
)


def demo_accounts(code: str) -> list[dict]:
    """Create the demo users where missing and give every one a new one-time password.

    A username already taken by another campaign in the same database is left alone (said in
    yellow): the demo never takes over someone else's account."""
    from tracker.accounts.models import ROLE_NAMES, UserRole
    from tracker.accounts.service import (
        AccountError,
        create_user,
        find_user,
        generate_password,
        set_password,
    )
    from tracker.db import session_scope
    from tracker.org.models import Department, School
    from tracker.org.queries import office_department
    from tracker.org.service import UnknownName, resolve_campaign

    rows = []
    with session_scope() as session:
        campaign = resolve_campaign(session, code)
        for username, role, binding in DEMO_ACCOUNTS:
            password = generate_password()
            user = find_user(session, username)
            if user is not None and user.campaign_id != campaign.id:
                console.print(f"[yellow]注意：用户名「{username}」已被另一个创建工作使用，演示不改动它。[/yellow]")
                continue
            if user is None:
                data = {"username": username, "role": role, "password": password, **binding}
                if role == "school":
                    school = _school_with_most_tasks(session, campaign)
                    if school is None:
                        console.print("[yellow]注意：没有学校承担任务，未建立学校账号。[/yellow]")
                        continue
                    data["school"], data["name"] = school.key, school.name
                try:
                    user = create_user(session, campaign, data)
                except (AccountError, UnknownName) as exc:
                    fail(f"无法建立演示账号「{username}」：{exc.message}")
            else:
                set_password(session, user, password)
                if not user.active:
                    user.active = True
                    session.add(user)
            unit = ""
            if user.department_id is not None:
                unit = session.get(Department, user.department_id).name
            elif user.school_id is not None:
                unit = session.get(School, user.school_id).name
            elif UserRole(user.role) is UserRole.office:
                office = office_department(session, campaign.id)
                unit = (office.short_name or office.name) if office else ""
            rows.append({"username": username, "role": ROLE_NAMES[UserRole(user.role)], "name": user.name,
                         "unit": unit or "—", "password": password})
    return rows


def _school_with_most_tasks(session, campaign):
    from tracker.tasks.queries import school_with_most_tasks

    return school_with_most_tasks(session, campaign.id)


def print_accounts(rows: list[dict]) -> None:
    table = Table(title="演示账号（一次性密码，仅本次有效）")
    table.add_column("用户名", no_wrap=True)
    table.add_column("角色", no_wrap=True)
    table.add_column("单位")
    table.add_column("密码", no_wrap=True)
    for row in rows:
        who = row["unit"] if row["name"] in (row["unit"], row["username"]) else f"{row['unit']}（{row['name']}）"
        table.add_row(escape(row["username"]), row["role"], escape(who), row["password"])
    console.print(table)
    console.print("这些密码每次运行演示都会重新生成，上一次的随即失效；请勿在正式环境使用演示账号。")
