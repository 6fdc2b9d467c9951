"""PDF from the Word document through LibreOffice (``soffice --headless --convert-to pdf``), where it
is installed; elsewhere no PDF (the .docx is the document of record).

Official documents name fonts a server rarely has (仿宋_GB2312, 方正小标宋简体, 黑体, 楷体_GB2312).
The conversion runs with a fontconfig file of its own that includes the system's and lets each of
them fall back to the nearest CJK font installed — Noto Serif CJK for the Song/FangSong/Kai faces,
Noto Sans CJK for 黑体 — rather than whatever fontconfig picks first. Where the real fonts are
installed they still win (the fallbacks are ``accept``, not ``prefer``).

**Simplified Chinese faces.** fonts-noto-cjk ships each of Noto Sans/Serif CJK as one collection
(.ttc) of five faces (JP, KR, SC, TC, HK) that share one CFF glyph store whose PostScript name is
the JP one (``NotoSerifCJKjp-Regular``); LibreOffice names the embedded font after it, so even the
SC face's glyphs were embedded as "NotoSerifCJKjp-Regular-VKana" and the PDF said JP. Before a
conversion ``sc_faces`` copies each collection's SC face into a standalone .otf (its tables as they
are, the CFF's font names renamed jp → sc, equal length, so no glyph is touched; about a second
each, cached under the data directory) and the conversion's fontconfig takes those and leaves out
the collections: the PDF embeds ``NotoSerifCJKsc-…`` faces (checked with ``pdffonts``). The
document itself says zh-CN (notifications.briefing.official.simplified_chinese).

Each conversion runs with a profile directory of its own (``-env:UserInstallation``): LibreOffice
refuses a second instance on a shared profile, and the scheduler, a CLI run and the tests may
convert at the same time.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from xml.sax.saxutils import escape as xml_escape
from pathlib import Path

from tracker.settings import get_settings

log = logging.getLogger("junheng.briefing")

TIMEOUT_SECONDS = 120
SERIF_FALLBACK = ("Noto Serif CJK SC", "Source Han Serif SC", "AR PL UMing CN", "SimSun")
SANS_FALLBACK = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei")
FALLBACKS = {
    "仿宋_GB2312": ("FangSong", "仿宋", *SERIF_FALLBACK),
    "方正小标宋简体": ("FZXiaoBiaoSong-B05S", "Noto Serif CJK SC Bold", *SERIF_FALLBACK),
    "楷体_GB2312": ("KaiTi", "楷体", "AR PL UKai CN", *SERIF_FALLBACK),
    "宋体": ("SimSun", *SERIF_FALLBACK),
    "黑体": ("SimHei", *SANS_FALLBACK),
}


FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))
SC_FAMILY_SUFFIX = " CJK SC"


def cjk_collections() -> list[Path]:
    """The Noto Sans/Serif CJK collections installed (fonts-noto-cjk, -extra)."""
    found: list[Path] = []
    for root in FONT_DIRS:
        if root.is_dir():
            found.extend(sorted(root.rglob("Noto*CJK*.ttc")))
    return found


def _extract_sc_face(collection: Path, target_dir: Path) -> Path | None:
    """The SC face of ``collection`` as a standalone .otf in ``target_dir`` (made once, kept while the
    collection is unchanged), or None when the collection has no SC face."""
    from fontTools.ttLib import TTCollection
    from fontTools.ttLib.sfnt import SFNTWriter

    stamp = collection.stat()
    fonts = TTCollection(str(collection), lazy=True)
    try:
        face = next((f for f in fonts.fonts if (f["name"].getDebugName(1) or "").endswith(SC_FAMILY_SUFFIX)), None)
        if face is None:
            return None
        ps_name = face["name"].getDebugName(6) or f"{collection.stem}-sc"
        target = target_dir / f"{ps_name}.otf"
        if target.exists() and target.stat().st_mtime >= stamp.st_mtime:
            return target
        reader = face.reader
        cff_name = None
        if "CFF " in reader:
            raw_cff = reader["CFF "]
            # the shared store's name is the JP face's: NotoSerifCJKjp-Regular → NotoSerifCJKsc-Regular
            head = ps_name.split("CJKsc-")[0] + "CJK" if "CJKsc-" in ps_name else None
            if head is not None:
                cff_name = (head + "jp-").encode("ascii"), (head + "sc-").encode("ascii")
        partial = target.with_suffix(f".{os.getpid()}.part")
        with partial.open("wb") as out:
            writer = SFNTWriter(out, len(reader.keys()), sfntVersion=reader.sfntVersion)
            for tag in sorted(reader.keys()):
                data = reader[tag]
                if tag == "CFF " and cff_name is not None:
                    data = raw_cff.replace(*cff_name)  # same length: every offset stays
                writer[tag] = data
            writer.close()
        partial.replace(target)
        return target
    finally:
        fonts.close()


def sc_faces(cache_dir: Path | None = None) -> tuple[Path | None, list[Path]]:
    """(the folder of standalone SC faces, the collections they stand in for); (None, []) when there
    are none or they cannot be made (the conversion then uses the collections as they are)."""
    collections = cjk_collections()
    if not collections:
        return None, []
    target_dir = cache_dir or get_settings().data_dir / "cache" / "fonts-sc"
    replaced: list[Path] = []
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        for collection in collections:
            if _extract_sc_face(collection, target_dir) is not None:
                replaced.append(collection)
    except Exception as exc:  # a font we cannot read must not cost the briefing its PDF
        log.warning("无法准备简体中文字体（%s），PDF 使用系统字体集合", exc)
        return None, []
    return (target_dir, replaced) if replaced else (None, [])


def fontconfig_file(sc_dir: Path | None = None, replaced: list[Path] | None = None) -> str:
    """A fontconfig configuration: the system's, plus the fallbacks above; with ``sc_dir``, the
    standalone SC faces in place of the ``replaced`` collections."""
    own = ""
    if sc_dir is not None:
        own = (f"  <dir>{xml_escape(str(sc_dir))}</dir>\n  <selectfont><rejectfont>"
               + "".join(f"<glob>{xml_escape(str(path))}</glob>" for path in replaced or [])
               + "</rejectfont></selectfont>\n")
    aliases = "".join(
        f"  <alias binding=\"strong\"><family>{name}</family><accept>"
        + "".join(f"<family>{family}</family>" for family in families)
        + "</accept></alias>\n"
        for name, families in FALLBACKS.items())
    return ('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
            '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n' + own + aliases + "</fontconfig>\n")
CANDIDATES = ("soffice", "libreoffice")


def soffice_path() -> str | None:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def docx_to_pdf(docx: bytes, *, name: str = "briefing") -> bytes | None:
    """The PDF bytes of a .docx, or None when LibreOffice is not installed or the conversion fails
    (logged: the briefing goes out without a PDF rather than not at all)."""
    soffice = soffice_path()
    if soffice is None:
        log.info("未安装 LibreOffice（soffice），不生成 PDF")
        return None
    with tempfile.TemporaryDirectory(prefix="junheng-pdf-") as tmp:
        work = Path(tmp)
        source = work / f"{name}.docx"
        source.write_bytes(docx)
        fonts = work / "fonts.conf"
        fonts.write_text(fontconfig_file(*sc_faces()), encoding="utf-8")
        env = {**os.environ, "FONTCONFIG_FILE": str(fonts)}
        command = [soffice, f"-env:UserInstallation=file://{work / 'profile'}", "--headless", "--norestore",
                   "--convert-to", "pdf", "--outdir", str(work / "out"), str(source)]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_SECONDS, check=False,
                                  env=env)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.error("LibreOffice 转换 PDF 失败：%s", exc)
            return None
        target = work / "out" / f"{name}.pdf"
        if done.returncode != 0 or not target.exists():
            log.error("LibreOffice 转换 PDF 失败（返回码 %s）：%s", done.returncode,
                      done.stderr.decode(errors="replace").strip()[:500])
            return None
        return target.read_bytes()
