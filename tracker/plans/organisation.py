"""Resolving who runs the campaign: the header (编号, 名称, 县, 标准), the leading group
(领导小组), the responsible units (责任单位), the office (办公室), the people of all of them
merged by name, and the school contacts (学校联系人). One function per section, in file order;
each adds its problems to the resolution's checker.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from tracker.plans.checker import PYDANTIC_MESSAGES, TOP_KEYS, KeyPath, path_text, suggest, top, top_list
from tracker.plans.fields import NAME_MAX, TOWNSHIPS_PLACEHOLDER, mobile_of, str_list, text_of
from tracker.plans.kinds import UnitKind
from tracker.plans.resolved import PlanDepartment, PlanPerson
from tracker.plans.sections import DepartmentEntry, GroupMember, LeadingGroup, Office, PersonEntry, PlanHeader
from tracker.plans.state import Resolution


def top_keys(r: Resolution) -> None:
    allowed = set(TOP_KEYS) | set(TOP_KEYS.values())
    for key in r.data:
        if key not in allowed:
            r.checker.problem((key,), f"不认识的键「{path_text((key,))}」{suggest(key, TOP_KEYS)}")


def header(r: Resolution) -> None:
    """编号, 名称, 县 and 标准; the standard is loaded here, as every later section needs it."""
    r.header = r.checker.validate(PlanHeader, {k: r.data[k] for k in ("编号", "名称", "县", "标准", "code", "name",
                                                                     "county", "standard") if k in r.data}, ())
    if r.header is None:
        return
    from tracker.standards import StandardError, load_standard

    try:
        r.standard = load_standard(r.header.standard)
    except StandardError as exc:
        detail = "；".join(message for _, message in exc.problems)
        _, key = top(r.data, "标准")
        r.checker.problem((key,), f"未知的评估标准「{r.header.standard}」：{detail}")


def leading_group(r: Resolution) -> None:
    r.group_raw, r.group_key = top(r.data, "领导小组")
    raw = r.group_raw
    if raw is None:
        r.checker.problem((r.group_key,), "缺少「领导小组」（组长、副组长、成员）")
    elif not isinstance(raw, dict):
        r.checker.problem((r.group_key,), PYDANTIC_MESSAGES["dict_type"])
    else:
        r.group = r.checker.validate(LeadingGroup, raw, (r.group_key,))
    if isinstance(raw, dict):  # names even from invalid entries: no follow-on errors
        for key in ("组长", "leader"):
            if isinstance(raw.get(key), dict) and isinstance(raw[key].get("姓名"), str):
                r.group_names.add(raw[key]["姓名"].strip())
        for key in ("副组长", "成员", "deputies", "members"):
            items = raw.get(key)
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and isinstance(item.get("姓名", item.get("name")), str):
                    r.group_names.add(item.get("姓名", item.get("name")).strip())


def department_entries(r: Resolution) -> None:
    r.dept_raw, r.dept_key = top_list(r.checker, r.data, "责任单位")
    if not r.dept_raw and not isinstance(r.data.get(r.dept_key), (str, int, float, dict)):
        r.checker.problem((r.dept_key,), "「责任单位」至少要有一个单位")
    for i, raw in enumerate(r.dept_raw):
        entry = r.checker.validate(DepartmentEntry, raw, (r.dept_key, i))
        if entry is not None:
            r.departments.append((i, entry))


def office_entry(r: Resolution) -> None:
    r.office_raw, r.office_key = top(r.data, "办公室")
    if r.office_raw is None:
        r.checker.problem((r.office_key,), "缺少「办公室」（设在哪个单位、主任、工作人员）")
    else:
        r.office = r.checker.validate(Office, r.office_raw, (r.office_key,))


def unit_spellings(r: Resolution) -> None:
    """Unit spellings (name, short name, aliases) → full name; each spelling names one unit.
    Read from the raw entries, so a unit whose entry has other errors still counts: no
    follow-on "unknown unit" errors, and duplicates are found anyway."""
    checker = r.checker
    owner: dict[str, tuple[str, KeyPath]] = {}
    if isinstance(r.office_raw, dict):
        office_name = text_of(r.office_raw.get("名称", r.office_raw.get("name"))) or "领导小组办公室"
        office_short = text_of(r.office_raw.get("简称", r.office_raw.get("short_name"))) or (
            "办公室" if not any(k in r.office_raw for k in ("简称", "short_name")) else "")
        for key, spelling in (("名称", office_name), ("简称", office_short)):
            if spelling:
                owner.setdefault(spelling, (office_name, (r.office_key, key)))
    for i, raw in enumerate(r.dept_raw):
        if not isinstance(raw, dict):
            continue
        name = text_of(raw.get("名称", raw.get("name")))
        if not name:
            continue
        aliases = str_list(raw.get("别名", raw.get("aliases")))
        spellings = [("名称", name), ("简称", text_of(raw.get("简称", raw.get("short_name"))))]
        spellings += [("别名", text_of(a)) for a in (aliases if isinstance(aliases, list) else [])]
        for key, spelling in spellings:
            if not spelling:
                continue
            if spelling == TOWNSHIPS_PLACEHOLDER:
                checker.problem((r.dept_key, i, key), f"「{TOWNSHIPS_PLACEHOLDER}」是保留词（指学校所在乡镇），不能作单位名称")
            elif spelling in owner and (owner[spelling][0] != name or key == "名称"):
                checker.problem((r.dept_key, i, key), f"单位名称「{spelling}」重复"
                                                      f"（第 {checker.line_of(owner[spelling][1])} 行已用）")
            else:
                owner[spelling] = (name, (r.dept_key, i, key))
    r.lookup = {spelling: full for spelling, (full, _) in owner.items()}
    if r.office is not None:
        r.unit_list.append(PlanDepartment(name=r.office.name, short_name=r.office.short_name, kind=UnitKind.office,
                                          robot=r.office.robot))
    r.townships = [entry.name for _, entry in r.departments if entry.kind is UnitKind.township]


def group_members(r: Resolution) -> None:
    """Members one by one, so that one bad entry does not hide the others' unit references."""
    members: list[tuple[str, KeyPath, GroupMember]] = []
    raw = r.group_raw
    if isinstance(raw, dict):
        slots: list[tuple[str, KeyPath, Any]] = [("组长", (r.group_key, "组长"), raw.get("组长", raw.get("leader")))]
        for role, key, english in (("副组长", "副组长", "deputies"), ("成员", "成员", "members")):
            used = key if key in raw else english
            items = raw.get(used)
            slots += [(role, (r.group_key, used, j), item) for j, item in enumerate(items if isinstance(items, list) else [])]
        for role, member_path, item in slots:
            try:
                members.append((role, member_path, GroupMember.model_validate(item)))
            except ValidationError:
                continue  # already reported: the whole group was validated first
    seen_in_group: dict[str, str] = {}
    for role, member_path, member in members:
        if member.name in seen_in_group:
            r.checker.problem(member_path + ("姓名",), f"领导小组中「{member.name}」重复（已是{seen_in_group[member.name]}）")
            continue
        seen_in_group[member.name] = role
        dept_name = None
        if member.department:
            dept_name = r.unit(member.department, member_path + ("单位",), allow_townships=False)
        r.person(member, member_path, department=dept_name, strong=dept_name is not None, reference_ok=False,
                 needs_email=False, group_role=role)


def supervisors(r: Resolution) -> None:
    """分管领导 must be leading-group members; from the raw entries: checked even where the entry has other errors."""
    for i, raw in enumerate(r.dept_raw):
        supervisor = raw.get("分管领导", raw.get("supervisor")) if isinstance(raw, dict) else None
        if isinstance(supervisor, str) and supervisor.strip() and supervisor.strip() not in r.group_names:
            r.checker.problem((r.dept_key, i, "分管领导"), f"分管领导「{supervisor.strip()}」不是领导小组成员"
                                                          f"{suggest(supervisor.strip(), r.group_names)}")


def department_people(r: Resolution) -> None:
    """Each unit's head and contacts, and the unit as resolved."""
    for i, entry in r.departments:
        contacts: list[str] = []
        if entry.head is not None:
            r.person(entry.head, (r.dept_key, i, "负责人"), department=entry.name, strong=True, reference_ok=True,
                     needs_email=False, is_head=True)
        for j, contact in enumerate(entry.contacts):
            if contact.name in contacts:
                r.checker.problem((r.dept_key, i, "联系人", j, "姓名"), f"联系人「{contact.name}」重复")
                continue
            contacts.append(contact.name)
            r.person(contact, (r.dept_key, i, "联系人", j), department=entry.name, strong=True, reference_ok=True,
                     needs_email=True, is_contact=True)
        supervisor = entry.supervisor if entry.supervisor in r.group_names else None
        if not entry.supervisor:
            r.checker.warn((r.dept_key, i), f"单位「{entry.name}」未写分管领导：逾期督办单只发办公室")
        r.plan_departments.append(PlanDepartment(
            name=entry.name, short_name=entry.short_name, kind=entry.kind, aliases=entry.aliases,
            head_name=entry.head.name if entry.head else "", contacts=contacts, supervisor=supervisor,
            robot=entry.robot))


def office_people(r: Resolution) -> None:
    office, key = r.office, r.office_key
    if office is None:
        return
    located = r.unit(office.located_in, (key, "设在"), allow_townships=False)
    if located is not None and located == office.name:
        r.checker.problem((key, "设在"), "办公室须设在一个责任单位中（如 督导室）")
    people = ([("主任", office.director)] if office.director else []) + [(j, p) for j, p in enumerate(office.staff)]
    if not people:
        r.checker.problem((key,), "办公室至少要有主任或一名工作人员（他们销号、退回、接收督办单）")
    for where, entry in people:
        path = (key, "主任") if where == "主任" else (key, "工作人员", where)
        is_reference = not (entry.email or entry.title or entry.phone)
        if is_reference:
            r.pending_reference.append((entry.name, path))
        r.person(entry, path, department=office.name, strong=False, reference_ok=True, needs_email=True,
                 is_office=True, is_contact=False)
        if not is_reference and entry.name not in r.strong_dept:
            r.people[entry.name].is_contact = True
    r.unit_list[0].contacts = [p.name for _, p in people]
    if office.director:
        r.unit_list[0].head_name = office.director.name


def school_contacts(r: Resolution) -> None:
    """学校联系人 (一校一案): the schools themselves come later, with the data sheet."""
    raw_map, key = top(r.data, "学校联系人")
    if raw_map is not None and not isinstance(raw_map, dict):
        r.checker.problem((key,), "「学校联系人」应为 学校名称或学校标识码: {姓名: …, 职务: …, 邮箱: …} 的映射")
        raw_map = {}
    for school, raw in (raw_map or {}).items():
        school = text_of(school)
        entry = r.checker.validate(PersonEntry, raw, (key, school))
        if not school or entry is None:
            continue
        if len(school) > NAME_MAX:
            r.checker.problem((key, school), f"学校名称或标识码过长（{len(school)} 字），不能超过 {NAME_MAX} 字")
            continue
        if entry.name in r.strong_dept:
            r.checker.problem((key, school, "姓名"), f"「{entry.name}」已是「{r.strong_dept[entry.name]}」的人员；"
                                                    "学校联系人请写学校的人")
            continue
        r.person(entry, (key, school), department=None, strong=False, reference_ok=False,
                 needs_email=True, is_contact=True)
        r.school_contacts[school] = entry.name


def people_complete(r: Resolution) -> None:
    """Every person named only by 姓名 is defined somewhere, everyone who gets notices has an
    address: an e-mail, or a unit with a group robot (群机器人), where they are @-mentioned by their
    mobile number."""
    people = r.people
    robots = {d.name: d.robot for d in (*r.unit_list, *r.plan_departments) if d.robot}
    for name, path in r.pending_reference:
        if people[name].department is None and people[name].group_role is None and not people[name].email:
            r.checker.problem(path + ("姓名",), f"「{name}」未在方案其他处定义：请填写其职务和邮箱")
    reported: set[str] = set()
    for name, path in r.pending_email:
        if people[name].email or name in reported:
            continue
        reported.add(name)
        unit = people[name].department
        if unit in robots:
            if not mobile_of(people[name].phone):
                r.checker.warn(path, f"「{name}」没有邮箱，通知发到「{unit}」的群机器人「{robots[unit]}」；"
                                     "未写手机号（电话），群消息中无法 @ 此人")
            continue
        hint = "，或为其单位写「群机器人」" if unit is not None else ""
        r.checker.problem(path + ("邮箱",), f"「{name}」缺少邮箱（交办、催办通知发到这里{hint}）")

    for dept in r.plan_departments:
        if dept.head_name:
            dept.head_email = people[dept.head_name].email
            if not dept.head_email and not dept.robot:
                i = next(i for i, e in r.departments if e.name == dept.name)
                r.checker.warn((r.dept_key, i, "负责人"),
                               f"单位「{dept.name}」负责人「{dept.head_name}」没有邮箱：催办通知只发联系人")
        supervisor = people.get(dept.supervisor, PlanPerson(name="")) if dept.supervisor else None
        if supervisor is not None and not supervisor.email and supervisor.department not in robots:
            i = next(i for i, e in r.departments if e.name == dept.name)
            r.checker.warn((r.dept_key, i, "分管领导"), f"分管领导「{dept.supervisor}」没有邮箱：收不到督办单")
    if r.unit_list and r.unit_list[0].head_name:
        r.unit_list[0].head_email = people[r.unit_list[0].head_name].email
    r.unit_list.extend(r.plan_departments)


def group_robots(r: Resolution) -> None:
    """Each 群机器人 names a robot of JUNHENG_WEBHOOKS, when the caller knows them (``campaign
    init`` passes the configured names; reading a plan without settings checks nothing here —
    the sweep then reports a robot it cannot find)."""
    if r.robots is None:
        return
    named: list[tuple[KeyPath, str]] = []
    if r.office is not None and r.office.robot:
        named.append(((r.office_key, "群机器人"), r.office.robot))
    named += [((r.dept_key, i, "群机器人"), entry.robot) for i, entry in r.departments if entry.robot]
    for path, name in named:
        if name not in r.robots:
            known = "、".join(sorted(r.robots)) or "（未配置任何群机器人）"
            r.checker.problem(path, f"群机器人「{name}」未在 JUNHENG_WEBHOOKS 中配置{suggest(name, r.robots)}"
                                    f"（已配置：{known}）")
