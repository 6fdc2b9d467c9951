"""Every error the web answers: JSON ``{"detail": "…中文…", "kind": "…", "problems": [...]}`` under
/api, a short Chinese page elsewhere — never a stack trace. Denied requests (403) are logged.

The handlers are registered by ``install_error_handlers``; routes raise ``HTTPException`` with a
Chinese ``detail``, or the tracker's own errors (every one a ``tracker.errors.JunhengError``), and
this module maps them:

    JunhengError                         the status of its kind (STATUS_OF_KIND): invalid 422,
                                         bad_request 400, not_found 404, conflict 409, forbidden 403
                                         (logged on logger ``junheng.access``), unsupported 415,
                                         too_large 413, unavailable 503; its details as ``problems``
    LoginRequired                        401 JSON, or 303 to /login for pages
    request validation                   422 (with the problems one by one)
    ReviewNotFound                       404; ReviewConflict (a verdict twice) 409
    DataError (a value the store rejects) 422
    a body that cannot be parsed         400
    anything else                        500 "服务器内部错误", logged with its traceback
"""

from __future__ import annotations

import http
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from tracker.accounts.models import ROLE_NAMES, UserRole
from tracker.errors import ErrorKind, JunhengError

access_log = logging.getLogger("junheng.access")
log = logging.getLogger("junheng.web")

class ProblemOut(BaseModel):
    """One problem: of the request (``location`` such as ``query.limit``) or of an uploaded sheet
    (``row`` and ``column``)."""

    message: str
    location: str | None = None
    row: int | None = None
    column: str | None = None


class ErrorOut(BaseModel):
    """Every error answer of the API."""

    detail: str
    kind: ErrorKind | None = None  # what went wrong (tracker.errors.ErrorKind); left out for 401, 405, 429, 500
    problems: list[ProblemOut] = []

    def content(self) -> dict[str, Any]:
        """The JSON body: no "kind" where none applies, so those answers keep their shape."""
        return self.model_dump(mode="json", exclude={"kind"} if self.kind is None else None)


# The one answer to each kind of error (docs/development.md "Errors").
STATUS_OF_KIND: dict[ErrorKind, int] = {
    ErrorKind.invalid: 422,
    ErrorKind.bad_request: 400,
    ErrorKind.not_found: 404,
    ErrorKind.conflict: 409,
    ErrorKind.forbidden: 403,
    ErrorKind.unsupported: 415,
    ErrorKind.too_large: 413,
    ErrorKind.unavailable: 503,
}
_KIND_OF_STATUS = {status: kind for kind, status in STATUS_OF_KIND.items()}


def _response(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


# Declared on the /api/v1 router so the schema lists the error answers every route may give
# (and FastAPI's own 422 shape, which these handlers do not use, is left out).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _response("请求体无法解析"),
    401: _response("未登录或令牌无效"),
    403: _response("无权访问（已记录）"),
    404: _response("不存在"),
    422: _response("请求有误，problems 逐项说明"),
}
CONFLICT_RESPONSE = {409: _response("任务当前状态不允许此操作")}
TOO_LARGE_RESPONSE = {413: _response("文件过大")}
THROTTLED_RESPONSE = {429: _response("登录失败次数过多，稍后再试")}


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


class LoginRequired(Exception):
    """No (valid) login: 401 for the API, a redirect to the login page for pages."""

    def __init__(self, message: str = "请先登录", next_path: str | None = None):
        super().__init__(message)
        self.message = message
        self.next_path = next_path


# ---------------------------------------------------------------------------------------------


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _who(request: Request) -> str:
    user = getattr(request.state, "user", None)
    if user is None:
        return "匿名"
    try:
        role = ROLE_NAMES[UserRole(user.role)]
    except ValueError:
        role = user.role
    return f"{user.username}（{role}，创建工作 #{user.campaign_id}）"


def error_response(request: Request, status: int, detail: str, problems: list[ProblemOut] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    if is_api(request):
        body = ErrorOut(detail=detail, kind=_KIND_OF_STATUS.get(status), problems=problems or [])
        return JSONResponse(body.content(), status_code=status, headers=headers)
    title = {400: "请求有误", 403: "无权访问", 404: "页面不存在", 409: "操作未完成", 413: "文件过大",
             415: "文件类型不支持", 422: "填写有误", 429: "请稍后再试", 503: "暂时无法完成"}.get(status, "出错了")
    from api.templating import templates  # not at the top: api.templating → api.deps → api.errors

    return templates.TemplateResponse(request, "error.html", {
        "title": title, "message": detail, "problems": problems or [], "status": status,
    }, status_code=status, headers=headers)


def _denied(request: Request, message: str) -> Response:
    access_log.warning("拒绝访问：%s %s %s —— %s", _who(request), request.method, request.url.path, message)
    return error_response(request, 403, message)


_TYPE_MESSAGES = {
    "missing": "必须提供",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文字",
    "json_invalid": "不是有效的 JSON",
    "model_attributes_type": "应为 JSON 对象",
    "dict_type": "应为 JSON 对象",
    "string_pattern_mismatch": "含有不允许的字符或格式不对",
    "extra_forbidden": "不认识的字段",
    "value_error": "取值无效",
}


def _problem_message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind in ("greater_than_equal", "greater_than"):
        return f"不能小于{'等于' if kind == 'greater_than' else ''} {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"不能大于{'等于' if kind == 'less_than' else ''} {ctx.get('le', ctx.get('lt'))}"
    if kind == "string_too_long":
        return f"过长，最多 {ctx.get('max_length')} 个字符"
    if kind == "string_too_short":
        if ctx.get("min_length") == 1:
            return "不能为空（首尾的空格、不间断空格等空白不计）"
        return f"过短，至少 {ctx.get('min_length')} 个字符（首尾空白不计）"
    if kind == "too_short":  # a list
        return f"至少 {ctx.get('min_length')} 项"
    if kind == "too_long":
        return f"最多 {ctx.get('max_length')} 项"
    if kind == "enum":
        return f"应为以下之一：{ctx.get('expected', '')}"
    if kind == "literal_error":
        return f"应为以下之一：{ctx.get('expected', '')}"
    return _TYPE_MESSAGES.get(kind, f"取值无效（{err.get('msg', '')}）")


_LOCATIONS = {"query": "查询参数", "path": "路径参数", "body": "请求体", "header": "请求头", "cookie": "Cookie"}


def validation_problems(exc: RequestValidationError) -> list[ProblemOut]:
    problems = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        location = ".".join(loc) or None
        where = f"{_LOCATIONS.get(loc[0], loc[0])} {'.'.join(loc[1:])}".strip() if loc else "请求"
        problems.append(ProblemOut(location=location, message=f"{where}：{_problem_message(err)}"))
    return problems


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str:
    """Every method some route takes on the request's path (RFC 9110 §15.5.6). OPTIONS is not
    served (the API is same-origin, no CORS): it gets 405 with this list like any other method."""
    allowed = []
    for method in _METHODS:  # asked route by route (included routers nest theirs)
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


def status_of(error: JunhengError) -> int:
    """The HTTP status that answers a tracker error."""
    return STATUS_OF_KIND[error.kind]


def domain_error_response(request: Request, error: JunhengError) -> Response:
    """A tracker error as the web answers it: its kind's status, its message, its details one by
    one (then with the one-line summary as ``detail``); a refusal is logged."""
    if error.kind is ErrorKind.forbidden:
        return _denied(request, error.message)
    if not error.details:
        return error_response(request, status_of(error), error.message)
    problems = [ProblemOut(message=d.message, location=d.location, row=d.row, column=d.column)
                for d in error.details]
    return error_response(request, status_of(error), error.summary, problems)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(JunhengError)
    async def _domain(request: Request, exc: JunhengError) -> Response:
        return domain_error_response(request, exc)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if is_api(request):
            return error_response(request, 401, exc.message, headers={"WWW-Authenticate": "Bearer"})
        from urllib.parse import quote

        target = "/login"
        if exc.next_path and exc.next_path != "/":
            target += "?next=" + quote(exc.next_path, safe="/")
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = validation_problems(exc)
        return error_response(request, 422, "请求有误：" + "；".join(p.message for p in problems[:5]), problems)

    @app.exception_handler(DataError)
    async def _data_error(request: Request, exc: DataError) -> Response:
        # a value the database refuses (out of range, a NUL character): the input's fault
        log.warning("数据库拒绝了请求中的数值：%s %s：%s", request.method, request.url.path, exc.orig)
        return error_response(request, 422, "请求中的数值超出范围或含有无效字符")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail
        try:
            phrase = http.HTTPStatus(exc.status_code).phrase
        except ValueError:
            phrase = ""
        if exc.status_code == 400 and isinstance(detail, str) and not _has_chinese(detail):
            # FastAPI's and Starlette's answers to a body they cannot decode (not UTF-8, broken
            # multipart) come in English
            return error_response(request, 400, "请求体无法解析：应为有效的 UTF-8 JSON 或表单",
                                  [ProblemOut(location="body", message=f"请求体无法解析（{detail}）")])
        if not isinstance(detail, str) or detail == phrase:
            detail = {404: "未找到所请求的地址", 405: "该地址不支持此请求方法", 401: "请先登录",
                      403: "无权访问"}.get(exc.status_code, f"请求未能完成（{exc.status_code}）")
        if exc.status_code == 403:
            return _denied(request, detail)
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette's Allow names the methods of the first route on the path only
            # (OPTIONS …/submissions: "GET", though POST is there too)
            headers = {**(headers or {}), "Allow": allowed_methods(request)}
        return error_response(request, exc.status_code, detail, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("未处理的错误：%s %s", request.method, request.url.path)
        return error_response(request, 500, "服务器内部错误，已记录；请稍后再试或联系管理员")
