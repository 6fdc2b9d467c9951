"""The REST API under /api/v1 (JSON; OpenAPI at /api/v1/openapi.json).

Every route takes a bearer token (``POST /api/v1/auth/token``) and answers within the user's
campaign only; tracker.accounts.access says who sees and changes what.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.errors import ERROR_RESPONSES
from api.v1 import (
    appraisal, auth, briefings, campaigns, data, evidence, gaps, materials, programme, records, regions,
    reports, reviews, survey, task_create, task_moves, tasks,
)

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
router.include_router(regions.router)  # issue 15 §2: the city's and province's view (first: asked most often)
router.include_router(auth.router)
router.include_router(campaigns.router)
router.include_router(task_create.router)  # before tasks: /campaigns/{c}/tasks/template is not a task id
router.include_router(tasks.router)
router.include_router(task_moves.router)  # issue 12 §2–3: 延期, 调整时限, 转办, 分解, 联办, 批量签收
router.include_router(data.router)
router.include_router(records.router)
router.include_router(reviews.router)
router.include_router(evidence.router)
router.include_router(briefings.router)
router.include_router(appraisal.router)
router.include_router(reports.router)
router.include_router(survey.router)  # issue 13 §3: 满意度调查
router.include_router(materials.router)  # issue 13 §4: 资料清单
router.include_router(gaps.router)  # issue 14: 补短板测算
router.include_router(programme.router)  # issue 15 §1: the 示范校 programme
