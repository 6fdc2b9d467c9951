"""Uploads under attack (issue 11), over real HTTP: a uvicorn server on a port, raw bodies.

- a multipart body without its closing boundary is refused (400, Chinese) and nothing is stored;
- bidi overrides, zero-width characters and other invisible ones are dropped from file names;
- a file name over 255 bytes is refused with a message naming the field (a 6 KB one too: it used to
  reach python-multipart's header limit and get "格式有误");
- the statuses schemathesis found muddled: 405 names every method of the path in ``Allow``, a file
  without an extension is 415 on both uploads, no file is 422, a reason of blanks (a no-break space)
  is 422 "不能为空".
"""

from __future__ import annotations

import re
import socket
import threading
import time
import uuid

import httpx
import pytest
import uvicorn
from sqlmodel import select

from tests.api.conftest import PASSWORD, bearer, own_school_sheet
from tests.tracker.evidence import samples
from tracker.schooldata.models import DataSubmission
from tracker.settings import get_settings
from tracker.tasks.models import Evidence

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def server(db_url, api_world):
    """The app on a free port of 127.0.0.1, in a thread of this process (same database)."""
    from api.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not instance.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(timeout=30)


def multipart(name: str, data: bytes, *, close: bool = True, field: str = "file",
              extra: dict[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
    """A form-data body as a browser sends it (UTF-8 file name in the quoted string); without
    its closing ``--boundary--`` when ``close`` is False (the body then just stops)."""
    boundary = f"----junheng{uuid.uuid4().hex}"
    body = b""
    for key, value in (extra or {}).items():
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n').encode()
    quoted = name.replace('"', "%22")
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{quoted}"\r\n'
             f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n"
    if close:
        body += f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def stored_files() -> list:
    root = get_settings().data_dir / "evidence"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def counts(session) -> tuple[int, int]:
    session.expire_all()
    return (len(session.exec(select(Evidence)).all()), len(session.exec(select(DataSubmission)).all()))


def pdf(n: int) -> bytes:
    return samples.pdf() + f"% {n}\n".encode()  # a different file (hash) each time


def test_a_body_without_its_closing_boundary_is_refused_and_nothing_stored(server, engine, api_world, session,
                                                                          tmp_path):
    a = api_world.tasks["a"].id
    dept, school = bearer(engine, api_world.users["dept_a"]), bearer(engine, api_world.users["school"])
    evidence_url = f"{server}/api/v1/tasks/{a}/evidence"
    sheet_url = f"{server}/api/v1/campaigns/{api_world.code}/submissions"
    sheet = own_school_sheet(tmp_path)
    before, files_before = counts(session), stored_files()
    for url, auth, name, data in ((evidence_url, dept, "合同.pdf", pdf(1)), (sheet_url, school, "本校.csv", sheet)):
        body, headers = multipart(name, data, close=False)
        r = httpx.post(url, content=body, headers={**auth, **headers})
        assert r.status_code == 400, r.text
        assert "上传内容不完整（缺少表单结尾的分隔符）" in r.json()["detail"]
        # cut inside the file too: the same refusal
        body, headers = multipart(name, data)
        r = httpx.post(url, content=body[: len(body) // 2], headers={**auth, **headers})
        assert r.status_code == 400 and "不完整" in r.json()["detail"], r.text
    assert counts(session) == before and stored_files() == files_before

    # the same bodies, closed: kept
    body, headers = multipart("合同.pdf", pdf(1))
    assert httpx.post(evidence_url, content=body, headers={**dept, **headers}).status_code == 201
    body, headers = multipart("本校.csv", sheet)
    assert httpx.post(sheet_url, content=body, headers={**school, **headers}).status_code == 201
    assert counts(session) == (before[0] + 1, before[1] + 1)


def page_login(client: httpx.Client, username: str, page: str) -> str:
    """Log in through the form; the CSRF token of ``page``'s forms."""
    form = client.get("/login")
    r = client.post("/login", data={"username": username, "password": PASSWORD, "next": "/",
                                    "csrf_token": CSRF.search(form.text).group(1)})
    assert r.status_code in (200, 303), r.text
    return CSRF.search(client.get(page).text).group(1)


def test_the_page_uploads_refuse_a_cut_off_body_too(server, api_world, session):
    a = api_world.tasks["a"].id
    before = counts(session)
    with httpx.Client(base_url=server) as client:
        token = page_login(client, "dept_a", f"/tasks/{a}")
        body, headers = multipart("合同.pdf", pdf(2), close=False, extra={"csrf_token": token})
        r = client.post(f"/tasks/{a}/evidence", content=body, headers=headers)
        assert r.status_code == 400 and "上传内容不完整" in r.text
    with httpx.Client(base_url=server) as client:
        token = page_login(client, "office", "/data")
        body, headers = multipart("本校.csv", b"x", close=False, extra={"csrf_token": token})
        r = client.post("/data/upload", content=body, headers=headers)
        assert r.status_code == 400 and "上传内容不完整" in r.text
        # the page keeps the API's statuses: no extension 415
        body, headers = multipart("本校", b"x", extra={"csrf_token": token})
        r = client.post("/data/upload", content=body, headers=headers)
        assert r.status_code == 415 and "不是 .xlsx 或 .csv 文件" in r.text
    assert counts(session) == before


def test_invisible_characters_are_dropped_from_file_names(server, engine, api_world, session, tmp_path):
    a = api_world.tasks["a"].id
    dept, school = bearer(engine, api_world.users["dept_a"]), bearer(engine, api_world.users["school"])
    for n, (sent, kept) in enumerate([
        ("合同\u202efdp.pdf", "合同fdp.pdf"),  # RIGHT-TO-LEFT OVERRIDE: would read 合同pdf.fdp
        ("\u2066验收\u2069照片\u200b\u200d.pdf", "验收照片.pdf"),  # isolates, zero-width space and joiner
        ("\ufeff预算\u00ad表\u2028.pdf", "预算表.pdf"),  # BOM, soft hyphen, line separator
        ("方案\x85\x9b.pdf", "方案__.pdf"),  # C1 controls: replaced like the C0 ones
    ]):
        body, headers = multipart(sent, pdf(10 + n))
        r = httpx.post(f"{server}/api/v1/tasks/{a}/evidence", content=body, headers={**dept, **headers})
        assert r.status_code == 201, r.text
        assert r.json()["filename"] == kept
    # a name that only hid an .exe behind an override is refused for what it is
    body, headers = multipart("报告\u202efdp.exe", b"MZ\x90\x00")
    r = httpx.post(f"{server}/api/v1/tasks/{a}/evidence", content=body, headers={**dept, **headers})
    assert r.status_code == 415 and "「.exe」" in r.json()["detail"]

    body, headers = multipart("本校\u202e\u200b.csv", own_school_sheet(tmp_path))
    r = httpx.post(f"{server}/api/v1/campaigns/{api_world.code}/submissions", content=body,
                   headers={**school, **headers})
    assert r.status_code == 201, r.text
    assert r.json()["source_filename"] == "本校.csv"


def test_over_long_file_names_are_refused_naming_the_field(server, engine, api_world, session, tmp_path):
    a = api_world.tasks["a"].id
    dept, office = bearer(engine, api_world.users["dept_a"]), bearer(engine, api_world.users["office"])
    evidence_url = f"{server}/api/v1/tasks/{a}/evidence"
    sheet_url = f"{server}/api/v1/campaigns/{api_world.code}/submissions"
    before, files_before = counts(session), stored_files()
    over = "长" * 84 + "a.pdf"  # 252 + 5 = 257 bytes
    six_kb = "长" * 2048 + ".pdf"  # 6,148 bytes: past python-multipart's 4 KB header limit
    for name in (over, six_kb, "C:\\材料\\" + six_kb):
        for url, auth, filename in ((evidence_url, dept, name), (sheet_url, office, name[:-4] + ".csv")):
            body, headers = multipart(filename, pdf(20))
            r = httpx.post(url, content=body, headers={**auth, **headers})
            assert r.status_code == 400, r.text
            detail = r.json()["detail"]
            assert "字段「file」的文件名过长" in detail and "上限 255 字节" in detail, detail
    assert counts(session) == before and stored_files() == files_before

    # 255 bytes is within the limit (the name shown is then cut to 120 characters); a long
    # Windows path before a short name does not count
    exact = "长" * 83 + "ab.pdf"  # 249 + 6 = 255 bytes
    assert len(exact.encode()) == 255
    for n, name in enumerate((exact, "C:\\" + "创建材料目录\\" * 30 + "合同.pdf")):
        body, headers = multipart(name, pdf(30 + n))
        r = httpx.post(evidence_url, content=body, headers={**dept, **headers})
        assert r.status_code == 201, r.text
        assert r.json()["filename"].endswith(".pdf")


def test_statuses_are_defined(server, engine, api_world, session, tmp_path):
    a = api_world.tasks["a"].id
    dept, office = bearer(engine, api_world.users["dept_a"]), bearer(engine, api_world.users["office"])
    submissions = f"{server}/api/v1/campaigns/{api_world.code}/submissions"

    # 405 names every method the path takes
    r = httpx.request("OPTIONS", submissions, headers=office)
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, POST"
    r = httpx.delete(submissions, headers=office)
    assert r.status_code == 405 and "POST" in r.headers["allow"]

    # a file without an extension: 415 on both uploads; no file: 422 on both
    for url, auth in ((f"{server}/api/v1/tasks/{a}/evidence", dept), (submissions, office)):
        body, headers = multipart("合同", pdf(40))
        r = httpx.post(url, content=body, headers={**auth, **headers})
        assert r.status_code == 415, r.text
        body, headers = multipart("", b"")  # an empty file input
        r = httpx.post(url, content=body, headers={**auth, **headers})
        detail = r.json()["detail"]  # 没有收到文件（佐证材料）, 请求体 file：必须提供（数据表）
        assert r.status_code == 422 and ("没有收到文件" in detail or "file：必须提供" in detail), r.text

    # a reason of blanks is empty (422 "不能为空"), wherever the blank comes from
    for reason in ("\u00a0", " \u3000\u200b\ufeff ", "\u2003"):
        r = httpx.post(f"{server}/api/v1/tasks/{a}/withdraw", json={"reason": reason}, headers=office)
        assert r.status_code == 422, r.text
        assert "不能为空" in r.json()["problems"][0]["message"]
    r = httpx.post(f"{server}/api/v1/tasks/{a}/withdraw", json={"reason": "\u00a0方案调整\u3000"}, headers=office)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "已撤销"
