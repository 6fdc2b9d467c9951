"""Junheng (均衡督办): the `junheng` command and the scheduler process.

Importing the package sets defaults for the libraries it drives, before any of them is imported;
a user's own settings win:
- Prefect reports usage over the network and prints an English notice about it unless told not to;
- its temporary local server may take close to a minute to start on a busy machine (20 s is
  Prefect's default wait, after which a command would fail);
- its console log lines are English and repeat what the commands report in Chinese themselves
  (`--verbose` shows them again; see junheng/cli/logs.py).
"""

import os

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
