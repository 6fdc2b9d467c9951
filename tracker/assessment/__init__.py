"""The assessment engine: pure functions over school records and a standard (no DB, no Prefect).

- ``sections``: records → stage sections, shared facilities split by weighted enrolment
- ``coefficient``: the enrolment-weighted difference coefficient (差异系数)
- ``engine``: ``assess()`` and the NumPy array path ``compute_resource()``
- ``checks``: per-school checks with the 2019 allowances
- ``shortfalls``: what is missing, in the units people act on
- ``report``: the JSON contract and the official xlsx tables
"""

from tracker.assessment.coefficient import DifferenceCoefficient
from tracker.assessment.engine import Assessment, AssessmentInputError, assess
from tracker.assessment.sections import split_sections
from tracker.assessment.shortfalls import Shortfall

__all__ = ["Assessment", "AssessmentInputError", "DifferenceCoefficient", "Shortfall", "assess", "split_sections"]
