"""How fast the `junheng` command answers: CPU time of `junheng task --help` and `junheng task list`
against the yardstick of importing the libraries every command needs anyway
(typer, sqlalchemy, pydantic, sqlmodel, rich).

    uv run python benchmarks/cli.py            # 7 runs of each
    uv run python benchmarks/cli.py --runs 15

Each figure is the CPU time (user + system) of one child process, read with
``resource.getrusage(RUSAGE_CHILDREN)`` before and after it, so other work on a shared machine
slows the wall clock but hardly the figure. `task list` runs against a fresh SQLite database that
holds the example campaign (`examples/plan.yaml`, set up once before the timing). Prints min and
median per command, the yardstick's, and their ratio (the aim: at most 1.5). Not part of CI.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JUNHENG = [str(Path(sys.executable).parent / "junheng")]  # the installed console script, as users run it
YARDSTICK = [sys.executable, "-c", "import typer, sqlalchemy, pydantic, sqlmodel, rich"]


def cpu_seconds(argv: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr.decode()}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, JUNHENG_DATABASE_URL=f"sqlite:///{tmp}/junheng.db", JUNHENG_DATA_DIR=tmp,
                   DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
        cpu_seconds(JUNHENG + ["campaign", "init", "examples/plan.yaml"], env)
        commands = {"junheng task --help": JUNHENG + ["task", "--help"],
                    "junheng task list": JUNHENG + ["task", "list"],
                    "junheng --help": JUNHENG + ["--help"]}
        yardstick = [cpu_seconds(YARDSTICK, env) for _ in range(args.runs)]
        figures = {name: [cpu_seconds(argv, env) for _ in range(args.runs)] for name, argv in commands.items()}

    base_min, base_median = min(yardstick), statistics.median(yardstick)
    print(f"CPU seconds, {args.runs} runs each (min / median)")
    print(f"{'command':<22} {'min':>6} {'median':>7}   yardstick {base_min:.2f} / {base_median:.2f}"
          f"   ratio (min / median)")
    for name, runs in figures.items():
        low, mid = min(runs), statistics.median(runs)
        print(f"{name:<22} {low:>6.2f} {mid:>7.2f}   {'':>19}   {low / base_min:.2f} / {mid / base_median:.2f}")
    print("yardstick: python -c 'import typer, sqlalchemy, pydantic, sqlmodel, rich'")


if __name__ == "__main__":
    main()
