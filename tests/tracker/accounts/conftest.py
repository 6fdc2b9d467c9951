from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlmodel import Session

from tests.factories_db import build_world
from tracker.accounts import service as account_service
from tracker.accounts.models import User
from tracker.accounts.service import create_user
from tracker.db import session_scope

PASSWORD = "correct-horse-9"


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch):
    """Real argon2id with small parameters (the defaults cost ~50 ms a check)."""
    monkeypatch.setattr(account_service, "HASHER", PasswordHasher(time_cost=1, memory_cost=2048, parallelism=1))
    monkeypatch.setattr(account_service, "_dummy_hash", None)


@pytest.fixture
def user(engine) -> User:
    """``office``, the office user of a campaign, password PASSWORD."""
    with session_scope(engine) as session:
        world = build_world(session)
        return create_user(session, world.campaign, {"username": "office", "password": PASSWORD,
                                                     "role": "office", "person": "王主任"})


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s
