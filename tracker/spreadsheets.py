"""Every .xlsx Junheng writes goes out through here: text is written as text, never a formula.

A school, task or file name comes from users. openpyxl turns any string that starts with ``=``
into a live formula (``=HYPERLINK(…)``, ``=cmd|' /C calc'!A0``) and one that reads like an
error code (``#N/A``) into an error cell; Excel re-reads a text cell starting with ``+ - @``
(or a tab/CR before one) as a formula the moment someone edits it. So, on save, every string
cell is typed as a string (``t="s"``: Excel and LibreOffice show it literally, no apostrophe is
added to the text) and, when it starts with one of those characters, also gets the cell style's
``quotePrefix`` — the same mark Excel sets for a typed ``'=…``, which keeps it text when edited.

Writers build their workbook with ``new_workbook()`` and save it with ``save_workbook()``; the
test ``tests/tracker/test_spreadsheets.py`` walks every writer with hostile names and also
checks that no other module imports openpyxl's ``Workbook``.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell.cell import MergedCell

# a leading character that makes a spreadsheet read text as a formula (OWASP's list)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def new_workbook() -> Workbook:
    return Workbook()


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def neutralise(wb: Workbook) -> int:
    """Make every string cell of ``wb`` literal text; return how many needed the quote prefix."""
    quoted = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell, MergedCell):
                    continue
                value = cell.value
                if not isinstance(value, str):
                    if cell.data_type == "f":  # a formula object (ArrayFormula …): we never write one
                        raise ValueError(f"单元格 {ws.title}!{cell.coordinate} 是公式，导出文件不写公式")
                    continue
                cell.data_type = "s"  # not "f" (a leading =) nor "e" (#N/A …)
                if is_formula_like(value):
                    cell.quotePrefix = True
                    quoted += 1
    return quoted


def save_workbook(wb: Workbook, target: str | Path | BinaryIO) -> None:
    """Neutralise, then save to a path or a binary file object."""
    neutralise(wb)
    wb.save(target)


def workbook_bytes(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    save_workbook(wb, buffer)
    return buffer.getvalue()
