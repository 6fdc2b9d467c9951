"""Evidence files on disk: checked, size-limited, stored by their SHA-256.

A file arrives in chunks (an upload stream). ``EvidenceWriter`` writes them to a temporary file
in the store while hashing and counting, and gives up the moment the size limit is passed, so an
oversized upload never lands whole anywhere. ``finish`` then checks the type — the name's
extension and the file's first bytes must agree, and an Office Open XML file must really be one —
and moves the file to ``evidence/ab/cd/<sha256>``. Anything refused is deleted; the caller stores
nothing. The name shown to people is sanitised here too: no directory from the client survives.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tracker.settings import get_settings
from tracker.errors import ErrorKind, JunhengError


class EvidenceRejected(JunhengError, ValueError, kind=ErrorKind.bad_request):
    """A file we do not keep (Chinese message): a request without a usable file (the class's
    kind), a type we do not keep (``kind=ErrorKind.unsupported``) or one too large."""


class EvidenceTooLarge(EvidenceRejected, kind=ErrorKind.too_large):
    def __init__(self, limit: int):
        super().__init__(f"文件超过大小上限 {format_size(limit)}，未保存。请压缩或拆分后再上传。")
        self.limit = limit


@dataclass(frozen=True)
class FileKind:
    extensions: tuple[str, ...]
    content_type: str
    label: str


OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # doc/xls/ppt (Office 97–2003)
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with entries; an empty zip

KINDS: dict[str, FileKind] = {
    ".pdf": FileKind((".pdf",), "application/pdf", "PDF"),
    ".png": FileKind((".png",), "image/png", "PNG 图片"),
    ".jpg": FileKind((".jpg", ".jpeg"), "image/jpeg", "JPEG 图片"),
    ".jpeg": FileKind((".jpg", ".jpeg"), "image/jpeg", "JPEG 图片"),
    ".gif": FileKind((".gif",), "image/gif", "GIF 图片"),
    ".webp": FileKind((".webp",), "image/webp", "WebP 图片"),
    ".doc": FileKind((".doc",), "application/msword", "Word 文档"),
    ".xls": FileKind((".xls",), "application/vnd.ms-excel", "Excel 表格"),
    ".ppt": FileKind((".ppt",), "application/vnd.ms-powerpoint", "PowerPoint 演示文稿"),
    ".docx": FileKind((".docx",), "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                      "Word 文档"),
    ".xlsx": FileKind((".xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                      "Excel 表格"),
    ".pptx": FileKind((".pptx",), "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                      "PowerPoint 演示文稿"),
    ".zip": FileKind((".zip",), "application/zip", "ZIP 压缩包"),
}
ALLOWED_TEXT = "PDF、图片（PNG/JPG/GIF/WebP）、Word/Excel/PowerPoint 文档（含 97-2003 格式）、ZIP 压缩包"
# the folder an Office Open XML package keeps its main part in
OOXML_FOLDER = {".docx": "word/", ".xlsx": "xl/", ".pptx": "ppt/"}

MAX_NAME_CHARS = 120
_UNSAFE = re.compile(r'[\x00-\x1f\x7f-\x9f<>:"/\\|?*]')
# invisible characters that change how a name reads without showing: bidi overrides and isolates
# (U+202E makes "合同\u202efdp.exe" read "合同exe.pdf"), zero-width spaces and joiners, BOMs, soft
# hyphens (all Unicode "format" characters, Cf), line/paragraph separators (Zl, Zp), and lone
# surrogates (Cs, from a broken encoding)
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Zl", "Zp", "Cs"})


def _visible(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)


def format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} 字节"


def sanitize_filename(raw: str | None) -> str:
    """The display name of an uploaded file: its last path component only (browsers on Windows
    may send ``C:\\…\\名单.xlsx``), without control or reserved characters (replaced by ``_``) and
    without invisible ones (bidi overrides, zero-width characters: dropped), at most 120
    characters with its extension kept. Never used as a path: files are stored by hash."""
    name = _visible(unicodedata.normalize("NFC", raw or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE.sub("_", name).strip()
    stem, dot, ext = name.rpartition(".")
    if not dot or not re.fullmatch(r"[A-Za-z0-9]{1,10}", ext):  # no extension, just a dot in the name
        stem, ext = name, ""
    else:
        ext = "." + ext
    stem = stem.strip().strip(".").strip()  # no hidden files, no names of dots
    name = stem + ext
    if len(name) > MAX_NAME_CHARS:
        stem = stem[: MAX_NAME_CHARS - len(ext)].rstrip()
        name = stem + ext
    if not stem.strip("_ "):
        name = "佐证材料" + ext
    return name


def kind_of(filename: str) -> FileKind:
    ext = os.path.splitext(filename)[1].lower()
    kind = KINDS.get(ext)
    if kind is None:
        shown = ext or "（无扩展名）"
        raise EvidenceRejected(f"不支持的文件类型「{shown}」，只能上传{ALLOWED_TEXT}。", kind=ErrorKind.unsupported)
    return kind


def _matches(ext: str, head: bytes) -> bool:
    if ext == ".pdf":
        return head.startswith(b"%PDF-")
    if ext == ".png":
        return head.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in (".jpg", ".jpeg"):
        return head.startswith(b"\xff\xd8\xff")
    if ext == ".gif":
        return head.startswith((b"GIF87a", b"GIF89a"))
    if ext == ".webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if ext in (".doc", ".xls", ".ppt"):
        return head.startswith(OLE2)
    if ext in (".docx", ".xlsx", ".pptx", ".zip"):
        return head.startswith(ZIP_SIGNATURES)
    return False


def check_content(path: Path, filename: str) -> FileKind:
    """The file's kind when its extension and content agree; else ``EvidenceRejected``."""
    kind = kind_of(filename)
    ext = os.path.splitext(filename)[1].lower()
    with path.open("rb") as fh:
        head = fh.read(16)
    if not head:
        raise EvidenceRejected(f"文件「{filename}」是空文件，未保存。", kind=ErrorKind.invalid)
    if not _matches(ext, head):
        raise EvidenceRejected(f"文件「{filename}」的内容不是{kind.label}（扩展名与文件内容不符），未保存。", kind=ErrorKind.unsupported)
    folder = OOXML_FOLDER.get(ext)
    if folder is not None:
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile:
            names = []
        if "[Content_Types].xml" not in names or not any(n.startswith(folder) for n in names):
            raise EvidenceRejected(f"文件「{filename}」不是有效的{kind.label}（{ext}），未保存。", kind=ErrorKind.unsupported)
    elif ext == ".zip" and not zipfile.is_zipfile(path):
        raise EvidenceRejected(f"文件「{filename}」不是有效的 ZIP 压缩包，未保存。", kind=ErrorKind.unsupported)
    return kind


def evidence_root() -> Path:
    return get_settings().data_dir / "evidence"


def stored_path(sha256: str, root: Path | None = None) -> Path:
    """Where a file with this hash lives: evidence/ab/cd/abcd…"""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    return (root or evidence_root()) / sha256[:2] / sha256[2:4] / sha256


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    filename: str  # sanitised
    content_type: str
    path: Path


class EvidenceWriter:
    """Receives one file's bytes and stores it content-addressed. Use as a context manager: a
    writer left without ``finish`` (an error, a refused upload) deletes its temporary file."""

    def __init__(self, filename: str | None, *, max_bytes: int | None = None, root: Path | None = None):
        self.filename = sanitize_filename(filename)
        self.kind = kind_of(self.filename)  # refuse a wrong extension before reading a byte
        self.max_bytes = get_settings().evidence_max_bytes if max_bytes is None else max_bytes
        self.root = root or evidence_root()
        tmp_dir = self.root / "tmp"
        tmp_dir.mkdir(parents=True, exist_ok=True)
        self._tmp = tmp_dir / f"{uuid.uuid4().hex}.part"
        self._fh = self._tmp.open("wb")
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            self.discard()
            raise EvidenceTooLarge(self.max_bytes)
        self._hash.update(chunk)
        self._fh.write(chunk)

    def finish(self) -> StoredFile:
        self._fh.close()
        try:
            kind = check_content(self._tmp, self.filename)
        except EvidenceRejected:
            self.discard()
            raise
        digest = self._hash.hexdigest()
        target = stored_path(digest, self.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            self._tmp.unlink(missing_ok=True)  # the same bytes are already kept
        else:
            os.replace(self._tmp, target)  # atomic: a reader never sees half a file
        return StoredFile(sha256=digest, size=self.size, filename=self.filename,
                          content_type=kind.content_type, path=target)

    def discard(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> EvidenceWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # noqa: ANN001
        if exc_type is not None:
            self.discard()


def store_bytes(filename: str, data: bytes, *, max_bytes: int | None = None, root: Path | None = None) -> StoredFile:
    """Store a whole file held in memory (the CLI, tests); the same checks as an upload."""
    with EvidenceWriter(filename, max_bytes=max_bytes, root=root) as writer:
        for start in range(0, len(data), 1 << 16):
            writer.write(data[start:start + (1 << 16)])
        return writer.finish()
