"""The login and logout pages. A login starts a session cookie (signed with the secret key,
HttpOnly, SameSite=Lax); the forms carry the session's CSRF token like every other form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import CsrfChecked, DbSession, OptionalPageUser, log_in, log_out
from api.templating import templates
from tracker.accounts.service import authenticate

router = APIRouter(include_in_schema=False)

HOME = "/"


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
    result = authenticate(session, username, password)
    session.commit()  # the failure count too
    if not result.ok:
        if result.retry_after is not None:
            return _form(request, next_path=next_path, username=username, message=result.message, status_code=429,
                         headers={"Retry-After": str(result.retry_after)})
        return _form(request, next_path=next_path, username=username, message=result.message, status_code=400)
    log_in(request, result.user)
    return RedirectResponse(next_path, status_code=303)


@router.get("/logout", response_class=HTMLResponse, name="logout")
def logout_form(request: Request, user: OptionalPageUser) -> Response:
    return templates.TemplateResponse(request, "logout.html", {"user": user})


@router.post("/logout")
def logout(request: Request, _csrf: CsrfChecked) -> Response:
    log_out(request)
    return RedirectResponse("/login", status_code=303)
