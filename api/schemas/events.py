from __future__ import annotations

import datetime as dt
from typing import Any

from api.schemas.common import Out


class EventOut(Out):
    id: int
    at: dt.datetime
    actor: str
    type: str
    task_id: int | None
    payload: dict[str, Any]
