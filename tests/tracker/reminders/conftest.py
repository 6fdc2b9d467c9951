"""Fixtures for the reminder ladder: the calendar is chinese-calendar alone in every test, and a
small campaign with contacts, a unit head, a 分管领导 and the office."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from tests.factories_db import World, build_world
from tracker.calendar import reset_active_calendar
from tracker.org.models import Person


@pytest.fixture(autouse=True)
def _calendar_of_the_library():
    reset_active_calendar()
    yield
    reset_active_calendar()


@pytest.fixture
def session(engine):
    with Session(engine, expire_on_commit=False) as s:
        yield s
        s.rollback()


def add_ladder_people(session: Session, world: World) -> World:
    """财政局 gets a head (钱局长) and a 分管领导 (孙副县长); 住建局 cooperates with its contact."""
    finance = world.departments["财政局"]
    head = Person(campaign_id=world.campaign.id, name="钱局长", email="qian@example.cn",
                  department_id=finance.id, is_contact=False)
    supervisor = Person(campaign_id=world.campaign.id, name="孙副县长", email="sun@example.cn",
                        group_role="副组长")
    session.add_all([head, supervisor])
    session.flush()
    finance.head_name, finance.head_email, finance.supervisor_id = "钱局长", "qian@example.cn", supervisor.id
    session.add(finance)
    session.flush()
    world.people.update({"钱局长": head, "孙副县长": supervisor})
    return world


@pytest.fixture
def world(session) -> World:
    world = add_ladder_people(session, build_world(session))
    session.commit()
    return world
