"""Every event type the code writes has a Chinese name (the overview once showed task.due_changed)."""

from __future__ import annotations

import re
from pathlib import Path

from tracker.events.types import EVENT_LABELS, OTHER_EVENT, EventType, event_label
from tracker.tasks.lifecycle import TRANSITIONS

ROOT = Path(__file__).resolve().parents[3]


def _written_types() -> set[str]:
    """The literal types passed to record_event anywhere in the application."""
    found = set()
    for folder in ("tracker", "flows", "api", "junheng", "notifications"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for call in re.finditer(r"record_event\((.*?)\)", text, re.S):
                found |= set(re.findall(r'type="([a-z_]+\.[a-z_]+)"', call.group(1)))
    return found


def test_every_written_event_type_has_a_chinese_name():
    written = _written_types() | {t.event_type for t in TRANSITIONS.values()}
    assert "task.due_changed" in written and len(written) > 20  # the scan found the calls
    unnamed = sorted(t for t in written if event_label(t) == OTHER_EVENT)
    assert unnamed == []
    assert set(EVENT_LABELS) == set(EventType)
    assert all(re.search(r"[\u4e00-\u9fff]", label) for label in EVENT_LABELS.values())


def test_an_unknown_type_is_named_generically_not_shown_raw():
    assert event_label("task.due_changed") == "调整截止日期"
    assert event_label("something.new") == OTHER_EVENT
