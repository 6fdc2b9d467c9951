"""Backup and restore round trips on SQLite and PostgreSQL: every table's rows and the evidence
bytes come back; a damaged or foreign archive, or a newer one, changes nothing."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import tarfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from junheng.cli import app
from tests.conftest import POSTGRES_URL
from tests.factories_db import build_world
from tracker import db as tracker_db
from tracker.backup import SKIPPED_TABLES, BackupError, create_backup, restore_backup
from tracker.db import session_scope
from tracker.evidence.service import add_evidence
from tracker.evidence.storage import store_bytes
from tracker.notices.models import AttachmentContent
from tracker.settings import get_settings
from tracker.tasks.service import create_task  # noqa: F401  (the world's tasks go through it)

NOW = dt.datetime(2026, 12, 14, 2, 30, tzinfo=dt.timezone.utc)  # 10:30 in Beijing
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
STANDARD = "id: shiyan-2026\nname: 试验省标准\n"


def _fill(engine, data_dir: Path) -> str:
    """A campaign with tasks (their events), an assessment (JSON), binary attachment bytes, an
    evidence file and a county standard file; the evidence file's sha256."""
    with session_scope(engine) as session:
        world = build_world(session)
        first = world.task(session, "t1", title="教学仪器设备值达标")
        world.task(session, "t2", unit="城关一小", title="音乐专用教室")
        world.assessment(session)
        stored = store_bytes("验收报告.pdf", PDF, root=data_dir / "evidence")
        add_evidence(session, first, stored, uploaded_by="李科长")
        session.add(AttachmentContent(sha256="ab" * 32, size=4, data=b"\x00\xff\x10\x5c"))
    (data_dir / "standards").mkdir(parents=True, exist_ok=True)
    (data_dir / "standards" / "shiyan-2026.yaml").write_text(STANDARD, encoding="utf-8")
    return stored.sha256


def _rows(url: str) -> dict[str, list[tuple]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            metadata = sa.MetaData()
            metadata.reflect(conn)
            return {t.name: sorted(tuple(map(repr, row)) for row in conn.execute(sa.select(t)))
                    for t in metadata.sorted_tables if t.name not in SKIPPED_TABLES}
    finally:
        engine.dispose()


@pytest.fixture
def fresh_url(db_url, tmp_path):
    """An empty database of the same kind as ``db_url``, never migrated."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"junheng_restore_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    tracker_db.get_engine.cache_clear()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_round_trip_restores_every_row_and_the_evidence_bytes(engine, db_url, fresh_url, tmp_path):
    data_dir = get_settings().data_dir
    sha = _fill(engine, data_dir)
    archive = tmp_path / "backup.tar.gz"
    report = create_backup(db_url, data_dir, archive, now=NOW)

    manifest = report.manifest
    assert manifest["format"] == "junheng-backup"
    assert manifest["alembic_revision"] == tracker_db_head()
    assert manifest["created_at_beijing"] == "2026-12-14 10:30:00"
    assert manifest["database"]["kind"] == ("sqlite" if db_url.startswith("sqlite") else "postgresql")
    assert manifest["database"]["tables"]["task"] == 2 and manifest["database"]["tables"]["evidence"] == 1
    assert manifest["database"]["tables"]["event"] >= 3  # two tasks created, one evidence added
    assert manifest["files"][f"evidence/{sha[:2]}/{sha[2:4]}/{sha}"]["sha256"] == sha
    assert "apscheduler_jobs" not in manifest["database"]["tables"]

    new_data = tmp_path / "restored-data"
    restored = restore_backup(archive, fresh_url, new_data)
    assert restored.evidence_files == 1 and restored.standards_files == 1 and not restored.replaced

    before, after = _rows(db_url), _rows(fresh_url)
    assert set(before) == set(after)
    assert before == after
    assert (new_data / "evidence" / sha[:2] / sha[2:4] / sha).read_bytes() == PDF
    assert (new_data / "standards" / "shiyan-2026.yaml").read_text(encoding="utf-8") == STANDARD

    # ids go on from the restored ones (PostgreSQL sequences were set), the schema is at head
    restored_engine = tracker_db.make_engine(fresh_url)
    try:
        with session_scope(restored_engine) as session:
            world = build_world(session, code="second")
            task = world.task(session, "t3")
            assert task.id == 3
        with restored_engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == tracker_db_head()
    finally:
        restored_engine.dispose()


def tracker_db_head() -> str:
    from tracker.backup import code_head_revision

    return code_head_revision()


def _tamper(archive: Path, out: Path, *, manifest_change=None, member_change=None) -> Path:
    with tarfile.open(archive) as source, tarfile.open(out, "w:gz") as target:
        for member in source:
            data = source.extractfile(member).read()
            if member.name == "manifest.json" and manifest_change:
                manifest = json.loads(data)
                manifest_change(manifest)
                data = json.dumps(manifest).encode()
            elif member_change and member.name.startswith(member_change[0]):
                data = member_change[1](data)
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    return out


def _state(url: str, data_dir: Path) -> tuple:
    files = sorted((p.relative_to(data_dir).as_posix(), hashlib.sha256(p.read_bytes()).hexdigest())
                   for p in data_dir.rglob("*") if p.is_file()) if data_dir.exists() else []
    return _rows(url), files


def test_bad_archives_and_a_database_with_data_change_nothing(engine, db_url, fresh_url, tmp_path):
    data_dir = get_settings().data_dir
    _fill(engine, data_dir)
    archive = create_backup(db_url, data_dir, tmp_path / "good.tar.gz", now=NOW).path

    # the target already holds a campaign of its own
    tracker_db.migrate(fresh_url)
    target_data = tmp_path / "target-data"
    other = tracker_db.make_engine(fresh_url)
    try:
        with session_scope(other) as session:
            build_world(session, code="other").task(session, "x")
        (target_data / "standards").mkdir(parents=True)
        (target_data / "standards" / "keep.yaml").write_text("id: keep\n", encoding="utf-8")
    finally:
        other.dispose()
    before = _state(fresh_url, target_data)

    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    flipped = _tamper(archive, tmp_path / "flipped.tar.gz",
                      member_change=("evidence/", lambda data: data[:-1] + bytes([data[-1] ^ 1])))
    newer = _tamper(archive, tmp_path / "newer.tar.gz",
                    manifest_change=lambda m: m.update(alembic_revision="9999_from_the_future"))
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        info = tarfile.TarInfo("etc/passwd")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"root"))
    not_even_tar = tmp_path / "notes.tar.gz"
    not_even_tar.write_bytes(gzip.compress("这不是备份".encode()))

    cases = {
        truncated: "无法读取压缩包",
        flipped: "校验值（sha256）与清单不符",
        newer: "比本程序新",
        foreign: "包含不属于备份的内容「etc/passwd」",
        not_even_tar: "无法读取压缩包",
        archive: "目标数据库中已有数据",  # a good archive, but --yes not given
    }
    for path, words in cases.items():
        with pytest.raises(BackupError) as caught:
            restore_backup(path, fresh_url, target_data)
        assert words in str(caught.value), (path.name, str(caught.value))
        assert "未作任何改动" in str(caught.value)
        assert _state(fresh_url, target_data) == before, path.name

    replaced = restore_backup(archive, fresh_url, target_data, force=True)
    assert replaced.replaced
    assert _rows(fresh_url) == _rows(db_url)
    assert (target_data / "standards" / "keep.yaml").is_file()  # files of its own are left alone


def test_the_commands(engine, db_url, tmp_path, monkeypatch):
    data_dir = get_settings().data_dir
    sha = _fill(engine, data_dir)
    runner = CliRunner()
    archive = tmp_path / "每周备份.tar.gz"
    made = runner.invoke(app, ["backup", "--out", str(archive)])
    assert made.exit_code == 0, made.output
    assert "已备份到" in made.output and "任务 2 项" in made.output and "佐证材料文件：1 个" in made.output
    again = runner.invoke(app, ["backup", "--out", str(archive)])
    assert again.exit_code == 2 and "备份文件已存在" in again.output

    refused = runner.invoke(app, ["restore", str(archive)])
    assert refused.exit_code == 2 and "加 --yes" in refused.output
    # lose the evidence file, then restore over the same database with --yes
    (data_dir / "evidence" / sha[:2] / sha[2:4] / sha).unlink()
    done = runner.invoke(app, ["restore", str(archive), "--yes"])
    assert done.exit_code == 0, done.output
    assert "原有数据已被替换" in done.output and "佐证材料文件：1 个" in done.output
    assert (data_dir / "evidence" / sha[:2] / sha[2:4] / sha).read_bytes() == PDF
    missing = runner.invoke(app, ["restore", str(tmp_path / "nothing.tar.gz")])
    assert missing.exit_code == 2 and "备份文件不存在" in missing.output


def test_a_backup_taken_while_tasks_are_being_written_is_one_moment(engine, db_url, fresh_url, tmp_path):
    """A writer keeps creating tasks (each with its task.created event, in one transaction) while
    backups are taken: every archive restores with its counts, and every task with its event."""
    import threading

    data_dir = get_settings().data_dir
    with session_scope(engine) as session:
        world = build_world(session)
    stop = threading.Event()
    written = []

    def writer() -> None:
        number = 0
        while not stop.is_set():
            with session_scope(engine) as session:
                world.task(session, f"w{number}")
            number += 1
            written.append(number)

    thread = threading.Thread(target=writer)
    thread.start()
    archives = []
    try:
        while len(written) < 5:  # the writer is under way
            stop.wait(0.01)
        for n in range(3):
            archives.append(create_backup(db_url, data_dir, tmp_path / f"live-{n}.tar.gz", now=NOW).path)
    finally:
        stop.set()
        thread.join()
    counts = []
    for archive in archives:
        restore_backup(archive, fresh_url, tmp_path / "restored-data", force=True)  # checks the counts too
        check = sa.create_engine(fresh_url)
        try:
            with check.connect() as conn:
                tasks = conn.execute(sa.text("SELECT count(*) FROM task")).scalar_one()
                orphans = conn.execute(sa.text(
                    "SELECT count(*) FROM task t WHERE NOT EXISTS (SELECT 1 FROM event e "
                    "WHERE e.task_id = t.id AND e.type = 'task.created')")).scalar_one()
        finally:
            check.dispose()
        assert orphans == 0
        counts.append(tasks)
    assert counts == sorted(counts) and counts[-1] <= len(written)
