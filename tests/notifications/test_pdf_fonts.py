"""The briefing's PDF is set in Simplified Chinese faces (issue 12 §8): it embedded Noto CJK JP.
fonts-noto-cjk's collections share one glyph store named after the JP face, so the PDF named every
face JP; the conversion now uses standalone SC faces and the document says zh-CN."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zlib

import pytest
from docx import Document
from docx.oxml.ns import qn

from notifications.briefing.document import simplified_chinese, set_run_font
from notifications.briefing.pdf import cjk_collections, docx_to_pdf, fontconfig_file, sc_faces, soffice_path

# characters whose SC glyph differs from the JP one (different glyphs in the collection)
TEXT = "说写关令画微次刃骨直角门"


def _tools():
    if soffice_path() is None or shutil.which("pdffonts") is None or not cjk_collections():
        pytest.skip("需要 LibreOffice、poppler-utils 和 fonts-noto-cjk："
                    "apt-get install libreoffice-writer-nogui poppler-utils fonts-noto-cjk")


def _pdf(tmp_path, fonts: list[tuple[str, str]]) -> bytes:
    doc = Document()
    simplified_chinese(doc, "仿宋_GB2312")
    for font, text in fonts:
        set_run_font(doc.add_paragraph().add_run(text), font, 16)
    buffer = io.BytesIO()
    doc.save(buffer)
    pdf = docx_to_pdf(buffer.getvalue(), name="fonts")
    assert pdf is not None and pdf.startswith(b"%PDF")
    return pdf


def test_the_document_says_simplified_chinese():
    doc = Document()
    simplified_chinese(doc, "仿宋_GB2312")
    settings = doc.settings.element.find(qn("w:themeFontLang"))
    assert settings.get(qn("w:eastAsia")) == "zh-CN"  # python-docx's template says ja-JP
    default = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    assert default.find(qn("w:lang")).get(qn("w:eastAsia")) == "zh-CN"
    assert default.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert default.find(qn("w:rFonts")).get(qn("w:eastAsiaTheme")) is None
    normal = doc.styles["Normal"].element.rPr
    assert [lang.get(qn("w:eastAsia")) for lang in normal.findall(qn("w:lang"))] == ["zh-CN"]


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """The standalone faces are kept under the data directory: a test's own."""
    from tracker.settings import get_settings

    monkeypatch.setenv("JUNHENG_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def test_every_embedded_cjk_font_is_an_sc_face(tmp_path, data_dir):
    _tools()
    # the official fonts a server lacks (serif and sans fallbacks), a bold title, and a font named SC
    pdf = _pdf(tmp_path, [("仿宋_GB2312", TEXT), ("黑体", TEXT), ("方正小标宋简体", TEXT), ("楷体_GB2312", TEXT),
                          ("Noto Sans CJK SC", TEXT)])
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    cjk = [line.split()[0] for line in listing.splitlines()[2:] if "CJK" in line]
    assert cjk, listing
    assert all("CJKsc-" in name for name in cjk), listing  # never NotoSerifCJKjp-…
    assert any("Serif" in name for name in cjk) and any("Sans" in name for name in cjk), listing

    # and the glyphs are the SC face's: the embedded subsets name their glyphs by CID
    from fontTools.ttLib import TTCollection

    collection = next(p for p in cjk_collections() if p.name == "NotoSerifCJK-Regular.ttc")
    faces = {f["name"].getDebugName(1): f.getBestCmap() for f in TTCollection(str(collection), lazy=True).fonts}
    sc = {faces["Noto Serif CJK SC"][ord(ch)] for ch in TEXT}
    jp_only = {faces["Noto Serif CJK JP"][ord(ch)] for ch in TEXT} - sc
    embedded: set[str] = set()
    for stream in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        try:
            data = zlib.decompress(stream.group(1))
        except zlib.error:
            continue
        if b"NotoSerifCJKsc-Regular" in data[:2000]:
            embedded |= {f"cid{int(n):05d}" for n in re.findall(rb"/cid(\d+)", data[:20000])}
    assert sc <= embedded and not (jp_only & embedded)
    assert list((data_dir / "cache" / "fonts-sc").glob("*.otf"))


def test_without_standalone_faces_the_configuration_is_the_systems(tmp_path):
    plain = fontconfig_file()
    assert "<rejectfont>" not in plain and "仿宋_GB2312" in plain
    own = fontconfig_file(tmp_path, [tmp_path / "NotoSerifCJK-Regular.ttc"])
    assert f"<dir>{tmp_path}</dir>" in own and "NotoSerifCJK-Regular.ttc</glob>" in own


def test_sc_faces_are_made_once(tmp_path):
    if not cjk_collections():
        pytest.skip("需要 fonts-noto-cjk")
    folder, replaced = sc_faces(tmp_path)
    assert folder == tmp_path and replaced
    made = {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.otf")}
    assert any(name.startswith("NotoSerifCJKsc-") for name in made)
    assert sc_faces(tmp_path) == (folder, replaced)
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.glob("*.otf")} == made  # kept, not made again
