"""Fault points: named places where a test can freeze a real run to kill it there.

Inactive unless `PILKADA_FAULTPOINT` names the point; then the process writes its PID to
`PILKADA_FAULTPOINT_MARKER` and waits to be killed. Reliability tests use it to SIGKILL an
ingest in the middle of a transaction, deterministically, instead of hoping a timer hits it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


def fault_point(name: str) -> None:
    if os.environ.get("PILKADA_FAULTPOINT") != name:
        return
    marker = Path(os.environ["PILKADA_FAULTPOINT_MARKER"])
    marker.write_text(str(os.getpid()))
    while True:  # wait for the test's SIGKILL
        time.sleep(1)
