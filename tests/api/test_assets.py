"""The pages load nothing from outside the app: ECharts is the vendored copy under
api/static/vendor/echarts (with its licence), never a CDN, and no template or script of ours names
another site."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tests.api.test_pages import log_in

API = Path(__file__).resolve().parents[2] / "api"
VENDOR = API / "static" / "vendor"
# an address of another site: a scheme, or a protocol-relative //host
EXTERNAL = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}|\bcdn\b""", re.IGNORECASE)
ASSET = re.compile(r"""<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def own_files() -> list[Path]:
    files = [*(API / "templates").rglob("*.html"), *(API / "static").rglob("*.js"), *(API / "static").rglob("*.css")]
    return [f for f in files if VENDOR not in f.parents]


def test_no_template_or_script_of_ours_names_another_site():
    files = own_files()
    assert any(f.name == "layout.html" for f in files) and any(f.name == "charts.js" for f in files)
    found = [f"{f.relative_to(API)}: {m.group(0)}" for f in files
             for m in EXTERNAL.finditer(f.read_text(encoding="utf-8"))]
    assert not found, found


def test_echarts_is_the_vendored_copy_with_its_licence():
    folder = VENDOR / "echarts"
    version = (folder / "VERSION").read_text(encoding="utf-8")
    recorded = re.search(r"sha256 of echarts.min.js: ([0-9a-f]{64})", version).group(1)
    assert hashlib.sha256((folder / "echarts.min.js").read_bytes()).hexdigest() == recorded
    assert "Apache License" in (folder / "LICENSE").read_text(encoding="utf-8")
    assert (folder / "NOTICE").is_file()


def test_every_asset_a_page_loads_is_the_apps_own(client, api_world):
    log_in(client, "office")
    pages = ["/overview", "/indicators", "/tasks", f"/tasks/{api_world.tasks['a'].id}", "/data", "/departments",
             "/briefings", "/login"]
    seen = set()
    for path in pages:
        html = client.get(path).text
        for src in ASSET.findall(html):
            assert src.startswith("/") and not src.startswith("//"), (path, src)
            seen.add(src)
    assert {"/static/app.css", "/static/vendor/echarts/echarts.min.js", "/static/charts.js"} <= seen
    for src in seen:
        assert client.get(src).status_code == 200, src
