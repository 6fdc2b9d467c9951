"""The scheduler stops cleanly on POSIX signals (asyncio's signal handlers are Unix-only): on a
system without them (Windows) it refuses in Chinese instead of failing with a traceback. Its
leadership no longer needs fcntl: it is a lease row in the database (tests/junheng/test_scheduler.py)."""

from __future__ import annotations

import pytest

import junheng.scheduler as scheduler


def test_without_posix_signals_the_scheduler_refuses_in_chinese(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'junheng.db'}"
    scheduler.check_setup(url)  # here: Linux
    monkeypatch.setattr(scheduler, "SIGNALS_SUPPORTED", False)
    with pytest.raises(scheduler.SchedulerSetupError, match="需要 Linux 等 POSIX 系统.*不支持 Windows"):
        scheduler.check_setup(url)


@pytest.mark.parametrize(("url", "said"), [("sqlite://", "内存中的 SQLite"), ("sqlite:///:memory:", "内存中的 SQLite"),
                                           ("mysql://u@h/db", "不支持数据库「mysql」")])
def test_a_database_processes_cannot_share_is_refused(url, said):
    with pytest.raises(scheduler.SchedulerSetupError, match=said):
        scheduler.check_setup(url)
