"""Run a Python snippet in a real subprocess and SIGKILL it exactly at a named fault point."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def kill_at(point: str, code: str, args: list[str], scratch: Path, timeout: float = 120,
            env: dict[str, str] | None = None) -> None:
    """Start `python -c code *args` (in `env`, default this process's environment) with the
    fault point armed, wait until the process stops there (tasks/faults.py writes the marker),
    then SIGKILL it."""
    marker = scratch / f"paused-at-{point}"
    env = {**(env or os.environ), "PILKADA_FAULTPOINT": point,
           "PILKADA_FAULTPOINT_MARKER": str(marker)}
    proc = subprocess.Popen([sys.executable, "-c", code, *args], env=env)
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert proc.poll() is None, f"the process ended before reaching fault point {point}"
        assert time.monotonic() < deadline, f"the process never reached fault point {point}"
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
