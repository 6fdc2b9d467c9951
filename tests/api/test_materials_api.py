"""资料清单 over the API and the pages (issue 13 §4): an upload tagged with its item (a wrong item
refused before the file is kept), tagging an existing file, the checklist with its missing items."""

from __future__ import annotations

from sqlmodel import select

from tests.api.test_evidence_api import stored_files
from tests.api.test_pages import log_in
from tests.tracker.evidence import samples
from tracker.materials.models import EvidenceMaterial


def _item(body: dict, indicator: str, item_id: str) -> dict:
    block = next(b for b in body["indicators"] if b["indicator"] == indicator)
    return next(i for i in block["items"] if i["id"] == item_id)


def test_an_upload_tagged_with_its_item_fills_the_checklist(client, headers, api_world, session):
    a = api_world.tasks["a"].id  # indicator 6, 财政局
    before = client.get("/api/v1/materials", params={"indicator": "6"}, headers=headers["office"]).json()
    assert before["illustrative"] is True and before["imported"] is False  # the shipped list
    assert _item(before, "6", "6-1") == {"id": "6-1", "title": "各校教学仪器设备资产账册（固定资产明细）",
                                         "required": True, "files": 0, "missing": True}

    kept = stored_files()
    r = client.post(f"/api/v1/tasks/{a}/evidence", headers=headers["dept_a"], data={"item": "5-1"},
                    files={"file": ("账册.pdf", samples.pdf() + b"x", "application/pdf")})
    assert r.status_code == 422 and "属于指标 5" in r.json()["detail"]
    assert stored_files() == kept  # refused before the file was kept

    r = client.post(f"/api/v1/tasks/{a}/evidence", headers=headers["dept_a"], data={"item": "6-1"},
                    files={"file": ("账册.pdf", samples.pdf() + b"x", "application/pdf")})
    assert r.status_code == 201, r.text
    after = client.get("/api/v1/materials", params={"indicator": "6"}, headers=headers["office"]).json()
    assert _item(after, "6", "6-1")["files"] == 1 and not _item(after, "6", "6-1")["missing"]
    assert after["missing_required"] == before["missing_required"] - 1
    missing = client.get("/api/v1/materials/missing", headers=headers["reviewer"]).json()
    assert "6-1" not in {m["item_id"] for m in missing} and "5-1" in {m["item_id"] for m in missing}
    assert client.get("/api/v1/materials", headers=headers["dept_a"]).status_code == 403

    # the file uploaded before (api_world's contract) tagged afterwards; a reviewer may not
    old = api_world.evidence["a"].id
    r = client.put(f"/api/v1/evidence/{old}/item", json={"item": "6-2"}, headers=headers["office"])
    assert r.status_code == 200 and r.json() == {"evidence_id": old, "item": "6-2"}
    assert client.put(f"/api/v1/evidence/{old}/item", json={"item": "6-1"}, headers=headers["reviewer"]).status_code == 403
    assert client.put(f"/api/v1/evidence/{old}/item", json={"item": "6-1"}, headers=headers["school"]).status_code == 403
    session.expire_all()
    assert session.get(EvidenceMaterial, old).item_id == "6-2"
    r = client.put(f"/api/v1/evidence/{old}/item", json={"item": None}, headers=headers["office"])
    assert r.json()["item"] is None
    session.expire_all()
    assert session.exec(select(EvidenceMaterial).where(EvidenceMaterial.evidence_id == old)).first() is None


def test_the_pages_show_the_checklist_and_tag_a_file(client, api_world, session):
    a = api_world.tasks["a"].id
    old = api_world.evidence["a"].id
    token = log_in(client, "office")
    page = client.get("/materials")
    assert page.status_code == 200
    assert "示例清单（非官方）" in page.text and "各校教学仪器设备资产账册" in page.text and "缺" in page.text
    task_page = client.get(f"/tasks/{a}")
    assert 'name="item"' in task_page.text and "6-1 各校教学仪器设备资产账册" in task_page.text
    assert "5-1" not in task_page.text  # only indicator 6's items for a task of indicator 6
    r = client.post(f"/evidence/{old}/item", data={"csrf_token": token, "item": "6-1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/tasks/{a}#evidence"
    session.expire_all()
    assert session.get(EvidenceMaterial, old).item_id == "6-1"
    assert "6-1 各校教学仪器设备资产账册（固定资产明细）" in client.get(f"/tasks/{a}").text
    log_in(client, "dept_a")
    assert client.get("/materials").status_code == 403
