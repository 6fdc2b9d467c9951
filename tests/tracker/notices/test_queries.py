"""The delivery log's page and total."""

from __future__ import annotations

from sqlmodel import Session

from tracker.notices.models import MessageState, OutboundMessage
from tracker.notices.queries import latest_messages


def test_latest_messages_newest_first_with_the_total(engine):
    with Session(engine) as session:
        for n in range(7):
            session.add(OutboundMessage(recipient_address=f"u{n}@example.cn", subject=f"通知{n}",
                                        message_id_header=f"<m{n}@example.cn>",
                                        state=MessageState.dead.value if n % 2 else MessageState.sent.value))
        session.commit()
        page, total = latest_messages(session, limit=3)
        assert [m.recipient_address for m in page] == ["u6@example.cn", "u5@example.cn", "u4@example.cn"]
        assert total == 7
        dead, dead_total = latest_messages(session, state=MessageState.dead.value, limit=2)
        assert [m.recipient_address for m in dead] == ["u5@example.cn", "u3@example.cn"] and dead_total == 3
        everything, all_total = latest_messages(session, limit=50)
        assert len(everything) == all_total == 7
