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

DEPLOYMENT_NAME = "junheng"  # every flow's deployment in prefect.yaml: "<flow name>/junheng"
WORK_POOL = "junheng"

# Set in a submission.imported event's payload when whoever imported the sheet assessed it at once
# (the self-check flow, ``junheng reassess FILE``): the dispatcher must not start a re-assessment too.
ASSESSED_BY_CALLER = "assessed_by_caller"
