"""修改密码: every user changes their own password on a page (current password, the new one twice,
the rules of ``junheng user passwd``). The change ends every other session and API token of the
user (sessions are store rows, tracker.accounts.sessions); the browser that changed it gets a
fresh session and stays logged in. CSRF like every form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from api.deps import CsrfChecked, DbSession, PageUser, log_in
from api.login import client_address
from api.pages.common import flash, home_for, redirect, render
from tracker.accounts.service import MIN_PASSWORD_LENGTH, change_password

router = APIRouter(include_in_schema=False)

PATH = "/account/password"


def _form(request: Request, session, user, *, message: str = "", status_code: int = 200,
          headers: dict[str, str] | None = None) -> Response:
    response = render(request, session, user, "password.html",
                      {"message": message, "min_length": MIN_PASSWORD_LENGTH}, status_code=status_code)
    if headers:
        response.headers.update(headers)
    return response


@router.get(PATH, response_class=HTMLResponse, name="password_form")
def password_form(request: Request, session: DbSession, user: PageUser) -> Response:
    return _form(request, session, user)


@router.post(PATH, response_class=HTMLResponse)
def password_change(
    request: Request,
    session: DbSession,
    user: PageUser,
    _csrf: CsrfChecked,
    current_password: Annotated[str, Form(max_length=1000)] = "",
    new_password: Annotated[str, Form(max_length=1000)] = "",
    new_password_again: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    result = change_password(session, user, current_password, new_password, new_password_again,
                             source=client_address(request))
    if not result.ok:
        session.commit()  # the attempt's count stays (authenticate counts a wrong current password)
        if result.retry_after is not None:
            return _form(request, session, user, message=result.message, status_code=429,
                         headers={"Retry-After": str(result.retry_after)})
        return _form(request, session, user, message=result.message, status_code=400)
    log_in(request, session, result.user)  # every session ended with the change; this browser gets a new one
    session.commit()
    flash(request, "密码已修改。其他设备和浏览器上的登录已全部退出，接口令牌已失效。")
    return redirect(home_for(result.user))
