"""The briefing as people receive it: the Word document opened and read back, its PDF rendered to a
page image where LibreOffice and poppler are installed, and the e-mail queued once per recipient
and delivered through a real SMTP server with its charts inline."""

from __future__ import annotations

import datetime as dt
import email.policy
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import time_machine
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Pt
from sqlmodel import Session, func, select

from notifications.briefing import render_briefing
from notifications.briefing import text as words
from notifications.briefing.charts import briefing_charts, chinese_font
from notifications.briefing.document import (
    BODY_FONT,
    HEADING_FONT,
    TITLE_FONT,
    write_briefing_docx,
)
from notifications.briefing.mail import briefing_recipients
from notifications.briefing.pdf import soffice_path
from notifications.delivery import deliver_due
from tests.notifications.conftest import mail_settings
from tests.tracker.briefings.scenario import Scenario, at, build_three_weeks
from tracker.briefings.service import briefing_data, issue_briefing
from tracker.db import session_scope
from tracker.notices.models import MessageAttachment, NoticeItem, OutboundMessage
from tracker.org.models import Campaign, Department, Person

LATER = at(dt.date(2026, 12, 21), 8, 30)  # the Monday after the scenario's last week
WEEK = "2026-W51"


@pytest.fixture
def three_weeks(engine, tmp_path) -> Scenario:
    """The example county's three weeks (tests/tracker/briefings/scenario.py)."""
    return build_three_weeks(engine, tmp_path)


@pytest.fixture
def issued(engine, three_weeks):
    """Week 51 of the example county, issued on Monday 12-21: 第3期, the campaign having been created
    in W49 (numbers follow the weeks, whichever is issued first)."""
    with time_machine.travel(LATER, tick=False):
        with session_scope(engine) as session:
            campaign = session.exec(select(Campaign)).one()
            return briefing_data(issue_briefing(session, campaign, WEEK))


def _east_asia(run) -> str | None:
    fonts = run._element.rPr.find(qn("w:rFonts"))
    return fonts.get(qn("w:eastAsia")) if fonts is not None else None


def _paragraph(doc, text: str):
    return next(p for p in doc.paragraphs if p.text.strip() == text)


def test_the_word_document_is_an_official_briefing(issued, tmp_path):
    data = issued
    path = tmp_path / "briefing.docx"
    write_briefing_docx(data, briefing_charts(data), path)
    doc = Document(path)

    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)  # A4
    assert [round(m.mm) for m in (section.top_margin, section.bottom_margin, section.left_margin,
                                  section.right_margin)] == [37, 35, 28, 26]

    masthead = _paragraph(doc, "创建工作调度通报")
    assert _east_asia(masthead.runs[0]) == TITLE_FONT
    assert _paragraph(doc, "第3期")
    title = _paragraph(doc, "关于青川县创建全国义务教育优质均衡发展县工作进展情况的通报")
    assert _east_asia(title.runs[0]) == TITLE_FONT and title.runs[0].font.size == Pt(22)
    heading = _paragraph(doc, "一、总体进展")
    assert _east_asia(heading.runs[0]) == HEADING_FONT and heading.runs[0].font.size == Pt(16)
    named = _paragraph(doc, data.overdue_sentence)
    assert _east_asia(named.runs[0]) == BODY_FONT and named.runs[0].font.size == Pt(16)
    assert named.paragraph_format.first_line_indent == Pt(32)
    assert data.overdue_sentence.startswith("截至12月20日，") and "有逾期任务，请抓紧办理。" in data.overdue_sentence
    normal = doc.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert normal.get(qn("w:eastAsia")) == BODY_FONT

    # the department table: one row per unit with work, in rank order, figures as computed
    table = next(t for t in doc.tables if t.rows[0].cells[1].text == "责任单位")
    assert [c.text for c in table.rows[0].cells] == ["排名", "责任单位", "应办", "已销号", "在办", "未签收", "逾期",
                                                     "完成率", "按时完成率", "亮灯"]
    working = [u for u in data.departments() if u.figures.assigned]
    rows = [[c.text for c in row.cells] for row in table.rows[1:]]
    assert [r[1] for r in rows] == [u.short_name for u in working]
    assert [r[0] for r in rows] == [str(u.rank) for u in working]
    assert [(int(r[2]), int(r[3]), int(r[6])) for r in rows] == [
        (u.figures.assigned, u.figures.done, u.figures.overdue) for u in working]
    assert [r[9] for r in rows] == [u.light for u in working]
    assert _east_asia(table.rows[1].cells[1].paragraphs[0].runs[0]) == BODY_FONT
    assert _east_asia(table.rows[0].cells[0].paragraphs[0].runs[0]) == HEADING_FONT

    overdue = next(t for t in doc.tables if t.rows[0].cells[0].text == "序号" and t.rows[0].cells[4].text == "逾期天数")
    assert [row.cells[1].text for row in overdue.rows[1:]] == [r.title for r in data.overdue]
    assert [row.cells[4].text for row in overdue.rows[1:]] == [
        str(r.days_overdue) if r.days_overdue else "不足1" for r in data.overdue]
    assert "不足1" in [row.cells[4].text for row in overdue.rows[1:]]  # 签订目标责任书, due Friday 12-18

    # indicators: a two-row header (县域均值 and 差异系数 each with its change since the last assessment)
    indicators = next(t for t in doc.tables if t.rows[0].cells[0].text == "指标")
    assert len(indicators.rows) == 2 + len(data.indicators)
    assert [c.text for c in indicators.rows[0].cells] == ["指标", "学段", "县域均值", "县域均值", "标准值", "差异系数",
                                                          "差异系数", "上限", "结论"]
    assert [c.text for c in indicators.rows[1].cells] == ["指标", "学段", "数值", "较上次", "标准值", "数值", "较上次",
                                                          "上限", "结论"]
    equipment = [r for r in data.indicators if r.code == "6"]
    cells = {row.cells[1].text: [c.text for c in row.cells] for row in indicators.rows[2:]
             if row.cells[0].text.startswith("6. ")}
    for r in equipment:
        assert cells[r.stage_name][2:8] == [f"{r.county_value:.2f}", words.value_change(r.county_value_change),
                                            f"{r.threshold:g}", f"{r.cv:.3f}", words.cv_change(r.cv_change),
                                            f"≤{r.cv_limit:.2f}"]
        assert r.cv_change < 0 and cells[r.stage_name][6].startswith("\u2212")  # a real minus sign
    assert len(doc.inline_shapes) == 2  # completion by department, CV against its limit

    # no English in the text people read (an ISO week code, a status in English …)
    texts = [p.text for p in doc.paragraphs] + [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert not [t for t in texts if re.search(r"[A-Za-z]", t)]

    # page numbers 「— 1 —」 from a PAGE field, odd pages right and even pages left
    footer = section.footer._element.xml
    assert "PAGE" in footer and "— " in footer
    assert section.even_page_footer.paragraphs[0].alignment != section.footer.paragraphs[0].alignment
    assert doc.settings.odd_and_even_pages_header_footer
    assert doc.paragraphs[-1].text.endswith("印发")


def test_the_charts_are_drawn_with_a_chinese_font(issued):
    if chinese_font() is None:
        pytest.skip("本机没有中文字体（如 fonts-noto-cjk），图表中文无法检查")
    charts = briefing_charts(issued)
    assert [c.key for c in charts] == ["completion", "cv"]
    assert all(c.png.startswith(b"\x89PNG\r\n\x1a\n") and len(c.png) > 10_000 for c in charts)
    assert briefing_charts(issued)[0].png == charts[0].png  # same figures, same image


def test_the_pdf_page_shows_chinese_text_not_boxes(issued, tmp_path):
    tools = {name: shutil.which(name) for name in ("pdftoppm", "pdffonts", "pdftotext")}
    if soffice_path() is None or not all(tools.values()):
        pytest.skip("需要 LibreOffice（soffice）和 poppler-utils（pdftoppm、pdffonts、pdftotext）："
                    "apt-get install libreoffice-writer-nogui poppler-utils fonts-noto-cjk")
    rendered = render_briefing(issued, pdf=True)
    assert rendered.pdf is not None and rendered.pdf.startswith(b"%PDF")
    pdf = tmp_path / "briefing.pdf"
    pdf.write_bytes(rendered.pdf)
    subprocess.run([tools["pdftoppm"], "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True, timeout=60)
    page = next(tmp_path.glob("page*.png"))
    assert page.stat().st_size > 10_000
    fonts = subprocess.run([tools["pdffonts"], str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"CJK|SimSun|FangSong|SimHei|Song|Hei|Kai", fonts), fonts  # a Chinese font is embedded
    cjk = [line.split()[0] for line in fonts.splitlines()[2:] if "CJK" in line]
    assert cjk and all("CJKsc-" in name for name in cjk), fonts  # Simplified Chinese faces, never JP
    text = subprocess.run([tools["pdftotext"], str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = re.sub(r"\s+", "", text)
    assert "创建工作调度通报" in flat and words.title(issued) in flat
    assert re.sub(r"\s+", "", issued.overdue_sentence) in flat
    shutil.copy(page, Path(tmp_path) / "first-page-for-a-person-to-look-at.png")


async def test_the_email_is_queued_once_per_recipient_and_arrives_with_its_charts(engine, three_weeks, smtp_server):
    from flows.briefing import run_briefing

    with time_machine.travel(LATER, tick=False):
        first = run_briefing(None, WEEK, send=True, pdf=False)
        again = run_briefing(None, WEEK, send=True, pdf=False)  # issued twice: the same number, no second mail
    with Session(engine) as session:
        campaign = session.exec(select(Campaign)).one()
        recipients, unreachable = briefing_recipients(session, campaign)
        messages = session.exec(select(OutboundMessage).order_by(OutboundMessage.id)).all()
        items = session.exec(select(NoticeItem).where(NoticeItem.rung == "briefing")).all()
        attachments = session.exec(select(func.count()).select_from(MessageAttachment)).one()
        # the leading group and every department: each unit of the plan reached through its contact(s)
        people = session.exec(select(Person).where(Person.campaign_id == campaign.id)).all()
        departments = session.exec(select(Department).where(Department.campaign_id == campaign.id,
                                                            Department.active)).all()
    addresses = {r.address for r in recipients}
    group = [p for p in people if p.group_role is not None]
    assert len(group) == 21 and all(p.email in addresses for p in group)  # 组长, 2 副组长, 18 成员
    assert len(departments) == 22
    for dept in departments:
        contacts = [p for p in people if p.department_id == dept.id and p.is_contact]
        assert contacts and all(p.email in addresses for p in contacts), dept.name
    assert again.briefing_id == first.briefing_id
    assert first.mail["queued"] == len(recipients) > 10 and first.mail["already"] == 0
    assert again.mail["queued"] == 0 and again.mail["already"] == len(recipients)
    briefing_messages = [m for m in messages if "调度通报" in m.subject]
    assert sorted(m.recipient_address for m in briefing_messages) == sorted(r.address for r in recipients)
    assert len(items) == len(recipients) and {i.message_id for i in items} == {m.id for m in briefing_messages}
    assert attachments == 3 * len(recipients)  # two charts inline, the Word file attached
    assert unreachable == []

    # the ordinary delivery sends them (with whatever reminders are queued too)
    settings = mail_settings(smtp_server.port)
    report = await deliver_due(engine, LATER + dt.timedelta(minutes=1), settings=settings)
    assert not report.failed and not report.dead
    received = [r.message for r in smtp_server.handler.received]
    briefings = [m for m in received if "调度通报" in m["Subject"]]
    assert len(briefings) == len(recipients)
    mail = next(m for m in briefings if "hanjing@" in m["To"])
    assert mail["Subject"] == "【均衡督办】创建工作调度通报第3期（2026年12月14日至12月20日）"
    assert "韩静" in str(mail["To"])
    html = mail.get_body(("html",))
    body = html.get_content()
    cids = re.findall(r'src="cid:([^"]+)"', body)
    assert len(cids) == 2
    related = {part["Content-ID"].strip("<>"): part for part in mail.walk() if part["Content-ID"]}
    assert set(cids) <= set(related)
    assert all(related[c].get_content_type() == "image/png" and related[c].get_content().startswith(b"\x89PNG")
               for c in cids)
    docx = [part for part in mail.iter_attachments() if part.get_filename().endswith(".docx")]
    assert [p.get_filename() for p in docx] == ["qingchuan-2027-调度通报-第3期.docx"]
    assert Document(__import__("io").BytesIO(docx[0].get_content())).paragraphs
    text = mail.get_body(("plain",)).get_content()
    assert issued_sentence(engine) in text and issued_sentence(engine) in body
    again_report = await deliver_due(engine, LATER + dt.timedelta(hours=1), settings=settings)
    assert again_report.attempted == 0


def issued_sentence(engine) -> str:
    from tracker.briefings.models import Briefing

    with Session(engine) as session:
        return briefing_data(session.exec(select(Briefing)).one()).overdue_sentence


def test_email_policy_reads_the_chinese_attachment_name():
    # the attachment name goes out RFC 2231-encoded; policy.default gives it back as text
    from notifications.channels.email import MailPart, build_email

    message = OutboundMessage(id=1, recipient_name="李科长", recipient_address="li@example.cn", subject="调度通报",
                              body_text="见附件", body_html='<p><img src="cid:c1@example.cn"></p>',
                              message_id_header="<x@example.cn>")
    mail = build_email(message, "均衡督办 <duban@example.cn>", dt.datetime(2026, 12, 21, tzinfo=dt.timezone.utc),
                       parts=[MailPart("图.png", "image/png", b"\x89PNG", "c1@example.cn"),
                              MailPart("第1期.docx", "application/octet-stream", b"PK", None)])
    parsed = email.message_from_bytes(mail.as_bytes(), policy=email.policy.default)
    assert [p.get_filename() for p in parsed.iter_attachments()] == ["第1期.docx"]
    assert parsed.get_body(("html",)).get_content_type() == "text/html"
    assert any(p["Content-ID"] == "<c1@example.cn>" for p in parsed.walk())


def test_a_first_issue_compares_with_nothing_projects_nothing_and_draws_no_empty_chart(engine):
    """The campaign's first week: no 「比上周」, no 「预计只能办结约0项」 before any work could be
    done, and no chart of empty bars (the document and the e-mail say why). The second week
    compares, projects from its first 销号 and draws the chart."""
    import io

    from notifications.briefing.mail import render_briefing_email
    from tests.factories_db import build_world
    from tracker.briefings.compute import compute_briefing
    from tracker.tasks import lifecycle

    with time_machine.travel(at(dt.date(2026, 12, 1), 9, 0), tick=False):  # Tuesday of W49
        with session_scope(engine) as session:
            world = build_world(session)
            world.task(session, "a", due_on=dt.date(2026, 12, 2), title="落实生均公用经费")
            world.task(session, "b", unit="住建局", due_on=dt.date(2026, 12, 9), title="新建运动场")
            quick = world.task(session, "c", due_on=dt.date(2026, 12, 30), title="核定教师编制").id
            office = world.people["王主任"].id

    def briefing(week: str, day: dt.date):
        with time_machine.travel(at(day, 9, 0), tick=False):
            with session_scope(engine) as session:
                return compute_briefing(session, session.exec(select(Campaign)).one(), week)

    first = briefing("2026-W49", dt.date(2026, 12, 7))
    assert not first.has_previous_week and first.overall.overdue == 1
    overall = words.overall_paragraph(first)
    assert "比上周" not in overall and "与上周" not in overall
    assert overall.endswith("逾期任务1项。本期为首期通报，暂无上周数据可比较。")
    phase = words.phase_paragraph(first)
    assert first.phase.at_risk is None and first.phase.projected_closed is None
    assert "预计只能办结" not in phase and "本阶段尚无任务销号，暂无法按进度测算能否按期完成" in phase
    note = "本期各单位尚无销号任务，暂无可比较的完成情况，不绘制完成率图表。"
    assert words.no_completion_chart(first) == note
    charts = briefing_charts(first)
    assert charts == []  # no completion chart, and no assessment for a CV chart
    doc = Document(io.BytesIO(write_briefing_docx(first, charts)))
    assert note in [p.text for p in doc.paragraphs] and len(doc.inline_shapes) == 0
    mail = render_briefing_email(first, chart_ids={})
    assert note in mail.body_html and "<img" not in mail.body_html
    assert "有逾期任务的单位排在无逾期任务的单位之后" in mail.body_html

    with time_machine.travel(at(dt.date(2026, 12, 8), 10, 0), tick=False):
        with session_scope(engine) as session:
            from tracker.org.models import Person
            from tracker.tasks.models import Task

            task, person = session.get(Task, quick), session.get(Person, office)
            lifecycle.accept(session, task, person)
            lifecycle.submit(session, task, person, "已完成")
            lifecycle.verify(session, task, person)
    second = briefing("2026-W50", dt.date(2026, 12, 14))
    assert second.has_previous_week
    assert "逾期任务2项，比上周增加1项" in words.overall_paragraph(second)
    # paced over the 9 working days since the campaign began (12-01 to 12-11, not 20), 1 verified:
    # about 1 of the 2 open tasks by 12-23
    assert second.phase.pace_working_days == 9 and second.phase.at_risk is True
    assert "到关口预计只能办结约1项" in words.phase_paragraph(second)
    assert words.no_completion_chart(second) is None
    if chinese_font() is not None:
        assert [c.key for c in briefing_charts(second)] == ["completion"]
