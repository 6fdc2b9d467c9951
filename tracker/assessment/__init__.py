"""The assessment engine: pure functions over school records and a standard (no DB, no Prefect).

- ``sections``: records → stage sections, shared facilities split by weighted enrolment
- ``coefficient``: the enrolment-weighted difference coefficient (差异系数)
- ``engine``: ``assess()``; ``resource``: the NumPy array path ``compute_resource()``
- ``results``: what an assessment returns; ``county_items``: what the county enters
- ``shortfall_list``: the shortfalls of an assessment
- ``checks``: per-school checks with the 2019 allowances
- ``shortfalls``: what is missing, in the units people act on
- ``report``: the JSON contract and the official xlsx tables
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracker.assessment.coefficient import DifferenceCoefficient
    from tracker.assessment.engine import Assessment, AssessmentInputError, assess
    from tracker.assessment.sections import split_sections, split_shared_addition
    from tracker.assessment.shortfalls import Shortfall

# Loaded on first use (PEP 562): the engine brings NumPy, and every module that only needs the
# stored records (tracker.assessment.models, reached by the task service and so by most CLI
# commands) would otherwise pay for it.
_EXPORTS = {"DifferenceCoefficient": "coefficient", "Assessment": "engine", "AssessmentInputError": "engine",
            "assess": "engine", "split_sections": "sections", "split_shared_addition": "sections", "Shortfall": "shortfalls"}

__all__ = ["Assessment", "AssessmentInputError", "DifferenceCoefficient", "Shortfall", "assess", "split_sections",
           "split_shared_addition"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"tracker.assessment.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
