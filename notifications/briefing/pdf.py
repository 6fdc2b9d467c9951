"""PDF from the Word document through LibreOffice (``soffice --headless --convert-to pdf``), where it
is installed; elsewhere no PDF (the .docx is the document of record).

Official documents name fonts a server rarely has (仿宋_GB2312, 方正小标宋简体, 黑体, 楷体_GB2312).
The conversion runs with a fontconfig file of its own that includes the system's and lets each of
them fall back to the nearest CJK font installed — Noto Serif CJK for the Song/FangSong/Kai faces,
Noto Sans CJK for 黑体 — rather than whatever fontconfig picks first. Where the real fonts are
installed they still win (the fallbacks are ``accept``, not ``prefer``).

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
from pathlib import Path

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


def fontconfig_file() -> str:
    """A fontconfig configuration: the system's, plus the fallbacks above."""
    aliases = "".join(
        f"  <alias binding=\"strong\"><family>{name}</family><accept>"
        + "".join(f"<family>{family}</family>" for family in families)
        + "</accept></alias>\n"
        for name, families in FALLBACKS.items())
    return ('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
            '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n' + aliases + "</fontconfig>\n")
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
        fonts.write_text(fontconfig_file(), encoding="utf-8")
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
