"""The weekly briefing (调度通报) as people receive it: charts (charts.py), the Word document in the
official-document style (document.py), a PDF through LibreOffice where installed (pdf.py), and the
HTML e-mail queued for the leading group and every department (mail.py). The figures come from
tracker.briefings; nothing here computes them."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path

from notifications.briefing.charts import Chart, briefing_charts
from notifications.briefing.document import write_briefing_docx
from notifications.briefing.mail import render_briefing_email
from notifications.briefing.pdf import docx_to_pdf
from tracker.briefings.compute import BriefingData


@dataclass
class RenderedBriefing:
    charts: list[Chart]
    docx: bytes
    pdf: bytes | None  # None where LibreOffice is not installed

    def stem(self, data: BriefingData) -> str:
        return f"{data.campaign_code}-调度通报-第{data.number}期-{data.iso_week}"


@dataclass
class WrittenFiles:
    docx: Path
    html: Path
    pdf: Path | None = None
    charts: list[Path] = field(default_factory=list)


def render_briefing(data: BriefingData, *, pdf: bool = True) -> RenderedBriefing:
    charts = briefing_charts(data)
    docx = write_briefing_docx(data, charts)
    return RenderedBriefing(charts=charts, docx=docx,
                            pdf=docx_to_pdf(docx, name=f"briefing-{data.iso_week}") if pdf else None)


def write_files(data: BriefingData, rendered: RenderedBriefing, out_dir: Path) -> WrittenFiles:
    """The .docx, the .pdf (when made), the charts as .png files, and a standalone .html in ``out_dir``
    whose charts are embedded (``data:`` URIs), so the page can be forwarded on its own."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = rendered.stem(data)
    docx = out_dir / f"{stem}.docx"
    docx.write_bytes(rendered.docx)
    written = WrittenFiles(docx=docx, html=out_dir / f"{stem}.html")
    if rendered.pdf is not None:
        written.pdf = out_dir / f"{stem}.pdf"
        written.pdf.write_bytes(rendered.pdf)
    chart_refs, inline = {}, {}
    for chart in rendered.charts:
        path = out_dir / f"{stem}-{chart.filename}"
        path.write_bytes(chart.png)
        written.charts.append(path)
        chart_refs[chart.key] = path.name
        inline[path.name] = "data:image/png;base64," + base64.b64encode(chart.png).decode("ascii")
    html = render_briefing_email(data, chart_ids=chart_refs, attached=docx.name).body_html
    # in the file the charts are part of the page, not parts of a message
    for name, uri in inline.items():
        html = html.replace(f"cid:{name}", uri)
    written.html.write_text(html, encoding="utf-8")
    return written


__all__ = ["RenderedBriefing", "WrittenFiles", "render_briefing", "write_files"]
