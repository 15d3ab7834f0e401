"""End-to-end cost of one Kaltim week, as the data team runs it (cold processes, real CLI).

    uv run python bench/pipeline_bench.py [--week 2024-W47]

Prints wall time and peak RSS for: `pilkada ingest` of one week (cold process, includes Prefect's
temporary server and the GX import), `pilkada bulletin` for that week (with PDF), and an ingest
with nothing new (the idempotent hourly run). Each command is a fresh process.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tasks.sample import generate


def run(label: str, args: list[str], env: dict[str, str]) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", "from flows.cli import app; app()", *args],
                          env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        sys.exit(f"{label} failed:\n{proc.stderr[-2000:]}")
    print(f"{label:<44} {wall:7.2f} s   max child RSS so far {max(peak, before) / 1024:6.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--week", default="2024-W47")
    week = ap.parse_args().week
    tmp = Path(tempfile.mkdtemp(prefix="pilkada-e2e-"))
    try:
        files = generate(tmp / "inbox", [week])
        env = {**os.environ, "PILKADA_WAREHOUSE": str(tmp / "w.duckdb"),
               "PILKADA_INBOX": str(tmp / "inbox"), "PILKADA_OUTBOX": str(tmp / "outbox"),
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
        env.pop("PREFECT_API_URL", None)
        print(f"one Kaltim week {week}: {len(files)} files")
        run(f"ingest {week} (cold process)", ["ingest"], env)
        run(f"bulletin {week} (HTML, text, PDF)", ["bulletin", "--week", week], env)
        run("ingest with nothing new", ["ingest"], env)
        run("python + CLI start-up only (--help)", ["--help"], env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
