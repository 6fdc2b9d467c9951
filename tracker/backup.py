"""Backup and restore: one archive holding the database and the files the database refers to.

An archive is a ``.tar.gz`` with

    manifest.json                 what is inside: format, Alembic revision, time, database kind,
                                  rows per table, sha256 and size of every other member
    database/junheng.sqlite3      SQLite: a snapshot made with SQLite's online backup API
    database/<table>.copy         PostgreSQL: each table as ``COPY … TO STDOUT`` text, all read in
                                  one REPEATABLE READ transaction (one consistent moment)
    evidence/ab/cd/<sha256>       the 佐证材料 files the snapshot's ``evidence`` rows name
    standards/<id>.yaml           the county's own standards from ``<data_dir>/standards``

Both ways are consistent while the system keeps serving: the SQLite backup API copies a
transaction-consistent image, and PostgreSQL's snapshot sees no later commit. Evidence files are
stored by content and never rewritten, so the files named by the snapshot are exactly the right
bytes, whenever they are read. The PostgreSQL dump uses psycopg's COPY, not ``pg_dump``, so it
does not depend on a client binary matching the server's version.

Restoring checks the whole archive first (format, every member's sha256, the revision being one
this code knows, the kind of database), and only then changes anything. It refuses a target that
holds data unless told to replace it. The database is brought to the archive's revision, loaded,
its row counts compared with the manifest, then migrated to the code's head; on PostgreSQL all of
that is one transaction. Across kinds (a SQLite archive into PostgreSQL) is not supported.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from tracker.clock import local_time
from tracker.db import FOREIGN_TABLES, alembic_config, make_engine
from tracker.evidence.storage import stored_path
from tracker.errors import JunhengError

FORMAT = "junheng-backup"
FORMAT_VERSION = 1
# not the app's data: Alembic's own bookkeeping (kept in the manifest), APScheduler's job table
# (the scheduler writes its jobs again when it starts)
SKIPPED_TABLES = FOREIGN_TABLES | {"alembic_version"}
SQLITE_MEMBER = "database/junheng.sqlite3"
_MEMBER = re.compile(r"^(manifest\.json|database/[a-z0-9_]+\.(copy|sqlite3)|evidence/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}"
                     r"|standards/[^/\\]+\.ya?ml)$")
_CHUNK = 1 << 20


class BackupError(JunhengError):
    """Why a backup or restore could not be done (Chinese); nothing was changed."""


@dataclass
class BackupReport:
    path: Path
    manifest: dict
    missing_evidence: list[str] = field(default_factory=list)


@dataclass
class RestoreReport:
    manifest: dict
    tables: dict[str, int]
    evidence_files: int
    standards_files: int
    replaced: bool  # the target held data and was replaced (--yes)


# -- shared -----------------------------------------------------------------------------------------

def database_kind(url: str) -> str:
    backend = make_url(url).get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise BackupError(f"不支持的数据库「{backend}」：备份与恢复只支持 SQLite 和 PostgreSQL。")
    return backend


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("内存中的 SQLite 数据库无法备份或恢复：请使用数据库文件。")
    return Path(database)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def code_head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        return ScriptDirectory.from_config(alembic_config("sqlite://")).get_revision(revision) is not None
    except CommandError:
        return False


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("junheng")
    except PackageNotFoundError:
        return "未知"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# -- backup -----------------------------------------------------------------------------------------

def _sqlite_snapshot(url: str, target: Path) -> tuple[str, dict[str, int], list[str]]:
    """Copy the live database into ``target`` with the online backup API; its revision, row
    counts per table and the evidence hashes it names."""
    source_path = _sqlite_path(url)
    if not source_path.is_file():
        raise BackupError(f"数据库文件不存在：{source_path}")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    snapshot = sqlite3.connect(target)
    try:
        source.backup(snapshot)
    finally:
        source.close()
    try:
        for table in FOREIGN_TABLES:
            snapshot.execute(f"DROP TABLE IF EXISTS {_quote(table)}")
        snapshot.commit()
        snapshot.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        names = [r[0] for r in snapshot.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        if "alembic_version" not in names:
            raise BackupError("数据库尚未建立表结构（没有迁移记录），无可备份的内容。")
        revision = snapshot.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        counts = {n: snapshot.execute(f"SELECT count(*) FROM {_quote(n)}").fetchone()[0]
                  for n in names if n not in SKIPPED_TABLES}
        hashes = [r[0] for r in snapshot.execute("SELECT DISTINCT sha256 FROM evidence ORDER BY sha256")] \
            if "evidence" in names else []
    finally:
        snapshot.close()
    return revision, counts, hashes


def _psycopg_connect(url: str):
    import psycopg

    parsed = make_url(url).set(drivername="postgresql")
    return psycopg.connect(parsed.render_as_string(hide_password=False))


def _postgres_tables(cur) -> list[str]:
    cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename")
    return [r[0] for r in cur.fetchall()]


def _postgres_columns(cur, table: str) -> list[str]:
    cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = %s ORDER BY ordinal_position", (table,))
    return [r[0] for r in cur.fetchall()]


def _postgres_dump(url: str, folder: Path) -> tuple[str, dict[str, int], dict[str, list[str]], list[str]]:
    """Every app table as COPY text into ``folder``, all in one REPEATABLE READ read-only
    transaction; its revision, counts, column lists and the evidence hashes it names."""
    import psycopg

    with _psycopg_connect(url) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.transaction(), conn.cursor() as cur:
            names = _postgres_tables(cur)
            if "alembic_version" not in names:
                raise BackupError("数据库尚未建立表结构（没有迁移记录），无可备份的内容。")
            cur.execute("SELECT version_num FROM alembic_version")
            revision = cur.fetchone()[0]
            counts: dict[str, int] = {}
            columns: dict[str, list[str]] = {}
            for table in names:
                if table in SKIPPED_TABLES:
                    continue
                columns[table] = _postgres_columns(cur, table)
                cur.execute(f"SELECT count(*) FROM {_quote(table)}")
                counts[table] = cur.fetchone()[0]
                column_list = ", ".join(_quote(c) for c in columns[table])
                with (folder / f"{table}.copy").open("wb") as out, \
                        cur.copy(f"COPY {_quote(table)} ({column_list}) TO STDOUT") as copy:
                    for data in copy:
                        out.write(data)
            hashes: list[str] = []
            if "evidence" in names:
                cur.execute("SELECT DISTINCT sha256 FROM evidence ORDER BY sha256")
                hashes = [r[0] for r in cur.fetchall()]
    return revision, counts, columns, hashes


def create_backup(url: str, data_dir: Path, out: Path, *, now: dt.datetime | None = None) -> BackupReport:
    """Write one archive of the database at ``url`` and its files under ``data_dir`` to ``out``
    (written beside it first and renamed, so ``out`` is whole or absent)."""
    kind = database_kind(url)
    now = now or dt.datetime.now(dt.timezone.utc)
    if out.exists():
        raise BackupError(f"备份文件已存在：{out}（请换一个文件名，不会覆盖已有的备份）")
    if not out.parent.is_dir():
        raise BackupError(f"备份文件所在的目录不存在：{out.parent}")
    members: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(prefix="junheng-backup-", dir=out.parent) as work:
        work_dir = Path(work)
        columns: dict[str, list[str]] = {}
        if kind == "sqlite":
            revision, counts, hashes = _sqlite_snapshot(url, work_dir / "junheng.sqlite3")
            members[SQLITE_MEMBER] = work_dir / "junheng.sqlite3"
        else:
            (work_dir / "database").mkdir()
            revision, counts, columns, hashes = _postgres_dump(url, work_dir / "database")
            for table in counts:
                members[f"database/{table}.copy"] = work_dir / "database" / f"{table}.copy"
        missing: list[str] = []
        root = data_dir / "evidence"
        for sha in hashes:
            path = stored_path(sha, root)
            if path.is_file():
                members[f"evidence/{sha[:2]}/{sha[2:4]}/{sha}"] = path
            else:
                missing.append(sha)
        standards = data_dir / "standards"
        if standards.is_dir():
            for path in sorted(standards.iterdir()):
                if path.is_file() and path.suffix in (".yaml", ".yml"):
                    members[f"standards/{path.name}"] = path
        files = {}
        for name, path in members.items():
            files[name] = {"sha256": _sha256_file(path), "size": path.stat().st_size}
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "junheng_version": _version(),
            "alembic_revision": revision,
            "created_at": now.astimezone(dt.timezone.utc).isoformat(),
            "created_at_beijing": local_time(now).strftime("%Y-%m-%d %H:%M:%S"),
            "database": {"kind": kind, "tables": counts, "columns": columns},
            "evidence_files": sum(1 for n in members if n.startswith("evidence/")),
            "missing_evidence": missing,
            "files": files,
        }
        partial = out.with_name(out.name + ".part")
        try:
            with tarfile.open(partial, "w:gz") as archive:
                data = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
                info = tarfile.TarInfo("manifest.json")
                info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o644
                archive.addfile(info, io.BytesIO(data))
                for name, path in members.items():
                    info = archive.gettarinfo(str(path), arcname=name)
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    info.mode = 0o644
                    with path.open("rb") as fh:
                        archive.addfile(info, fh)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    return BackupReport(out, manifest, missing)


# -- restore ----------------------------------------------------------------------------------------

def _foreign(path: Path, why: str) -> BackupError:
    return BackupError(f"文件「{path.name}」不是可用的均衡督办备份：{why}。未作任何改动。")


def read_archive(path: Path, into: Path) -> dict:
    """Unpack ``path`` into the folder ``into`` and check it whole; the manifest. Raises
    BackupError for anything but an intact archive of ours."""
    if not path.is_file():
        raise BackupError(f"备份文件不存在：{path}")
    try:
        with tarfile.open(path, "r:*") as archive:
            for member in archive:
                if not member.isfile() or not _MEMBER.match(member.name):
                    raise _foreign(path, f"包含不属于备份的内容「{member.name}」")
                archive.extract(member, into, filter="data")
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise _foreign(path, f"无法读取压缩包（{exc}），文件可能已损坏或不完整") from None
    manifest_path = into / "manifest.json"
    if not manifest_path.is_file():
        raise _foreign(path, "缺少 manifest.json")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise _foreign(path, "manifest.json 无法解析") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _foreign(path, "manifest.json 不是均衡督办备份的说明")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _foreign(path, f"备份格式版本 {manifest.get('format_version')} 不受本程序支持（支持 {FORMAT_VERSION}）")
    files = manifest.get("files")
    database = manifest.get("database")
    if not isinstance(files, dict) or not isinstance(database, dict) or not isinstance(database.get("tables"), dict):
        raise _foreign(path, "manifest.json 缺少文件或数据表清单")
    present = {p.relative_to(into).as_posix() for p in into.rglob("*") if p.is_file()} - {"manifest.json"}
    if present != set(files):
        absent, extra = sorted(set(files) - present), sorted(present - set(files))
        raise _foreign(path, "文件与清单不符" + (f"，缺少 {'、'.join(absent[:5])}" if absent else "")
                       + (f"，多出 {'、'.join(extra[:5])}" if extra else ""))
    for name, expected in files.items():
        actual = _sha256_file(into / name)
        if not isinstance(expected, dict) or actual != expected.get("sha256"):
            raise _foreign(path, f"「{name}」的校验值（sha256）与清单不符，文件已损坏")
        if name.startswith("evidence/") and actual != name.rsplit("/", 1)[1]:
            raise _foreign(path, f"佐证材料「{name}」的内容与文件名不符")
    kind = database.get("kind")
    if kind == "sqlite" and SQLITE_MEMBER not in files:
        raise _foreign(path, "缺少 SQLite 数据库文件")
    if kind == "postgresql" and any(f"database/{t}.copy" not in files for t in database["tables"]):
        raise _foreign(path, "缺少数据表文件")
    if kind not in ("sqlite", "postgresql"):
        raise _foreign(path, f"未知的数据库类型「{kind}」")
    return manifest


def _check_revision(manifest: dict) -> str:
    revision = manifest.get("alembic_revision")
    if not isinstance(revision, str) or not _known_revision(revision):
        raise BackupError(
            f"备份的数据库结构版本（{revision}）比本程序新，或不属于本程序（本程序最新为 {code_head_revision()}）："
            f"请先把均衡督办升级到制作备份时的版本（{manifest.get('junheng_version', '未知')}）或更新，再恢复。未作任何改动。")
    return revision


def _rows_in(conn: sa.Connection) -> dict[str, int]:
    """Rows per app table in the database behind ``conn`` (tables it has; none when unmigrated)."""
    names = [n for n in sa.inspect(conn).get_table_names() if n not in SKIPPED_TABLES]
    return {n: conn.execute(sa.text(f"SELECT count(*) FROM {_quote(n)}")).scalar_one() for n in names}


def _refuse_data(rows: dict[str, int], force: bool) -> bool:
    holding = {n: c for n, c in rows.items() if c}
    if holding and not force:
        sample = "、".join(f"{n} {c} 行" for n, c in sorted(holding.items())[:5])
        raise BackupError(f"目标数据库中已有数据（{sample}{' 等' if len(holding) > 5 else ''}）：恢复会用备份替换全部数据。"
                          "确认要替换时，加 --yes 再运行。未作任何改动。")
    return bool(holding)


def _restore_files(folder: Path, data_dir: Path) -> tuple[int, int]:
    evidence = standards = 0
    source = folder / "evidence"
    if source.is_dir():
        for path in sorted(source.rglob("*")):
            if not path.is_file():
                continue
            target = stored_path(path.name, data_dir / "evidence")
            target.parent.mkdir(parents=True, exist_ok=True)
            if not (target.is_file() and _sha256_file(target) == path.name):
                shutil.copyfile(path, target.with_name(target.name + ".part"))
                os.replace(target.with_name(target.name + ".part"), target)
            evidence += 1
    source = folder / "standards"
    if source.is_dir():
        (data_dir / "standards").mkdir(parents=True, exist_ok=True)
        for path in sorted(source.iterdir()):
            shutil.copyfile(path, data_dir / "standards" / path.name)
            standards += 1
    return evidence, standards


def _compare_counts(loaded: dict[str, int], manifest: dict) -> None:
    expected = manifest["database"]["tables"]
    wrong = {n: (loaded.get(n), c) for n, c in expected.items() if loaded.get(n) != c}
    if wrong:
        text = "；".join(f"{n}：恢复 {got} 行，备份 {want} 行" for n, (got, want) in sorted(wrong.items()))
        raise BackupError(f"恢复后的行数与备份清单不符（{text}），已撤销恢复。")


def _restore_sqlite(folder: Path, manifest: dict, url: str, force: bool) -> tuple[dict[str, int], bool]:
    from alembic import command

    target_path = _sqlite_path(url)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            replaced = _refuse_data(_rows_in(conn), force)
    finally:
        engine.dispose()
    snapshot = sqlite3.connect(folder / SQLITE_MEMBER)
    target = sqlite3.connect(target_path, timeout=30)
    try:
        loaded = {n: snapshot.execute(f"SELECT count(*) FROM {_quote(n)}").fetchone()[0]
                  for n in manifest["database"]["tables"]}
        _compare_counts(loaded, manifest)
        snapshot.backup(target)  # replaces the target's every page, under its lock
    finally:
        snapshot.close()
        target.close()
    command.upgrade(alembic_config(url), "head")
    return loaded, replaced


def _sorted_tables(conn: sa.Connection) -> list[str]:
    metadata = sa.MetaData()
    metadata.reflect(conn)
    return [t.name for t in metadata.sorted_tables if t.name not in SKIPPED_TABLES]


def _restore_postgres(folder: Path, manifest: dict, url: str, force: bool) -> tuple[dict[str, int], bool]:
    """All in one transaction: drop the app's tables, build the archive's revision, COPY the rows
    in, set the id sequences, check the counts, migrate to head."""
    from alembic import command

    revision = manifest["alembic_revision"]
    columns: dict[str, list[str]] = manifest["database"].get("columns") or {}
    engine = make_engine(url)
    try:
        with engine.connect() as conn, conn.begin():
            replaced = _refuse_data(_rows_in(conn), force)
            for name in sa.inspect(conn).get_table_names():
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {_quote(name)} CASCADE"))
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            raw = conn.connection.driver_connection
            loaded: dict[str, int] = {}
            tables = _sorted_tables(conn)
            # the rows go in exactly as dumped: triggers (the task tallies) stay off while they load,
            # or the tallies would count every task twice (the dumped tally rows and the trigger's)
            for table in tables:
                conn.execute(sa.text(f"ALTER TABLE {_quote(table)} DISABLE TRIGGER USER"))
            with raw.cursor() as cur:
                for table in tables:
                    if table not in manifest["database"]["tables"]:
                        raise BackupError(f"备份缺少数据表「{table}」，无法恢复。未作任何改动。")
                    names = columns.get(table) or _postgres_columns(cur, table)
                    column_list = ", ".join(_quote(c) for c in names)
                    with (folder / "database" / f"{table}.copy").open("rb") as source, \
                            cur.copy(f"COPY {_quote(table)} ({column_list}) FROM STDIN") as copy:
                        while chunk := source.read(_CHUNK):
                            copy.write(chunk)
                    for column in names:
                        cur.execute("SELECT pg_get_serial_sequence(%s, %s)", (_quote(table), column))
                        sequence = cur.fetchone()[0]
                        if sequence:
                            cur.execute(f"SELECT setval(%s, COALESCE(MAX({_quote(column)}), 1), "
                                        f"MAX({_quote(column)}) IS NOT NULL) FROM {_quote(table)}", (sequence,))
                    cur.execute(f"SELECT count(*) FROM {_quote(table)}")
                    loaded[table] = cur.fetchone()[0]
            for table in tables:
                conn.execute(sa.text(f"ALTER TABLE {_quote(table)} ENABLE TRIGGER USER"))
            _compare_counts(loaded, manifest)
            command.upgrade(cfg, "head")
    finally:
        engine.dispose()
    return loaded, replaced


def restore_backup(path: Path, url: str, data_dir: Path, *, force: bool = False) -> RestoreReport:
    """Restore the archive at ``path`` into the database at ``url`` and the files under
    ``data_dir``. Checks everything before it changes anything; refuses a target holding data
    unless ``force``."""
    kind = database_kind(url)
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="junheng-restore-", dir=data_dir) as work:
        folder = Path(work)
        manifest = read_archive(path, folder)
        _check_revision(manifest)
        if manifest["database"]["kind"] != kind:
            names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
            raise BackupError(f"这份备份来自 {names[manifest['database']['kind']]} 数据库，目标是 {names[kind]}："
                              "暂不支持跨数据库类型恢复。未作任何改动。")
        if kind == "sqlite":
            loaded, replaced = _restore_sqlite(folder, manifest, url, force)
        else:
            loaded, replaced = _restore_postgres(folder, manifest, url, force)
        evidence, standards = _restore_files(folder, data_dir)
    return RestoreReport(manifest, loaded, evidence, standards, replaced)
