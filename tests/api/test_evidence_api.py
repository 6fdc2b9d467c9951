"""Evidence over the API: upload (streamed, size-limited, type-checked), list, download, binder."""

from __future__ import annotations

import io
import zipfile

from sqlmodel import select

from tests.tracker.evidence import samples
from tracker.settings import get_settings
from tracker.tasks.models import Evidence


def stored_files() -> list:
    root = get_settings().data_dir / "evidence"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_upload_list_download(client, headers, api_world, session):
    s = api_world.tasks["s"].id
    r = client.post(f"/api/v1/tasks/{s}/evidence", headers=headers["school"],
                    files={"file": ("../../多媒体教室照片.png", samples.png(), "image/png")})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["filename"] == "多媒体教室照片.png" and body["content_type"] == "image/png"
    assert body["uploaded_by"] == "城关一小填报员" and body["size"] == len(samples.png())
    listed = client.get(f"/api/v1/tasks/{s}/evidence", headers=headers["office"]).json()
    assert [e["id"] for e in listed] == [body["id"]]
    r = client.get(f"/api/v1/evidence/{body['id']}", headers=headers["reviewer"])
    assert r.status_code == 200 and r.content == samples.png() and r.headers["content-type"] == "image/png"
    assert "filename*=UTF-8''%E5%A4%9A%E5%AA%92%E4%BD%93" in r.headers["content-disposition"]
    r = client.get(f"/api/v1/evidence/{body['id']}", headers=headers["dept_a"])
    assert r.status_code == 403 and "无权下载" in r.json()["detail"]
    assert client.get("/api/v1/evidence/999999", headers=headers["office"]).status_code == 404


def test_refusals_are_json_in_chinese_and_keep_nothing(client, headers, api_world, monkeypatch):
    a = api_world.tasks["a"].id
    url = f"/api/v1/tasks/{a}/evidence"
    before = stored_files()
    r = client.post(url, headers=headers["dept_a"], files={"file": ("脚本.js", b"alert(1)")})
    assert r.status_code == 415 and "不支持的文件类型" in r.json()["detail"]
    r = client.post(url, headers=headers["dept_a"], files={"file": ("表.xlsx", samples.zip_file())})
    assert r.status_code == 415 and "不是有效的Excel 表格" in r.json()["detail"]
    r = client.post(url, headers=headers["dept_a"], files={"other": ("a.pdf", samples.pdf())})
    assert r.status_code == 422 and "没有收到文件" in r.json()["detail"]
    r = client.post(url, headers=headers["dept_a"], json={"file": "x"})
    assert r.status_code == 400 and "multipart/form-data" in r.json()["detail"]
    r = client.post(url, headers=headers["reviewer"], files={"file": ("a.pdf", samples.pdf())})
    assert r.status_code == 403
    assert stored_files() == before

    monkeypatch.setenv("JUNHENG_EVIDENCE_MAX_BYTES", "4096")
    get_settings.cache_clear()
    big = b"%PDF-" + b"1" * 20000
    r = client.post(url, headers=headers["dept_a"], files={"file": ("大.pdf", big)})
    assert r.status_code == 413 and "超过大小上限 4 KB" in r.json()["detail"]

    # no Content-Length (chunked): stopped while streaming, all the same
    boundary = "----junheng"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"大.pdf\"\r\n"
            f"Content-Type: application/pdf\r\n\r\n").encode() + big + f"\r\n--{boundary}--\r\n".encode()

    def chunks():
        for i in range(0, len(body), 1000):
            yield body[i:i + 1000]

    r = client.post(url, headers={**headers["dept_a"], "Content-Type": f"multipart/form-data; boundary={boundary}"},
                    content=chunks())
    assert r.status_code == 413
    assert stored_files() == before


def test_the_binder_over_the_api(client, headers, api_world, session):
    a = api_world.tasks["a"].id
    docx = samples.docx()  # made once: a .docx holds its own timestamps
    client.post(f"/api/v1/tasks/{a}/evidence", headers=headers["dept_a"], files={"file": ("合同.docx", docx)})
    r = client.get("/api/v1/archive", params={"indicator": "6"}, headers=headers["office"])
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert z.read([n for n in z.namelist() if n.endswith("合同.docx")][0]) == docx
        assert any(n.endswith("/采购合同.pdf") for n in z.namelist())
    r = client.get("/api/v1/archive", params={"indicator": "7"}, headers=headers["reviewer"])
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert z.namelist() == ["目录.xlsx"]  # indicator 7 has no evidence yet
    assert client.get("/api/v1/archive", headers=headers["dept_a"]).status_code == 403
    assert {e.task_id for e in session.exec(select(Evidence))} == {a}
