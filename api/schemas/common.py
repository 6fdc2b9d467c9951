"""Shared pieces of the API's models."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

T = TypeVar("T")

# Free text people type (notes, reasons, labels): no control characters but line breaks and tabs
# (PostgreSQL refuses NUL, and nothing needs the rest).
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def text(max_length: int, min_length: int = 0):
    return Annotated[str, StringConstraints(max_length=max_length, min_length=min_length, pattern=TEXT_PATTERN)]


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
