"""Every multipart/form-data body is checked as it streams in, before a route may keep anything.

An ASGI middleware runs a second, tiny python-multipart parser over each chunk *before* the
route's own parser (Starlette's form parser, or api.uploads for evidence) sees it, and refuses
the request with 400 and a Chinese message when

- the body ends without its closing boundary (``--boundary--``): a cut-off upload. python-multipart
  does not check this itself (its ``finalize`` is a no-op), so a truncated file was stored;
- a part's file name is longer than ``MAX_FILENAME_BYTES`` (255 bytes of UTF-8, the limit of a
  file name on Linux and in a zip; Windows allows 255 characters, so a real file may exceed it
  only with long CJK names — it is refused with the field named, not cut short silently). Only the
  name's last path component counts (old browsers send ``C:\\…\\名单.xlsx``). A name of several KB
  used to reach python-multipart's 4 KB header limit and get a misleading "格式有误";
- the body is not well-formed multipart at all.

The refusal is raised from ``receive`` as ``UploadRefused`` (an ``HTTPException``), so the route's
parser never gets the last chunk: nothing is stored. ``api.uploads`` turns it into its own
``EvidenceRejected`` for the evidence pages.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import HTTPException
from python_multipart.multipart import MultipartParser, parse_options_header

MAX_FILENAME_BYTES = 255
# a part's Content-Disposition longer than this cannot hold a name within the limit (quotes may be
# escaped as %22, three bytes each): refused as soon as it gets there, before the route's parser
# (limit 4 KB) fails on it with a vaguer message
MAX_DISPOSITION_BYTES = 3840
MAX_HEADER_BYTES = 64 * 1024  # this parser's own limit: far beyond the route's

INCOMPLETE = "上传内容不完整（缺少表单结尾的分隔符），可能是网络中断：未保存任何内容，请重新上传"
MALFORMED = "上传内容不是有效的 multipart/form-data 表单：未保存任何内容，请重新上传"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class UploadRefused(HTTPException):
    def __init__(self, message: str):
        super().__init__(status_code=400, detail=message)
        self.message = message


def long_name_message(field: str | None, size: int) -> str:
    return (f"字段「{field or 'file'}」的文件名过长（{size} 字节，上限 {MAX_FILENAME_BYTES} 字节，"
            f"约 85 个汉字）：未保存，请把文件改名短一些后重新上传")


def check_filename_length(raw: str | None, field: str | None = "file") -> None:
    """Refuse a client file name whose last path component is over 255 bytes of UTF-8."""
    if not raw:
        return
    last = re.split(r"[/\\]", raw)[-1]
    size = len(last.encode("utf-8", "surrogatepass"))
    if size > MAX_FILENAME_BYTES:
        raise UploadRefused(long_name_message(field, size))


def multipart_boundary(content_type: str | bytes | None) -> bytes | None:
    if not content_type:
        return None
    kind, params = parse_options_header(content_type)
    if kind != b"multipart/form-data":
        return None
    return params.get(b"boundary") or None


class MultipartChecker:
    """Feed it the body chunk by chunk, then ``finish()``; either raises ``UploadRefused``."""

    def __init__(self, boundary: bytes):
        self.ended = False
        self._field = bytearray()
        self._value = bytearray()
        self._disposition: bytes | None = None
        self._parser = MultipartParser(boundary, {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_end": self._end,
        }, max_header_size=MAX_HEADER_BYTES)

    def _part_begin(self) -> None:
        self._disposition = None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]
        if len(self._value) > MAX_DISPOSITION_BYTES and bytes(self._field).lower() == b"content-disposition":
            name = parse_options_header(bytes(self._value))[1].get(b"name", b"file").decode("utf-8", "replace")
            raise UploadRefused(long_name_message(name, len(self._value)) if b"filename" in self._value
                                else f"表单字段名过长（{len(self._value)} 字节）：未保存任何内容")

    def _header_end(self) -> None:
        if bytes(self._field).lower() == b"content-disposition":
            self._disposition = bytes(self._value)
        self._field = bytearray()
        self._value = bytearray()

    def _headers_finished(self) -> None:
        _kind, options = parse_options_header(self._disposition or b"")
        filename = options.get(b"filename")
        if filename is not None:
            name = options.get(b"name", b"file").decode("utf-8", "replace")
            check_filename_length(filename.decode("utf-8", "replace"), name)

    def _end(self) -> None:
        self.ended = True

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        try:
            self._parser.write(chunk)
        except UploadRefused:
            raise
        except Exception as exc:  # python-multipart's own refusals (bad boundary, header syntax …)
            raise UploadRefused(MALFORMED) from exc

    def finish(self) -> None:
        if not self.ended:
            raise UploadRefused(INCOMPLETE)


class MultipartGuard:
    """ASGI middleware: wraps ``receive`` of every multipart/form-data request with a checker."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type = next((v for k, v in scope.get("headers", ()) if k == b"content-type"), None)
        boundary = multipart_boundary(content_type)
        if boundary is None:
            await self.app(scope, receive, send)
            return
        try:
            checker = MultipartChecker(boundary)
        except ValueError:  # a boundary python-multipart refuses: the route's parser says so
            await self.app(scope, receive, send)
            return
        failed: list[UploadRefused] = []

        async def checked_receive() -> Message:
            if failed:  # a reader that swallowed the refusal and reads on: it stays refused
                raise failed[0]
            message = await receive()
            if message["type"] == "http.request":
                try:
                    checker.feed(message.get("body", b""))
                    if not message.get("more_body", False):
                        checker.finish()
                except UploadRefused as exc:
                    failed.append(exc)
                    raise
            return message

        await self.app(scope, checked_receive, send)
