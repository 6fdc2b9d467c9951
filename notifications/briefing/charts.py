"""The briefing's charts, as PNG bytes: completion by department, and each indicator's difference
coefficient (CV) against its limit.

Matplotlib runs headless (Agg). Chinese labels need a CJK font: Noto Sans CJK (the Debian package
``fonts-noto-cjk``) or another one matplotlib can find; without one the charts are still drawn,
with a warning, and their Chinese labels show as empty boxes.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, no GUI toolkit

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from tracker.briefings.compute import BriefingData  # noqa: E402

log = logging.getLogger("junheng.briefing")

# in order of preference; the first one matplotlib knows is used
CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei", "PingFang SC", "Noto Sans CJK JP")
# where distributions put CJK fonts, in case matplotlib's font cache predates their installation
FONT_FILES = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")

LIGHT_COLOURS = {"绿": "#2e7d32", "黄": "#f9a825", "红": "#c62828", None: "#78909c"}
STAGE_COLOURS = {"primary": "#1565c0", "junior": "#6a1b9a"}
DPI = 130  # ~940 px across: sharp at the 15 cm the Word document prints it


class NoChineseFont(UserWarning):
    """No CJK font was found: Chinese text in the charts will not render."""


@lru_cache(maxsize=1)
def chinese_font() -> str | None:
    """The family name of a CJK font matplotlib can use, or None (with a warning)."""
    known = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in known:
            return name
    for path in FONT_FILES:
        if Path(path).exists():
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError):  # an unreadable font file: try the next one
                continue
            known = {f.name for f in font_manager.fontManager.ttflist}
            for name in CJK_FONTS:
                if name in known:
                    return name
    message = ("未找到中文字体（如 Noto Sans CJK，Debian/Ubuntu 可安装 fonts-noto-cjk），"
               "图表中的中文将无法正常显示")
    warnings.warn(message, NoChineseFont, stacklevel=2)
    log.warning(message)
    return None


def _style() -> dict:
    font = chinese_font()
    return {
        "font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"],
        "axes.unicode_minus": False,  # the minus sign of CJK fonts is missing from some of them
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    # no timestamps or software tags: the same figures give the same bytes
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


@dataclass(frozen=True)
class Chart:
    key: str  # completion | cv
    filename: str
    title: str
    png: bytes


def completion_chart(data: BriefingData) -> Chart | None:
    """完成率 per department (and the schools together), bars coloured by each unit's light. None
    when no unit has verified anything: a chart of empty bars compares nothing (the text says why,
    ``text.no_completion_chart``)."""
    from notifications.briefing.text import no_completion_chart

    if no_completion_chart(data) is not None:
        return None
    rows = [u for u in data.departments() if u.figures.assigned]
    schools = [u for u in data.schools() if u.figures.assigned]
    labels = [u.short_name for u in rows]
    rates = [100 * (u.figures.completion_rate or 0.0) for u in rows]
    colours = [LIGHT_COLOURS.get(u.light, LIGHT_COLOURS[None]) for u in rows]
    notes = [f"{u.figures.done}/{u.figures.assigned}" for u in rows]
    if schools:
        assigned = sum(u.figures.assigned for u in schools)
        done = sum(u.figures.done for u in schools)
        worst = "红" if any(u.light == "红" for u in schools) else "黄" if any(u.light == "黄" for u in schools) \
            else "绿"
        labels.append(f"各学校（{len(schools)}所）")
        rates.append(100 * done / assigned)
        colours.append(LIGHT_COLOURS[worst])
        notes.append(f"{done}/{assigned}")
    if not labels:
        return None
    with plt.rc_context(_style()):
        height = max(2.2, 0.38 * len(labels) + 1.0)
        fig, ax = plt.subplots(figsize=(7.2, height), layout="constrained")
        positions = list(range(len(labels)))[::-1]  # first row at the top
        ax.barh(positions, rates, color=colours, height=0.62)
        ax.set_yticks(positions, labels)
        ax.set_xlim(0, 112)
        ax.set_xticks([0, 20, 40, 60, 80, 100], ["0", "20%", "40%", "60%", "80%", "100%"])
        for y, rate, note in zip(positions, rates, notes, strict=True):
            ax.text(rate + 1.5, y, f"{rate:.0f}%（{note}）", va="center", fontsize=9)
        ax.set_title(f"各单位任务完成率（截至{data.as_of_date.month}月{data.as_of_date.day}日，"
                     "颜色为单位亮灯）", fontsize=11)
        ax.grid(axis="x", linestyle=":", alpha=0.5)
        return Chart("completion", "completion.png", "各单位任务完成率", _png(fig))


def cv_chart(data: BriefingData) -> Chart | None:
    """Each indicator's CV per stage against the stage's limit (None without an assessment)."""
    rows = [r for r in data.indicators if r.cv is not None]
    if not rows:
        return None
    codes = list(dict.fromkeys(r.code for r in rows))
    stages = list(dict.fromkeys(r.stage for r in rows))
    width = 0.8 / max(len(stages), 1)
    with plt.rc_context(_style()):
        fig, ax = plt.subplots(figsize=(7.2, 3.6), layout="constrained")
        for s_index, stage in enumerate(stages):
            xs, ys, limits, colours, name = [], [], [], [], stage
            for c_index, code in enumerate(codes):
                row = next((r for r in rows if r.code == code and r.stage == stage), None)
                if row is None:
                    continue
                name = row.stage_name
                x = c_index + (s_index - (len(stages) - 1) / 2) * width
                xs.append(x)
                ys.append(row.cv)
                limits.append(row.cv_limit)
                colours.append(STAGE_COLOURS.get(stage, "#455a64") if row.cv_ok is not False else "#c62828")
            ax.bar(xs, ys, width=width * 0.9, color=colours, label=name, edgecolor=STAGE_COLOURS.get(stage, "#455a64"))
            for x, limit in zip(xs, limits, strict=True):
                if limit is not None:
                    ax.hlines(limit, x - width / 2, x + width / 2, colors="#212121", linestyles="--", linewidth=1.2)
            for x, y in zip(xs, ys, strict=True):
                ax.text(x, y + 0.01, f"{y:.3f}", ha="center", va="bottom", fontsize=8)
        titles = {r.code: r.title for r in rows}
        ax.set_xticks(range(len(codes)), [_short(code, titles[code]) for code in codes], fontsize=9)
        ax.set_ylabel("差异系数")
        top = max([r.cv for r in rows] + [r.cv_limit or 0 for r in rows])
        ax.set_ylim(0, top * 1.25)
        ax.plot([], [], color="#212121", linestyle="--", label="标准上限（虚线）")
        ax.plot([], [], color="#c62828", linewidth=6, label="超过上限")
        ax.legend(fontsize=8, ncol=4, loc="upper right", frameon=False)
        limits = "，".join(f"{r.stage_name}≤{r.cv_limit:.2f}" for r in
                           {r.stage: r for r in rows if r.cv_limit is not None}.values())
        ax.set_title(f"校际差异系数与标准上限（{limits}）", fontsize=11)
        return Chart("cv", "cv.png", "差异系数与标准上限", _png(fig))


def _short(code: str, title: str) -> str:
    """A tick label: the code and the title without its "每百名学生拥有" / "生均" lead-in, wrapped."""
    for lead in ("每百名学生拥有", "生均"):
        if title.startswith(lead):
            title = title[len(lead):]
    title = title.split("（")[0]
    lines = [title[i:i + 5] for i in range(0, min(len(title), 10), 5)]
    return f"{code}. " + "\n".join(lines)


def briefing_charts(data: BriefingData) -> list[Chart]:
    return [chart for chart in (completion_chart(data), cv_chart(data)) if chart is not None]
