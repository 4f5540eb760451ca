"""Cold start: importing the app in a fresh interpreter against `import boto3` (printed, never asserted).

`python -m tests.bench.bench_cold_start [--rounds 9]`: alternates fresh processes that import
boto3 and ones that import the app, so both see the same machine load; prints the medians
and the ratio (issue 9's target: at most 1.5).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
TIMED = "import time; began = time.perf_counter(); import {module}; print(time.perf_counter() - began)"


def _import_seconds(module: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", TIMED.format(module=module)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    rounds = parser.parse_args().rounds
    _import_seconds("app")  # warm the file cache and bytecode once
    boto3, app = [], []
    for _ in range(rounds):
        boto3.append(_import_seconds("boto3"))
        app.append(_import_seconds("app"))
    baseline, ours = statistics.median(boto3), statistics.median(app)
    print(f"cold import, median of {rounds} fresh processes each (ms)")
    print(f"  import boto3 {baseline * 1000:7.1f}")
    print(f"  import app   {ours * 1000:7.1f}   ratio {ours / baseline:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
