"""The login and logout pages. A login starts a page session, a row in the store whose token the
session cookie carries (signed with the secret key, HttpOnly, SameSite=Lax); logging out deletes
the row. The forms carry the session's CSRF token like every other form. Guessing is slowed down
per user name and client address (tracker.accounts.throttle); the address is the peer's, or
X-Forwarded-For's when the peer is a trusted proxy (api.app, JUNHENG_TRUSTED_PROXIES)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import CsrfChecked, DbSession, OptionalPageUser, log_in, log_out
from api.templating import templates
from tracker.accounts.service import authenticate

router = APIRouter(include_in_schema=False)

HOME = "/"


def client_address(request: Request) -> str:
    """Where a request comes from, for counting failed logins: the peer's address, already taken
    from X-Forwarded-For when the peer is a trusted proxy (ProxyHeadersMiddleware in api.app)."""
    return request.client.host if request.client else "unknown"


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a path of this site only (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return HOME
    if any(ord(ch) < 32 for ch in value):
        return HOME
    return value


def _form(request: Request, *, next_path: str, username: str = "", message: str = "", status_code: int = 200,
          headers: dict[str, str] | None = None) -> Response:
    return templates.TemplateResponse(request, "login.html", {
        "next": next_path, "username": username, "message": message,
    }, status_code=status_code, headers=headers)


@router.get("/login", response_class=HTMLResponse, name="login")
def login_form(request: Request, user: OptionalPageUser, next: str = HOME) -> Response:
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, next_path=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: DbSession,
    _csrf: CsrfChecked,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=2000)] = HOME,
) -> Response:
    next_path = safe_next(next)
    username = username.strip()
    if not username or not password:
        return _form(request, next_path=next_path, username=username, message="请输入用户名和密码", status_code=400)
    result = authenticate(session, username, password, source=client_address(request))
    if not result.ok:
        if result.retry_after is not None:
            return _form(request, next_path=next_path, username=username, message=result.message, status_code=429,
                         headers={"Retry-After": str(result.retry_after)})
        return _form(request, next_path=next_path, username=username, message=result.message, status_code=400)
    log_in(request, session, result.user)
    session.commit()
    return RedirectResponse(next_path, status_code=303)


@router.get("/logout", response_class=HTMLResponse, name="logout")
def logout_form(request: Request, user: OptionalPageUser) -> Response:
    return templates.TemplateResponse(request, "logout.html", {"user": user})


@router.post("/logout")
def logout(request: Request, session: DbSession, _csrf: CsrfChecked) -> Response:
    log_out(request, session)
    return RedirectResponse("/login", status_code=303)
