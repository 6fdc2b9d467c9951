from __future__ import annotations

import hashlib

import pytest

from tests.tracker.evidence import samples
from tracker.errors import ErrorKind
from tracker.evidence.storage import (
    EvidenceRejected,
    EvidenceTooLarge,
    EvidenceWriter,
    sanitize_filename,
    store_bytes,
    stored_path,
)


@pytest.mark.parametrize(("name", "data", "content_type"), [
    ("验收报告.pdf", samples.pdf(), "application/pdf"),
    ("操场.png", samples.png(), "image/png"),
    ("照片.JPG", samples.jpeg(), "image/jpeg"),
    ("照片.jpeg", samples.jpeg(), "image/jpeg"),
    ("动图.gif", samples.gif(), "image/gif"),
    ("图.webp", samples.webp(), "image/webp"),
    ("旧文档.doc", samples.ole2(), "application/msword"),
    ("旧表格.xls", samples.ole2(), "application/vnd.ms-excel"),
    ("旧演示.ppt", samples.ole2(), "application/vnd.ms-powerpoint"),
    ("台账.xlsx", samples.xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("说明.docx", samples.docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("照片合集.zip", samples.zip_file(), "application/zip"),
])
def test_allowed_kinds_are_stored_by_hash(tmp_path, name, data, content_type):
    stored = store_bytes(name, data, root=tmp_path)
    digest = hashlib.sha256(data).hexdigest()
    assert stored.sha256 == digest
    assert stored.content_type == content_type
    assert stored.size == len(data)
    assert stored.path == tmp_path / digest[:2] / digest[2:4] / digest
    assert stored.path.read_bytes() == data
    assert list((tmp_path / "tmp").iterdir()) == []


@pytest.mark.parametrize(("name", "data", "words"), [
    ("病毒.exe", b"MZ\x90\x00", "不支持的文件类型「.exe」"),
    ("无扩展名", samples.pdf(), "（无扩展名）"),
    ("假的.pdf", samples.png(), "不是PDF"),
    ("假的.png", samples.pdf(), "不是PNG 图片"),
    ("假的.docx", samples.zip_file(), "不是有效的Word 文档"),
    ("假的.xlsx", samples.docx(), "不是有效的Excel 表格"),
    ("假的.doc", samples.zip_file(), "不是Word 文档"),
    ("网页.html", b"<html></html>", "不支持的文件类型「.html」"),
    ("空.pdf", b"", "空文件"),
])
def test_wrong_type_or_content_is_refused_and_nothing_stays(tmp_path, name, data, words):
    with pytest.raises(EvidenceRejected) as info:
        store_bytes(name, data, root=tmp_path)
    assert words in info.value.message
    assert "未保存" in info.value.message or "不支持" in info.value.message
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers == []


def test_size_limit_is_enforced_while_writing(tmp_path):
    writer = EvidenceWriter("大文件.pdf", max_bytes=100, root=tmp_path)
    writer.write(b"%PDF-" + b"x" * 90)
    with pytest.raises(EvidenceTooLarge) as info:
        writer.write(b"y" * 10)
    assert info.value.kind is ErrorKind.too_large
    assert "100 字节" in info.value.message
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_limit_is_inclusive(tmp_path):
    data = b"%PDF-" + b"x" * 95
    assert store_bytes("刚好.pdf", data, max_bytes=100, root=tmp_path).size == 100


def test_default_limit_comes_from_the_setting(tmp_path, monkeypatch):
    from tracker.settings import get_settings

    monkeypatch.setenv("JUNHENG_EVIDENCE_MAX_BYTES", "10")
    get_settings.cache_clear()
    try:
        with pytest.raises(EvidenceTooLarge):
            store_bytes("a.pdf", b"%PDF-1234567890", root=tmp_path)
    finally:
        get_settings.cache_clear()


def test_same_bytes_are_kept_once(tmp_path):
    first = store_bytes("一.pdf", samples.pdf(), root=tmp_path)
    second = store_bytes("二.pdf", samples.pdf(), root=tmp_path)
    assert first.path == second.path
    assert second.filename == "二.pdf"
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1


@pytest.mark.parametrize(("raw", "clean"), [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\李婷\\Desktop\\整改报告.pdf", "整改报告.pdf"),
    ("/abs/path/报告.pdf", "报告.pdf"),
    ("a<b>c:d\"e|f?g*h.pdf", "a_b_c_d_e_f_g_h.pdf"),
    ("bad\x00name\n.pdf", "bad_name_.pdf"),
    ("..pdf", "佐证材料.pdf"),
    ("", "佐证材料"),
    (None, "佐证材料"),
    ("..", "佐证材料"),
])
def test_names_are_sanitised(raw, clean):
    assert sanitize_filename(raw) == clean


def test_long_names_keep_their_extension():
    name = sanitize_filename("很" * 300 + ".docx")
    assert name.endswith(".docx") and len(name) == 120


def test_stored_path_refuses_anything_but_a_hash(tmp_path):
    with pytest.raises(ValueError):
        stored_path("../../x", tmp_path)
