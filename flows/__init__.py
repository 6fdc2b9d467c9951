"""Prefect 3 flows that drive a campaign's phases, and the dispatcher that starts them.

The flows call the tracker; the tracker database stays the source of truth, so a campaign that
lasts a year never depends on a flow run staying alive. Every flow is short and idempotent.
"""

import os

# Defaults for Prefect, set before anything imports prefect (every flow module imports this
# package first; so does junheng.cli.prefect_console). A user's own settings win.
# - its server would otherwise report usage over the network; the project never wants that;
# - the ephemeral server of an embedded run may take longer than Prefect's 20 s to start on a
#   slow or busy machine (its first start creates its database); a demo must not fail for that.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

WORK_POOL = "junheng"

# Each flow's deployment in prefect.yaml, named so that an operator reading Prefect's UI knows
# what it is ("gate-check/阶段验收", not "gate-check/junheng": issue 16 §2).
DEPLOYMENTS: dict[str, str] = {
    "self-check": "自查自评",
    "reassessment": "整改复测",
    "review-intake": "评估反馈登记",
    "gate-check": "阶段验收",
    "weekly-briefing": "调度通报",
    "phase-self-check": "自查自评阶段",
    "phase-rectification": "整改阶段",
    "phase-review": "市级省级评估阶段",
    "phase-national-check": "国家审核认定阶段",
    "phase-custom": "方案自定阶段",
}


def deployment_of(flow_name: str) -> str:
    """``<flow>/<deployment>`` as ``run_deployment`` and ``prefect deployment run`` name it."""
    return f"{flow_name}/{DEPLOYMENTS[flow_name]}"

# Set in a submission.imported event's payload when whoever imported the sheet assessed it at once
# (the self-check flow, ``junheng reassess FILE``): the dispatcher must not start a re-assessment too.
ASSESSED_BY_CALLER = "assessed_by_caller"
