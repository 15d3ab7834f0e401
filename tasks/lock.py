"""An exclusive, non-blocking lock so two ingests never write the warehouse at once.

DuckDB would refuse the second writer anyway, but with an error about file locks; this lock
lets the second run stop at once with a message that says what is happening.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class LockBusy(RuntimeError):
    pass


@contextmanager
def exclusive(path: Path, what: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            raise LockBusy(
                f"{what} lain sedang berjalan (PID {holder}) dan memegang {path}; "
                "tunggu sampai selesai lalu jalankan lagi."
            ) from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)
