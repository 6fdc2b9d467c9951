"""Every error the web answers: JSON ``{"detail": "…中文…", "problems": [...]}`` under /api, a short
Chinese page elsewhere — never a stack trace. Denied requests (403) are logged.

The handlers are registered by ``install_error_handlers``; routes raise ``HTTPException`` with a
Chinese ``detail``, ``AccessDenied``, or the tracker's own errors, and this module maps them:

    AccessDenied, NotPermitted           403 (logged on logger ``junheng.access``)
    LoginRequired                        401 JSON, or 303 to /login for pages
    TaskNotFound, CampaignNotFound,
    UnknownName                          404
    TransitionError                      409 (the task's state does not allow the move)
    InvalidTaskInput, SheetError,
    SelfCheckError, AccountError,
    AppraisalError,
    request validation                   422 (with the problems one by one)
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

from tracker.accounts.access import AccessDenied
from tracker.accounts.models import ROLE_NAMES, UserRole
from tracker.accounts.service import AccountError
from tracker.appraisal.service import AppraisalError
from tracker.schooldata.submissions import SelfCheckError
from tracker.org.service import CampaignNotFound, UnknownName
from tracker.schooldata.sheet import SheetError
from tracker.tasks.lifecycle import InvalidTaskInput, NotPermitted, TransitionError
from tracker.tasks.service import TaskNotFound

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
    problems: list[ProblemOut] = []


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
        body = ErrorOut(detail=detail, problems=problems or [])
        return JSONResponse(body.model_dump(mode="json"), status_code=status, headers=headers)
    title = {400: "请求有误", 403: "无权访问", 404: "页面不存在", 409: "操作未完成", 413: "文件过大",
             422: "填写有误", 429: "请稍后再试"}.get(status, "出错了")
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
        return f"过短，至少 {ctx.get('min_length')} 个字符"
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


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AccessDenied)
    async def _access_denied(request: Request, exc: AccessDenied) -> Response:
        return _denied(request, exc.message)

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if is_api(request):
            return error_response(request, 401, exc.message, headers={"WWW-Authenticate": "Bearer"})
        from urllib.parse import quote

        target = "/login"
        if exc.next_path and exc.next_path != "/":
            target += "?next=" + quote(exc.next_path, safe="/")
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(TransitionError)
    async def _transition(request: Request, exc: TransitionError) -> Response:
        if isinstance(exc, NotPermitted):
            return _denied(request, exc.message)
        if isinstance(exc, InvalidTaskInput):
            return error_response(request, 422, exc.message)
        return error_response(request, 409, exc.message)

    @app.exception_handler(TaskNotFound)
    @app.exception_handler(CampaignNotFound)
    @app.exception_handler(UnknownName)
    async def _not_found(request: Request, exc: Exception) -> Response:
        return error_response(request, 404, getattr(exc, "message", str(exc)))

    @app.exception_handler(SheetError)
    async def _sheet(request: Request, exc: SheetError) -> Response:
        problems = [ProblemOut(message=p.message, row=p.row, column=p.column) for p in exc.problems]
        return error_response(request, 422, f"文件「{exc.filename}」有 {len(problems)} 处问题，未导入任何数据",
                              problems)

    @app.exception_handler(SelfCheckError)
    @app.exception_handler(AccountError)
    @app.exception_handler(AppraisalError)
    async def _bad_input(request: Request, exc: Exception) -> Response:
        return error_response(request, 422, getattr(exc, "message", str(exc)))

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
        return error_response(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("未处理的错误：%s %s", request.method, request.url.path)
        return error_response(request, 500, "服务器内部错误，已记录；请稍后再试或联系管理员")
