"""The one check of an e-mail address, shared by the plan (人员「邮箱」) and the school sheet
(「联系邮箱」), so both accept and refuse the same addresses."""

from __future__ import annotations

import re

# local@domain.tld: what a county's mail server will take; not every form RFC 5322 allows
# (quoted local parts, IP literals), which nobody types into a plan or a sheet.
_EMAIL = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$")


def check_email(value: str) -> str:
    """``value`` unchanged when empty or a well-formed address; raises ValueError (Chinese) otherwise."""
    if value and not _EMAIL.match(value):
        raise ValueError(f"邮箱格式不正确：「{value}」")
    return value
