from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from api.schemas.common import Out
from tracker.accounts.models import UserRole


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int  # seconds


class MeOut(Out):
    id: int
    username: str
    name: str
    role: UserRole
    campaign_id: int
    campaign_code: str
    department_id: int | None
    school_id: int | None
    person_id: int | None
