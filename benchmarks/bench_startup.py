"""Benchmark start-up: CPU seconds of `watchlist --version` and `watchlist check` on the example.

Each command runs as a new process ``--runs`` times; the best CPU time (user + system,
from the children's rusage) is printed beside that of a bare ``python -c pass`` run
the same way, so the figure that is watchlist's own can be read off on a busy machine.
Target: under 0.3 s of CPU each.

    python benchmarks/bench_startup.py
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def best_cpu(cmd: Sequence[str], runs: int) -> float:
    """The least CPU seconds one run of ``cmd`` took, over ``runs`` runs."""
    best = float("inf")
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(cmd, cwd=REPO, capture_output=True, check=False)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        best = min(best, spent)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    py = [sys.executable]
    bare = best_cpu([*py, "-c", "pass"], args.runs)
    print(f"python -c pass: {bare:.3f} s CPU")
    for label, extra in (
        ("watchlist --version", ["--version"]),
        ("watchlist check -c config.example.yaml", ["check", "-c", "config.example.yaml"]),
    ):
        cpu = best_cpu([*py, "-m", "watchlist", *extra], args.runs)
        print(f"{label}: {cpu:.3f} s CPU ({cpu - bare:.3f} s above a bare interpreter)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
