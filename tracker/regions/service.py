"""Regions: the regions file (省、市、各县的创建工作), finding a region, and the campaigns inside it.

The file (read through ``tracker.yamlfile``, bounded)::

    省: {编号: shandong, 名称: 山东省}      # optional: a province above the cities
    市:
      - 编号: weifang
        名称: 潍坊市
        县: [昌乐县2027, 临朐县2027]     # campaign codes (创建工作编号); one city per campaign

Importing it is all or nothing: every problem is listed with its line, and nothing changes
when there is one. Importing again moves a campaign to the city the file names now; cities and
counties not in the file stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import or_
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from tracker.errors import ErrorDetail, ErrorKind, JunhengError
from tracker.org.models import Campaign
from tracker.regions.models import LEVEL_NAMES, Region, RegionCounty, RegionLevel
from tracker.yamlfile import YamlError, read_text, read_yaml

CODE_PATTERN = r"^[^\x00-\x1f\x7f/\s]{1,64}$"
COUNTY_KIND = "county"  # Campaign.kind of a county's own campaign, the only kind a region holds


class RegionError(JunhengError, ValueError, kind=ErrorKind.invalid):
    """A regions file or a region command is wrong (Chinese message, problems as details)."""


class RegionNotFound(JunhengError, LookupError, kind=ErrorKind.not_found):
    pass


class RegionEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    code: str = Field(alias="编号", pattern=CODE_PATTERN)
    name: str = Field(alias="名称", min_length=1, max_length=64)


class CityEntry(RegionEntry):
    counties: list[str] = Field(default_factory=list, alias="县", max_length=1000)


class RegionsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    province: RegionEntry | None = Field(None, alias="省")
    cities: list[CityEntry] = Field(alias="市", min_length=1, max_length=1000)


@dataclass
class ImportResult:
    province: str | None
    cities: int
    counties: int
    moved: int  # campaigns that were in another city before


def _line(lines: dict, path: tuple) -> int | None:
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def _problem(lines: dict, path: tuple, message: str) -> ErrorDetail:
    where = ".".join(str(p) for p in path)
    line = _line(lines, path)
    text = f"第 {line} 行 {where}：{message}" if line and where else (f"{where}：{message}" if where else message)
    return ErrorDetail(text, row=line, location=where or None)


def parse_regions(text: str) -> tuple[RegionsFile, dict]:
    try:
        document = read_yaml(text, dates=False)
    except YamlError as exc:
        where = f"第 {exc.line} 行：" if exc.line else ""
        raise RegionError(f"地区文件{where}YAML 格式错误（{exc.message}）") from None
    lines = document.lines
    problems = [_problem(lines, path, f"键重复（第一次在第 {first} 行）") for path, _, first in document.duplicates]
    if not isinstance(document.data, dict):
        raise RegionError("地区文件应为“键: 值”的映射，以 市（及可选的 省）开头")
    try:
        parsed = RegionsFile.model_validate(document.data)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(_problem(lines, tuple(error["loc"]), _chinese(error)))
        parsed = None
    if parsed is not None:
        seen_codes: dict[str, tuple] = {}
        seen_counties: dict[str, int] = {}
        entries = ([(("省",), parsed.province)] if parsed.province else []) + \
            [(("市", i), city) for i, city in enumerate(parsed.cities)]
        for path, entry in entries:
            if entry.code in seen_codes:
                problems.append(_problem(lines, path + ("编号",), f"编号「{entry.code}」重复"))
            seen_codes[entry.code] = path
        for i, city in enumerate(parsed.cities):
            for j, code in enumerate(city.counties):
                if code in seen_counties:
                    problems.append(_problem(lines, ("市", i, "县", j),
                                             f"创建工作「{code}」已列在第 {seen_counties[code] + 1} 个市下，一个县只能属于一个市"))
                seen_counties.setdefault(code, i)
    if problems:
        raise RegionError(f"地区文件有 {len(problems)} 处问题", details=problems,
                          summary=f"地区文件有 {len(problems)} 处问题")
    return parsed, lines


def _chinese(error: dict) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "缺少此项"
    if kind == "extra_forbidden":
        return "不认识的键（可用：省、市、编号、名称、县）"
    if kind == "string_pattern_mismatch":
        return "编号只能是 1–64 个不含空格和“/”的字符"
    if kind in ("list_type", "dict_type", "model_type"):
        return "格式不对：" + ("应为列表" if kind == "list_type" else "应为“键: 值”的映射")
    if kind == "string_type":
        return "应为文字"
    if kind.startswith("too_") or kind.startswith("string_too"):
        return "长度不合要求"
    return "值不合要求"


def import_regions(session: Session, path: str | Path) -> ImportResult:
    """Read a regions file and store it (all or nothing; the caller commits)."""
    try:
        text = read_text(path)
    except FileNotFoundError:
        raise RegionError(f"找不到地区文件：{path}") from None
    except UnicodeDecodeError:
        raise RegionError("地区文件不是 UTF-8 编码的文本") from None
    except YamlError as exc:
        raise RegionError(f"地区文件{exc.message}") from None
    return apply_regions(session, text)


def apply_regions(session: Session, text: str) -> ImportResult:
    parsed, lines = parse_regions(text)
    codes = [c for city in parsed.cities for c in city.counties]
    found = session.exec(select(Campaign.code, Campaign.id, Campaign.name, Campaign.kind)
                         .where(Campaign.code.in_(codes))).all() if codes else []
    campaigns = {code: campaign_id for code, campaign_id, _, _ in found}
    # only a county's campaign belongs to a region; a programme (示范校, kind school-programme) runs beside one
    not_county = {code: name for code, _, name, kind in found if kind != COUNTY_KIND}
    problems = [_problem(lines, ("市", i, "县", j), f"没有编号为「{code}」的创建工作") if code not in campaigns
                else _problem(lines, ("市", i, "县", j),
                              f"「{code}」（{not_county[code]}）是学校项目（如示范校），不是县的创建工作；地区只收县的创建工作")
                for i, city in enumerate(parsed.cities) for j, code in enumerate(city.counties)
                if code not in campaigns or code in not_county]
    existing = {r.code: r for r in session.exec(select(Region).where(
        Region.code.in_([c.code for c in parsed.cities] + ([parsed.province.code] if parsed.province else []))))}
    for i, city in enumerate(parsed.cities):
        found = existing.get(city.code)
        if found is not None and RegionLevel(found.level) is not RegionLevel.city:
            problems.append(_problem(lines, ("市", i, "编号"), f"编号「{city.code}」已是一个省的编号"))
    if parsed.province and parsed.province.code in existing \
            and RegionLevel(existing[parsed.province.code].level) is not RegionLevel.province:
        problems.append(_problem(lines, ("省", "编号"), f"编号「{parsed.province.code}」已是一个市的编号"))
    if problems:
        raise RegionError(f"地区文件有 {len(problems)} 处问题", details=problems,
                          summary=f"地区文件有 {len(problems)} 处问题")

    province = None
    if parsed.province:
        province = existing.get(parsed.province.code) or Region(code=parsed.province.code, name=parsed.province.name,
                                                                level=RegionLevel.province)
        province.name = parsed.province.name
        session.add(province)
        session.flush()
    moved = 0
    memberships = {m.campaign_id: m for m in session.exec(
        select(RegionCounty).where(RegionCounty.campaign_id.in_(list(campaigns.values()))))} if campaigns else {}
    for city in parsed.cities:
        row = existing.get(city.code) or Region(code=city.code, name=city.name, level=RegionLevel.city)
        row.name = city.name
        if province is not None:
            row.parent_id = province.id
        session.add(row)
        session.flush()
        for code in city.counties:
            member = memberships.get(campaigns[code])
            if member is None:
                session.add(RegionCounty(campaign_id=campaigns[code], region_id=row.id))
            elif member.region_id != row.id:
                member.region_id = row.id
                session.add(member)
                moved += 1
    session.flush()
    return ImportResult(province=parsed.province.name if parsed.province else None, cities=len(parsed.cities),
                        counties=len(codes), moved=moved)


def region_by_code(session: Session, code: str) -> Region:
    region = session.exec(select(Region).where(Region.code == code)).first()
    if region is None:
        raise RegionNotFound(f"没有编号为「{code}」的地区（市或省）；请先用 junheng region import 导入地区文件")
    return region


def resolve_region(session: Session, code: str | None) -> Region:
    """The region of ``--region``; without it, the only province, else the only city."""
    if code:
        return region_by_code(session, code)
    regions = list(session.exec(select(Region).order_by(Region.id)))
    provinces = [r for r in regions if RegionLevel(r.level) is RegionLevel.province]
    if len(provinces) == 1:
        return provinces[0]
    if not provinces and len(regions) == 1:
        return regions[0]
    if not regions:
        raise RegionNotFound("还没有地区；请先用 junheng region import 导入地区文件")
    names = "、".join(f"{r.code}（{r.name}）" for r in regions[:10])
    raise RegionError(f"有多个地区：{names}……请用 --region 指定其中一个")


def region_label(region: Region) -> str:
    return f"{region.name}（{LEVEL_NAMES[RegionLevel(region.level)]}）"


def region_campaign_ids(region_id: int):
    """A statement of the ids of the campaigns inside the region: a city's counties, or the
    counties of a province's cities (rides along in another query as ``IN (…)``)."""
    cities = select(Region.id).where(or_(Region.id == region_id, Region.parent_id == region_id))
    return select(RegionCounty.campaign_id).where(RegionCounty.region_id.in_(cities))


def in_region(session: Session, region_id: int, campaign_id: int) -> bool:
    return session.exec(region_campaign_ids(region_id).where(RegionCounty.campaign_id == campaign_id)).first() \
        is not None


def region_campaigns(session: Session, region_id: int) -> list[Campaign]:
    """The region's campaigns, by county name (without their plans' JSON)."""
    return list(session.exec(select(Campaign).options(defer(Campaign.plan))
                             .where(Campaign.id.in_(region_campaign_ids(region_id)))
                             .order_by(Campaign.county, Campaign.code)))


def city_names(session: Session, campaign_ids: list[int]) -> dict[int, str]:
    """Each campaign's city name."""
    if not campaign_ids:
        return {}
    rows = session.exec(select(RegionCounty.campaign_id, Region.name).join(Region, Region.id == RegionCounty.region_id)
                        .where(RegionCounty.campaign_id.in_(campaign_ids)))
    return dict(rows.all())


def region_tree(session: Session) -> list[tuple[Region, list[tuple[str, str]]]]:
    """Every region (provinces first) with its own counties' (campaign code, county name)."""
    regions = list(session.exec(select(Region).order_by(Region.level.desc(), Region.code)))
    rows = session.exec(select(RegionCounty.region_id, Campaign.code, Campaign.county)
                        .join(Campaign, Campaign.id == RegionCounty.campaign_id)
                        .order_by(Campaign.county, Campaign.code)).all()
    counties: dict[int, list[tuple[str, str]]] = {}
    for region_id, code, county in rows:
        counties.setdefault(region_id, []).append((code, county))
    return [(r, counties.get(r.id, [])) for r in regions]
