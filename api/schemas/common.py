"""Shared pieces of the API's models."""

from __future__ import annotations

import re
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

T = TypeVar("T")

# Free text people type (notes, reasons, labels): no control characters but line breaks and tabs
# (PostgreSQL refuses NUL, and nothing needs the rest).
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
# Blank characters, stripped from both ends of free text before its length is checked: ASCII
# whitespace, NEL, no-break space, the Unicode spaces (U+2000–U+200A, ideographic U+3000 …),
# zero-width space and BOM. Spelt out rather than \s, whose meaning differs between Python,
# pydantic's Rust regex and the JSON Schema (ECMA) regex a client checks the pattern with.
BLANK = r"\t\n\x0b\x0c\r \u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
# required free text: as TEXT_PATTERN, with at least one character that is not blank
NONBLANK_TEXT_PATTERN = (r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f" + BLANK
                         + r"][^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")
_EDGE_BLANKS = re.compile(f"^[{BLANK}]+|[{BLANK}]+$")


def strip_blank(value: Any) -> Any:
    return _EDGE_BLANKS.sub("", value) if isinstance(value, str) else value


def text(max_length: int, min_length: int = 0):
    """Free text, stripped of blanks at both ends (``BLANK``: a reason of only a no-break space is
    empty) before its length is checked; required text (``min_length`` ≥ 1) says in the schema
    that it needs a non-blank character."""
    pattern = NONBLANK_TEXT_PATTERN if min_length else TEXT_PATTERN
    # (the validator after the constraints wraps them: it runs first, and the schema keeps them)
    return Annotated[str, StringConstraints(max_length=max_length, min_length=min_length, pattern=pattern),
                     BeforeValidator(strip_blank)]


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    """A page of a long list: ``items`` from ``offset``, at most ``limit``, of ``total``."""

    items: list[T]
    total: int = Field(description="符合条件的总数")
    limit: int
    offset: int


def columns_of(row: object) -> dict:
    """A table row's fields as they are (``model_dump`` would warn about the enum columns the store
    hands back as plain strings)."""
    return {name: getattr(row, name) for name in type(row).model_fields}
