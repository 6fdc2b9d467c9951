"""Reading an evidence upload (multipart/form-data) as it streams in.

Starlette's ``request.form()`` spools a whole file before a route sees it; an evidence upload is
instead parsed chunk by chunk with python-multipart, and the file part goes straight into an
``EvidenceWriter`` — which stops at the size limit, so a 2 GB upload costs at most the limit in
temporary disk, is refused with 413, and leaves nothing behind. A declared Content-Length over
the limit is refused before a byte is read.

The caller gets the small text fields (the CSRF token of a page form) and the writer, not yet
finished: it checks the token, then calls ``writer.finish()`` to keep the file, or
``writer.discard()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from api.upload_guard import INCOMPLETE, UploadRefused, check_filename_length
from tracker.errors import ErrorKind
from tracker.evidence.storage import EvidenceRejected, EvidenceTooLarge, EvidenceWriter
from tracker.settings import get_settings

FILE_FIELD = "file"
MAX_FIELD_BYTES = 64 * 1024  # a text field (csrf_token, a note)
MAX_FIELDS = 20
MULTIPART_SLACK = 64 * 1024  # boundaries and part headers around the file


@dataclass
class ParsedUpload:
    fields: dict[str, str] = field(default_factory=dict)
    writer: EvidenceWriter | None = None
    client_filename: str | None = None

    def discard(self) -> None:
        if self.writer is not None:
            self.writer.discard()


class _Part:
    def __init__(self) -> None:
        self.headers: dict[str, bytes] = {}
        self.name: str | None = None
        self.filename: str | None = None
        self.is_file = False  # the evidence file itself
        self.is_empty_file = False  # a file input left empty: browsers send filename=""
        self.data = bytearray()


def _parse_disposition(value: bytes) -> tuple[str | None, str | None]:
    _kind, options = parse_options_header(value)
    name = options.get(b"name")
    filename = options.get(b"filename")
    # browsers send UTF-8 names in the quoted string (RFC 7578 §4.2)
    return (name.decode("utf-8", "replace") if name is not None else None,
            filename.decode("utf-8", "replace") if filename is not None else None)


async def read_evidence_upload(request: Request, *, max_bytes: int | None = None) -> ParsedUpload:
    """Parse the request body; the part named ``file`` goes to an ``EvidenceWriter``.

    Raises ``EvidenceRejected`` (400/413/415, Chinese) for a body that is not multipart, has no
    file, is too large, has a type we do not take, a file name over 255 bytes, or ends without
    its closing boundary (a cut-off upload); nothing is kept then."""
    limit = get_settings().evidence_max_bytes if max_bytes is None else max_bytes
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise EvidenceRejected("请以 multipart/form-data 表单上传文件（字段名 file）")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:
        raise EvidenceTooLarge(limit)

    result = ParsedUpload()
    state: dict = {"part": None, "header_field": bytearray(), "header_value": bytearray(), "fields": 0,
                   "ended": False}

    def on_part_begin() -> None:
        state["part"] = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["header_field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["header_value"] += data[start:end]

    def on_header_end() -> None:
        part: _Part = state["part"]
        part.headers[bytes(state["header_field"]).lower().decode("latin-1")] = bytes(state["header_value"])
        state["header_field"] = bytearray()
        state["header_value"] = bytearray()

    def on_headers_finished() -> None:
        part: _Part = state["part"]
        part.name, part.filename = _parse_disposition(part.headers.get("content-disposition", b""))
        if part.filename == "":
            part.is_empty_file = True
        elif part.name == FILE_FIELD and part.filename is not None:
            check_filename_length(part.filename, part.name)  # (the middleware has refused it already)
            if result.writer is not None:
                raise EvidenceRejected("一次只能上传一个文件")
            part.is_file = True
            result.client_filename = part.filename
            result.writer = EvidenceWriter(part.filename, max_bytes=limit)  # refuses a wrong type at once
        else:
            state["fields"] += 1
            if state["fields"] > MAX_FIELDS:
                raise EvidenceRejected("表单字段过多")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        part: _Part = state["part"]
        if part.is_file:
            result.writer.write(data[start:end])
        elif part.is_empty_file or part.filename is not None:
            return  # an empty file input, or another file field we do not take
        else:
            part.data += data[start:end]
            if len(part.data) > MAX_FIELD_BYTES:
                raise EvidenceRejected(f"表单字段「{part.name}」过长")

    def on_part_end() -> None:
        part: _Part = state["part"]
        if part is not None and part.name and part.filename is None:
            result.fields[part.name] = part.data.decode("utf-8", "replace")
        state["part"] = None

    def on_end() -> None:
        state["ended"] = True

    parser = MultipartParser(params[b"boundary"], {
        "on_part_begin": on_part_begin, "on_part_data": on_part_data, "on_part_end": on_part_end,
        "on_header_field": on_header_field, "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_headers_finished": on_headers_finished, "on_end": on_end,
    })
    try:
        async for chunk in request.stream():
            if chunk:
                parser.write(chunk)
        parser.finalize()
        if not state["ended"]:  # cut off before the closing boundary: the file may be partial
            raise EvidenceRejected(INCOMPLETE)
    except EvidenceRejected:
        result.discard()
        raise
    except UploadRefused as exc:  # api.upload_guard refused the body while it streamed in
        result.discard()
        raise EvidenceRejected(exc.message) from exc
    except Exception as exc:  # a malformed body
        result.discard()
        raise EvidenceRejected("上传内容不完整或格式有误，请重新选择文件上传") from exc
    if result.writer is None:
        raise EvidenceRejected("没有收到文件：请选择要上传的佐证材料（字段名 file）", kind=ErrorKind.invalid)
    return result
