"""The printable sheet of QR slips: one slip per code, with its QR image, the code and the
address, 3 × 7 to an A4 page, cut along the dashed lines. Plain HTML with inline SVG (segno):
it prints from any browser and needs no font or office suite on the server."""

from __future__ import annotations

from html import escape
from pathlib import Path

SLIP_CSS = """
@page { size: A4; margin: 10mm; }
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 0; }
h1 { font-size: 14pt; margin: 0 0 4mm; }
.sheet { display: grid; grid-template-columns: repeat(3, 1fr); }
.slip { border: 1px dashed #999; padding: 3mm; height: 37mm; display: flex; gap: 3mm; align-items: center;
        break-inside: avoid; page-break-inside: avoid; font-size: 9pt; }
.slip svg { flex: none; }
.code { font-family: monospace; font-size: 12pt; letter-spacing: 1px; font-weight: bold; }
.url { word-break: break-all; color: #333; }
.demo { color: #b35900; font-weight: bold; }
"""


def survey_url(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/s/{code}"


def slips_html(codes: list[str], base_url: str, *, title: str, school: str | None, group: str,
               illustrative: bool = False) -> str:
    import segno  # imported here: only this sheet needs it

    where = f"{school} · {group}" if school else group
    demo = '<div class="demo">示例调查</div>' if illustrative else ""
    slips = []
    for code in codes:
        url = survey_url(base_url, code)
        qr = segno.make_qr(url, error="m").svg_inline(scale=3, border=2)
        slips.append(
            f'<div class="slip">{qr}<div>{demo}<div>{escape(title)}</div><div>{escape(where)}</div>'
            f'<div>手机扫码作答（每码限答一次）</div><div class="code">{escape(code)}</div>'
            f'<div class="url">{escape(url)}</div></div></div>')
    return ("<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)} 答卷码</title><style>{SLIP_CSS}</style></head><body>"
            f"<h1>{escape(title)} — {escape(where)}，共 {len(codes)} 张答卷码</h1>"
            f'<div class="sheet">{"".join(slips)}</div></body></html>')


def write_slips(directory: str | Path, codes: list[str], base_url: str, *, title: str, school: str | None,
                group: str, stamp: str, illustrative: bool = False) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    name = "-".join(filter(None, ["答卷码", school, group, stamp])) + ".html"
    path = directory / name.replace("/", "_")
    path.write_text(slips_html(codes, base_url, title=title, school=school, group=group,
                               illustrative=illustrative), encoding="utf-8")
    return path
