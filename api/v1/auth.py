"""``POST /api/v1/auth/token``: the OAuth2 password flow (a form with username and password)
gives a bearer token; ``DELETE`` ends it; ``GET /api/v1/auth/me`` says who the token is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, status
from fastapi.responses import JSONResponse, Response

from api.deps import CurrentUser, DbSession, bearer
from api.errors import THROTTLED_RESPONSE, ErrorOut
from api.login import client_address
from api.schemas.auth import MeOut, TokenOut
from api.schemas.common import TEXT_PATTERN, columns_of
from tracker.accounts.service import TOKEN_LIFETIME, authenticate, issue_token, revoke_token
from tracker.org.models import Campaign

router = APIRouter(prefix="/auth", tags=["登录"])


@router.post("/token", response_model=TokenOut, responses=THROTTLED_RESPONSE,
             summary="用用户名和密码换取令牌（OAuth2 password）")
def token(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form(max_length=64, pattern=TEXT_PATTERN)],
    password: Annotated[str, Form(max_length=1000)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
    scope: Annotated[str, Form(max_length=1000)] = "",
) -> Response | TokenOut:
    result = authenticate(session, username, password, source=client_address(request))
    if not result.ok:
        body = ErrorOut(detail=result.message).content()
        if result.retry_after is not None:
            return JSONResponse(body, status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                                headers={"Retry-After": str(result.retry_after)})
        return JSONResponse(body, status_code=status.HTTP_401_UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
    plain, _row = issue_token(session, result.user)
    session.commit()
    return TokenOut(access_token=plain, expires_in=int(TOKEN_LIFETIME.total_seconds()))


@router.delete("/token", status_code=status.HTTP_204_NO_CONTENT, summary="注销当前令牌")
def revoke(session: DbSession, user: CurrentUser, token: Annotated[str | None, Depends(bearer)]) -> Response:
    revoke_token(session, token or "")
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me", response_model=MeOut, summary="当前用户")
def me(session: DbSession, user: CurrentUser) -> MeOut:
    campaign = session.get(Campaign, user.campaign_id)
    return MeOut.model_validate({**columns_of(user), "campaign_code": campaign.code if campaign else ""})

