"""The scheduler's SQLite leader lock is an fcntl lock: POSIX only. Without fcntl (Windows) the
scheduler refuses in Chinese instead of failing on import."""

from __future__ import annotations

import pytest

import junheng.scheduler as scheduler


def test_without_fcntl_the_scheduler_refuses_in_chinese(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'junheng.db'}"
    assert isinstance(scheduler.leader_lock_for(url), scheduler.FileLeaderLock)  # here: Linux
    monkeypatch.setattr(scheduler, "fcntl", None)
    with pytest.raises(scheduler.SchedulerSetupError, match="需要 Linux 等 POSIX 系统.*不支持 Windows"):
        scheduler.leader_lock_for(url)
