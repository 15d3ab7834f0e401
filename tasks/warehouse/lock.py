"""An exclusive, non-blocking lock so two ingests never write the warehouse at once.

DuckDB would refuse the second writer anyway, but with an error about file locks; this lock
lets the second run stop at once with a message that says what is happening.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class LockBusy(RuntimeError):
    pass


@contextmanager
def exclusive(path: Path, what: str, wait_seconds: float = 0) -> Iterator[None]:
    """Hold the lock for the block; wait up to `wait_seconds` for another holder to finish."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError as exc:
                if time.monotonic() < deadline:
                    time.sleep(0.5)
                    continue
                holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                raise LockBusy(
                    f"{what} tidak dapat dimulai: proses lain sedang berjalan (PID {holder}) dan "
                    f"memegang {path}; tunggu sampai selesai lalu jalankan lagi."
                ) from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
