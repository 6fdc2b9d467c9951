"""Write examples/schools.xlsx (the school sheet of the fictional 青川县, examples/plan.yaml)
and examples/findings.xlsx (a sample 市级复评 findings sheet for `junheng review findings`).

    uv run python examples/make_schools.py [OUT_DIR]

Deterministic: the same seed gives the same file, byte for byte (fixed zip timestamps and
document properties), so the committed sheet can be regenerated and compared.

40 schools in the plan's five townships: 23 小学, 6 初中, 3 九年一贯制, 1 十二年一贯制,
1 完全中学, 5 教学点 (three under 50 pupils, left out of the assessment) and 1 特殊教育学校.
Most schools sit comfortably above the national thresholds; these shortfalls are built in,
so the self-check has realistic work to hand out:

- indicator 3 (体育艺术专任教师): three small village schools with no PE/art specialist, and
  桃源乡中学 one short;
- indicator 5 (生均体育运动场馆面积): crowded town-centre schools (城关镇第一小学, 城关镇东街小学,
  青川县第一初级中学, 柳河镇中心小学, 青川县实验学校);
- indicator 6 (生均教学仪器设备值): five rural schools well below 2000/2500 元, and the junior
  stage's difference coefficient over 0.45 because 青川县第一初级中学 was newly equipped far
  above everyone else;
- indicator 10 (音乐、美术专用教室): 城关镇第二小学 has one art room for 36 classes, and
  石桥镇中心小学's music room is below even the 2019 allowance for old buildings;
- indicator 12 (班额): 城关镇第一小学 has a class of 56 pupils.

Every school's 联系人 and 联系邮箱 are its 学校联系人 in examples/plan.yaml, so the sheet and the
plan name the same person (addresses at the reserved .example domain, never delivered).
"""

from __future__ import annotations

import io
import math
import random
import sys
import zipfile
from pathlib import Path

import yaml
from openpyxl import Workbook
from openpyxl.styles import Font

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracker.schooldata.columns import COLUMNS  # noqa: E402

SEED = 2027
OUT = Path(__file__).resolve().parent / "schools.xlsx"
PLAN = Path(__file__).resolve().parent / "plan.yaml"
HEADERS = [c.header for c in COLUMNS]

# Thresholds of the national standard (教督〔2017〕6号), per stage: qualified, backbone and
# PE/art teachers per 100 pupils; m² teaching rooms, m² sports ground, 元 equipment and
# multimedia rooms per 100 pupils. Senior sections get the junior figures × 1.1.
THRESHOLDS = {
    "primary": {"qualified": 4.2, "backbone": 1.0, "pe_art": 0.9, "teaching": 4.5, "sports": 7.5,
                "equipment": 2000, "rooms": 2.3},
    "junior": {"qualified": 5.3, "backbone": 1.0, "pe_art": 0.9, "teaching": 5.8, "sports": 10.2,
               "equipment": 2500, "rooms": 2.4},
}
THRESHOLDS["senior"] = {k: v * 1.1 for k, v in THRESHOLDS["junior"].items()}
CLASS_SIZE = {"primary": 40, "junior": 45, "senior": 48}  # typical pupils per class
STAGE_NAMES = {"primary": "小学", "junior": "初中", "senior": "高中"}

# name, type, township, 城乡类别, pupils per stage
SCHOOLS: list[tuple[str, str, str, str, dict[str, int]]] = [
    # 城关镇 (the county town)
    ("青川县实验小学", "小学", "城关镇", "城区", {"primary": 1880}),
    ("城关镇第一小学", "小学", "城关镇", "城区", {"primary": 1650}),
    ("城关镇第二小学", "小学", "城关镇", "城区", {"primary": 1420}),
    ("城关镇第三小学", "小学", "城关镇", "城区", {"primary": 980}),
    ("青川县城南小学", "小学", "城关镇", "城区", {"primary": 1210}),
    ("城关镇东街小学", "小学", "城关镇", "城区", {"primary": 1100}),
    ("城关镇北城小学", "小学", "城关镇", "城区", {"primary": 860}),
    ("城关镇南关小学", "小学", "城关镇", "城区", {"primary": 720}),
    ("青川县第一初级中学", "初中", "城关镇", "城区", {"junior": 1500}),
    ("青川县第二初级中学", "初中", "城关镇", "城区", {"junior": 1120}),
    ("青川县城关初级中学", "初中", "城关镇", "城区", {"junior": 860}),
    ("青川县实验学校", "九年一贯制", "城关镇", "城区", {"primary": 900, "junior": 700}),
    ("青川县育才学校", "十二年一贯制", "城关镇", "城区", {"primary": 700, "junior": 500, "senior": 620}),
    ("青川县第二中学", "完全中学", "城关镇", "城区", {"junior": 600, "senior": 1240}),
    ("青川县特殊教育学校", "特殊教育学校", "城关镇", "城区", {"primary": 42, "junior": 26}),
    # 柳河镇
    ("柳河镇中心小学", "小学", "柳河镇", "镇区", {"primary": 820}),
    ("柳河镇河西小学", "小学", "柳河镇", "乡村", {"primary": 260}),
    ("柳河镇杨家坪小学", "小学", "柳河镇", "乡村", {"primary": 140}),
    ("柳河镇新民小学", "小学", "柳河镇", "乡村", {"primary": 350}),
    ("柳河镇长滩小学", "小学", "柳河镇", "乡村", {"primary": 200}),
    ("柳河镇中学", "初中", "柳河镇", "镇区", {"junior": 650}),
    ("柳河镇大湾教学点", "教学点", "柳河镇", "乡村", {"primary": 38}),
    # 石桥镇
    ("石桥镇中心小学", "小学", "石桥镇", "镇区", {"primary": 760}),
    ("石桥镇红岩小学", "小学", "石桥镇", "乡村", {"primary": 300}),
    ("石桥镇回龙小学", "小学", "石桥镇", "乡村", {"primary": 180}),
    ("石桥镇金桥小学", "小学", "石桥镇", "乡村", {"primary": 240}),
    ("石桥镇柏林小学", "小学", "石桥镇", "乡村", {"primary": 150}),
    ("石桥镇中学", "初中", "石桥镇", "镇区", {"junior": 580}),
    ("石桥镇双河学校", "九年一贯制", "石桥镇", "乡村", {"primary": 420, "junior": 260}),
    ("石桥镇龙潭教学点", "教学点", "石桥镇", "乡村", {"primary": 27}),
    # 桃源乡
    ("桃源乡中心小学", "小学", "桃源乡", "镇区", {"primary": 420}),
    ("桃源乡桃花小学", "小学", "桃源乡", "乡村", {"primary": 160}),
    ("桃源乡梨园小学", "小学", "桃源乡", "乡村", {"primary": 110}),
    ("桃源乡中学", "初中", "桃源乡", "镇区", {"junior": 300}),
    ("桃源乡青林教学点", "教学点", "桃源乡", "乡村", {"primary": 56}),
    ("桃源乡石门教学点", "教学点", "桃源乡", "乡村", {"primary": 19}),
    # 云岭乡
    ("云岭乡中心学校", "九年一贯制", "云岭乡", "镇区", {"primary": 360, "junior": 210}),
    ("云岭乡白岩小学", "小学", "云岭乡", "乡村", {"primary": 130}),
    ("云岭乡高山小学", "小学", "云岭乡", "乡村", {"primary": 95}),
    ("云岭乡松坪教学点", "教学点", "云岭乡", "乡村", {"primary": 64}),
]

# Built-in shortfalls: school → {quantity: share of the threshold it reaches}
SHORT: dict[str, dict[str, float]] = {
    "柳河镇杨家坪小学": {"pe_art": 0.0},
    "石桥镇回龙小学": {"pe_art": 0.0},
    "云岭乡高山小学": {"pe_art": 0.0},
    "城关镇第一小学": {"sports": 0.55},
    "城关镇东街小学": {"sports": 0.7},
    "青川县第一初级中学": {"sports": 0.8},
    "柳河镇中心小学": {"sports": 0.85},
    "青川县实验学校": {"sports": 0.75},
    "柳河镇河西小学": {"equipment": 0.62},
    "石桥镇红岩小学": {"equipment": 0.7},
    "桃源乡桃花小学": {"equipment": 0.66},
    "云岭乡白岩小学": {"equipment": 0.75},
    "石桥镇中学": {"equipment": 0.8},
}
EQUIPMENT_OUTLIER = ("青川县第一初级中学", 3.6)  # × the junior threshold: pushes the junior CV over 0.45
PE_ART_COUNT = {"桃源乡中学": 2}  # 2 for 300 pupils = 0.67 per 100 (< 0.9)
OVERSIZED_CLASS = ("城关镇第一小学", 56)


def school_row(rng: random.Random, i: int, name: str, school_type: str, township: str, area: str,
               pupils: dict[str, int]) -> dict[str, object]:
    row: dict[str, object] = {h: None for h in HEADERS}
    row.update({"学校名称": name, "学校类型": school_type, "学校标识码": f"9999{i + 1:06d}",
                "所在乡镇": township, "城乡类别": area, "办学性质": "公办"})
    short = SHORT.get(name, {})

    def factor(quantity: str) -> float:
        return short.get(quantity, rng.uniform(1.12, 1.5))

    totals = {"teaching": 0.0, "sports": 0.0, "equipment": 0.0, "rooms": 0.0}
    classes_total = 0
    for stage, count in pupils.items():
        t = THRESHOLDS[stage]
        label = STAGE_NAMES[stage]
        row[f"{label}在校生数"] = count
        for quantity, stage_total in totals.items():
            share = factor(quantity)
            if (name, stage) == (EQUIPMENT_OUTLIER[0], "junior") and quantity == "equipment":
                share = EQUIPMENT_OUTLIER[1]
            totals[quantity] = stage_total + t[quantity] * share * count
        classes = max(1, math.ceil(count / CLASS_SIZE[stage]))
        classes_total += classes
        if stage == "senior":
            continue
        row[f"{label}高于规定学历教师数"] = max(1, math.ceil(t["qualified"] * factor("qualified") * count / 100))
        row[f"{label}县级以上骨干教师数"] = max(1, math.ceil(t["backbone"] * factor("backbone") * count / 100))
        pe_art = math.ceil(t["pe_art"] * factor("pe_art") * count / 100)
        row[f"{label}体育艺术专任教师数"] = PE_ART_COUNT.get(name, pe_art)
        row[f"{label}班级数"] = classes
        biggest = min(count, math.ceil(count / classes) + rng.randint(0, 3))
        row[f"{label}最大班额"] = min(biggest, 45 if stage == "primary" else 50)
    if name == OVERSIZED_CLASS[0]:
        row["小学最大班额"] = OVERSIZED_CLASS[1]

    indoor = round(sum(pupils.values()) * rng.uniform(0.2, 0.5), 1) if sum(pupils.values()) > 300 else 0.0
    row["教学及辅助用房面积"] = round(totals["teaching"] + indoor, 1)
    row["室内体育用房面积"] = indoor
    row["体育运动场馆面积"] = round(max(totals["sports"] - indoor, 0.0), 1)
    row["教学仪器设备值（万元）"] = round(totals["equipment"] / 10_000, 2)
    row["网络多媒体教室数"] = max(1, math.ceil(totals["rooms"] / 100))

    rooms = max(1, math.ceil(classes_total / 12))
    row["音乐专用教室数"] = rooms
    row["音乐专用教室最小面积"] = round(rng.uniform(96, 118), 1)
    row["美术专用教室数"] = rooms
    row["美术专用教室最小面积"] = round(rng.uniform(90, 110), 1)
    if name == "城关镇第二小学":
        row["美术专用教室数"] = 1
    if name == "石桥镇中心小学":
        row["音乐专用教室最小面积"] = 62.0  # below 96, and below the 73 m² allowance for old buildings

    row["建校年份"] = rng.randint(1978, 2019)
    row["随迁子女占比"] = round(rng.uniform(0.08, 0.3) if area == "城区" else rng.uniform(0.0, 0.06), 2)
    total = sum(v for k, v in pupils.items() if k != "senior")
    row["是否农村小规模学校"] = "是" if area == "乡村" and total < 100 else "否"
    if school_type in ("小学", "九年一贯制") and area != "城区" and rng.random() < 0.35:
        row["附设幼儿班人数"] = rng.randint(12, 40)
    return row


def school_contacts(plan: Path = PLAN) -> dict[str, tuple[str, str]]:
    """school name → (姓名, 邮箱) of the plan's 学校联系人."""
    data = yaml.safe_load(plan.read_text(encoding="utf-8"))
    return {school: (entry["姓名"], entry["邮箱"]) for school, entry in data["学校联系人"].items()}


def make_rows(seed: int = SEED) -> list[dict[str, object]]:
    rng = random.Random(seed)
    rows = [school_row(rng, i, *school) for i, school in enumerate(SCHOOLS)]
    contacts = school_contacts()
    missing = [row["学校名称"] for row in rows if row["学校名称"] not in contacts]
    if missing:
        raise SystemExit(f"{PLAN.name} 的「学校联系人」缺少这些学校：{'、'.join(map(str, missing))}")
    for row in rows:
        row["联系人"], row["联系邮箱"] = contacts[str(row["学校名称"])]
    return rows


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "学校"
    ws.append(HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([row[h] for h in HEADERS])
    ws.freeze_panes = "C2"
    ws.column_dimensions["A"].width = 22
    fixed = __import__("datetime").datetime(2026, 11, 20, 9, 0, 0)
    wb.properties.creator = "junheng examples/make_schools.py"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    buffer = io.BytesIO()
    wb.save(buffer)
    _write_reproducible_zip(buffer.getvalue(), path, fixed)
    return path


def _write_reproducible_zip(data: bytes, path: Path, when) -> None:  # noqa: ANN001
    """Re-pack the xlsx with fixed member timestamps (openpyxl stamps the time of saving)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl writes "modified" as now
                content = _fixed_modified(content, when)
            member = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(member, content)
    path.write_bytes(out.getvalue())


def _fixed_modified(content: bytes, when) -> bytes:  # noqa: ANN001
    import re

    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    return re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>", content)


# A 市级复评's 反馈问题, shaped as reviewers send them: 序号, 问题, 指标, 责任单位 (the first
# leads; a school may lead its own finding), 整改时限.
FINDINGS_HEADERS = ["序号", "问题", "指标", "责任单位", "整改时限"]
FINDINGS: list[tuple[int, str, str, str, str]] = [
    (1, "城关镇第一小学生均体育运动场馆面积不足，课间活动场地拥挤", "5", "计财股、城关镇", "2027-08-31"),
    (2, "初中生均教学仪器设备值差异系数为 0.576，超过 0.45，县第一初级中学与乡镇初中差距过大",
     "6", "计财股、财政局", "2027-06-30"),
    (3, "部分村小无体育、艺术专任教师，由其他学科教师兼课", "3", "人事股、编办、人社局", "2027-08-31"),
    (4, "石桥镇中心小学音乐专用教室单间面积不足", "10", "石桥镇中心小学、计财股", "2027-07-30"),
    (5, "城关镇第一小学存在 56 人大班额", "12", "基教股、城关镇", "2027-08-31"),
    (6, "学校章程修订未经教职工代表大会审议，部分学校未按章程公开校务", "25", "督导室", "2027-06-30"),
    (7, "留守儿童关爱台账不完整，部分乡镇未建立结对帮扶记录", "22", "基教股、妇联、柳河镇、石桥镇", "2027-06-30"),
    (8, "创建资料汇编不规范，佐证材料与评估指标对应不清", "", "督导室", "2027-06-15"),
]


def write_findings(path: Path) -> Path:
    import datetime as dt

    wb = Workbook()
    ws = wb.active
    ws.title = "反馈问题"
    ws.append(FINDINGS_HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for seq, text, indicator, units, due in FINDINGS:
        ws.append([seq, text, indicator or None, units, dt.date.fromisoformat(due)])
        ws.cell(ws.max_row, 5).number_format = "yyyy-mm-dd"
    ws.column_dimensions["B"].width = 60
    ws.column_dimensions["D"].width = 28
    ws.column_dimensions["E"].width = 12
    fixed = dt.datetime(2027, 5, 20, 9, 0, 0)
    wb.properties.creator = "junheng examples/make_schools.py"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    buffer = io.BytesIO()
    wb.save(buffer)
    _write_reproducible_zip(buffer.getvalue(), path, fixed)
    return path


def main(argv: list[str]) -> None:
    out_dir = Path(argv[1]) if len(argv) > 1 else OUT.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = make_rows()
    write(out_dir / "schools.xlsx", rows)
    write_findings(out_dir / "findings.xlsx")
    print(f"已写入 {out_dir / 'schools.xlsx'}：{len(rows)} 所学校；{out_dir / 'findings.xlsx'}：{len(FINDINGS)} 条反馈问题")


if __name__ == "__main__":
    main(sys.argv)
