"""Load from wrk (a C load generator on epoll), when it is installed (`apt-get install wrk`).

Why: on a 2-core machine the Python load generator (httpx async clients) needs about a core of its
own at a few hundred requests per second, and its event loop's queueing lands in every latency it
measures: with 16 clients the bare same-bytes app's own p95 read 115 ms. wrk keeps 16 connections
busy from one thread for a few per cent of a core, so the latencies are the server's. The page and
its yardstick are always measured by the same generator in the same run.

wrk runs closed-loop like the httpx clients (each connection sends its next request when the last
answer arrived) for ``seconds`` seconds; a Lua script counts answers that are not 200 and prints
the count, requests, duration and the p50/p95 latencies as one JSON line.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import tempfile
from pathlib import Path

SCRIPT = r"""
local bad = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local not_ok = 0
  for _, t in ipairs(threads) do not_ok = not_ok + (t:get("bad") or 0) end
  io.write(string.format(
    'JUNHENG {"requests": %d, "micros": %d, "not_ok": %d, "socket": %d, "p50": %d, "p95": %d}\n',
    summary.requests, summary.duration, not_ok,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50.0), latency:percentile(95.0)))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def add_option(parser) -> None:  # noqa: ANN001
    parser.add_argument("--load", choices=["wrk", "httpx"], default=None,
                        help="the load generator: wrk where installed (default), else httpx clients in this process")


def generator(parser, args) -> str:  # noqa: ANN001
    """The generator asked for with ``--load`` (``add_option``), or the default: wrk where installed."""
    if args.load == "wrk" and not available():
        parser.error("wrk is not installed (apt-get install wrk)")
    return args.load or ("wrk" if available() else "httpx")


def load(url: str, *, headers: dict[str, str] | None = None, cookies: dict[str, str] | None = None,
         seconds: float, concurrency: int, path: str) -> dict:
    """Three warm-up requests (imports, caches, connections; each must answer 200), then one wrk run
    against ``url``; the same row shape as the httpx loaders (``path`` names it)."""
    import httpx

    for _ in range(3):
        answer = httpx.get(url, headers=headers, cookies=cookies, timeout=120)
        assert answer.status_code == 200, (url, answer.status_code)
    headers = dict(headers or {})
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "count.lua"
        script.write_text(SCRIPT)
        command = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, math.ceil(seconds))}s", "--timeout", "120s",
                   "-s", str(script)]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("JUNHENG "))
    figures = json.loads(line.removeprefix("JUNHENG "))
    return {"path": path, "requests": figures["requests"], "errors": figures["not_ok"] + figures["socket"],
            "rps": figures["requests"] / (figures["micros"] / 1e6),
            "p50": figures["p50"] / 1000, "p95": figures["p95"] / 1000}
