"""Every error is JSON with a Chinese message under /api (a short page elsewhere), never a stack
trace: unknown addresses, wrong methods, bad bodies, and a bug in a route."""

from __future__ import annotations

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from tracker.errors import ErrorDetail, ErrorKind, JunhengError

boom = APIRouter()


@boom.get("/api/v1/_boom")
@boom.get("/_boom")
def explode() -> dict:
    raise RuntimeError("internal detail that must not leak")


@boom.get("/api/v1/_domain/{kind}")
@boom.get("/_domain/{kind}")
def domain_error(kind: str) -> dict:
    """A room's error of any kind, as a route lets it go."""
    if kind == "rows":
        raise JunhengError("表格有 2 处问题：\n第 3 行…\n第 4 行…", summary="表格有 2 处问题",
                           details=[ErrorDetail("第 3 行「学生数」：应为整数", row=3, column="学生数"),
                                    ErrorDetail("分工.27.牵头：未知的单位", location="分工.27.牵头")])
    raise JunhengError(f"出错了：{kind}", kind=ErrorKind(kind))


@pytest.fixture
def app_client(db_url):
    from api.app import create_app

    app = create_app()
    app.include_router(boom)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_a_bug_answers_500_in_chinese_without_the_traceback(app_client):
    r = app_client.get("/api/v1/_boom")
    assert r.status_code == 500
    assert r.json() == {"detail": "服务器内部错误，已记录；请稍后再试或联系管理员", "problems": []}
    page = app_client.get("/_boom")
    assert page.status_code == 500 and "服务器内部错误" in page.text
    for text in (r.text, page.text):
        assert "internal detail" not in text and "Traceback" not in text and "RuntimeError" not in text


@pytest.mark.parametrize(("kind", "status"), [
    ("invalid", 422), ("bad_request", 400), ("not_found", 404), ("conflict", 409), ("forbidden", 403),
    ("unsupported", 415), ("too_large", 413), ("unavailable", 503)])
def test_one_handler_answers_each_kind_of_domain_error_with_its_status(app_client, kind, status, caplog):
    r = app_client.get(f"/api/v1/_domain/{kind}")
    assert r.status_code == status
    assert r.json() == {"detail": f"出错了：{kind}", "kind": kind, "problems": []}
    page = app_client.get(f"/_domain/{kind}")
    assert page.status_code == status and "text/html" in page.headers["content-type"]
    assert f"出错了：{kind}" in page.text and "Traceback" not in page.text
    refused = [r for r in caplog.records if r.name == "junheng.access"]
    assert bool(refused) is (kind == "forbidden")  # a refusal is logged, nothing else


def test_a_domain_error_lists_its_problems_under_its_summary(app_client):
    r = app_client.get("/api/v1/_domain/rows")
    assert r.status_code == 422
    assert r.json() == {"detail": "表格有 2 处问题", "kind": "invalid", "problems": [
        {"message": "第 3 行「学生数」：应为整数", "location": None, "row": 3, "column": "学生数"},
        {"message": "分工.27.牵头：未知的单位", "location": "分工.27.牵头", "row": None, "column": None}]}


def test_unknown_addresses_wrong_methods_and_bad_bodies(app_client, headers, api_world):
    r = app_client.get("/api/v1/no-such-thing")
    assert (r.status_code, r.json()["detail"]) == (404, "未找到所请求的地址")
    r = app_client.put(f"/api/v1/tasks/{api_world.tasks['a'].id}", headers=headers["office"])
    assert (r.status_code, r.json()["detail"]) == (405, "该地址不支持此请求方法")

    url = f"/api/v1/tasks/{api_world.tasks['a'].id}/return"
    r = app_client.post(url, headers={**headers["office"], "Content-Type": "application/json"}, content=b"{not json")
    assert r.status_code == 422 and r.json()["problems"][0]["location"].startswith("body")
    r = app_client.post(url, headers={**headers["office"], "Content-Type": "application/json"}, content=b"\xff\xfe")
    assert r.status_code in (400, 422) and "请求" in r.json()["detail"]
    r = app_client.post(url, headers=headers["office"], json={"reason": "ok", "extra": 1})
    assert r.status_code == 422 and "不认识的字段" in r.json()["problems"][0]["message"]
    r = app_client.get(f"/api/v1/tasks/{2**40}", headers=headers["office"])
    assert r.status_code == 422 and "不能大于" in r.json()["problems"][0]["message"]


def test_a_bad_sheet_is_refused_row_by_row_and_nothing_is_stored(client, headers, api_world, tmp_path, session):
    from sqlmodel import select

    from tests.factories import make_school_rows, write_csv
    from tracker.schooldata.models import DataSubmission

    rows = make_school_rows(4, seed=3)
    rows[1]["小学在校生数"] = "很多"
    rows[2]["学校类型"] = "大学"
    sheet = write_csv(tmp_path / "bad.csv", rows)
    before = len(session.exec(select(DataSubmission)).all())
    r = client.post(f"/api/v1/campaigns/{api_world.code}/submissions", headers=headers["office"],
                    files={"file": ("自查数据.csv", sheet.read_bytes(), "text/csv")}, data={"label": "自查"})
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["kind"] == "invalid"
    assert "自查数据.csv" in body["detail"] and "未导入任何数据" in body["detail"]
    assert {(p["row"], p["column"]) for p in body["problems"]} >= {(3, "小学在校生数"), (4, "学校类型")}
    assert all(p["message"] for p in body["problems"])
    session.expire_all()
    assert len(session.exec(select(DataSubmission)).all()) == before

    r = client.post(f"/api/v1/campaigns/{api_world.code}/submissions", headers=headers["office"],
                    files={"file": ("../../etc/数据.txt", b"x", "text/plain")})
    assert r.status_code == 415 and "不是 .xlsx 或 .csv 文件" in r.json()["detail"]

    good = write_csv(tmp_path / "good.csv", make_school_rows(4, seed=3))
    r = client.post(f"/api/v1/campaigns/{api_world.code}/submissions", headers=headers["office"],
                    files={"file": ("../子目录/自查数据.csv", good.read_bytes(), "text/csv")}, data={"label": "自查"})
    assert r.status_code == 201, r.text
    assert (r.json()["source_filename"], r.json()["school_count"], r.json()["submitted_by"]) == (
        "自查数据.csv", 4, "王主任")
