"""Run a command as a fresh process and measure it: wall time and the peak RSS of its whole
process tree (Prefect's temporary server is a child of the CLI), sampled from /proc."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Measured:
    wall: float
    peak_rss_mb: float  # the whole process tree
    stdout: str
    peak_main_mb: float = 0.0  # the command's own process
    peak_child_mb: float = 0.0  # its largest child (a Prefect server, a Dask worker)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return tree


def _tree_rss(pid: int) -> dict[int, int]:
    """RSS in bytes of `pid` and each of its descendants."""
    tree, todo, rss = _children(), [pid], {}
    while todo:
        p = todo.pop()
        with contextlib.suppress(OSError):  # the process may have just exited
            rss[p] = int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE
        todo += tree.get(p, [])
    return rss


def descendants(pid: int) -> list[int]:
    """The processes below `pid` (not `pid` itself)."""
    tree, todo, found = _children(), list(_children().get(pid, [])), []
    while todo:
        p = todo.pop()
        found.append(p)
        todo += tree.get(p, [])
    return found


def pss_rss(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in bytes; PSS counts a page shared by n processes as 1/n, so
    the PSS of forked processes adds up to the memory they really hold. (0, 0) once gone."""
    try:
        fields = dict(line.split(":", 1) for line in
                      Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])
    except OSError:
        return 0, 0
    return (int(fields["Pss"].split()[0]) * 1024, int(fields["Rss"].split()[0]) * 1024)


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def wait_quiet(busy: float = 0.15, window: float = 0.5, timeout: float = 30.0) -> None:
    """Wait until the machine's CPUs were at most `busy` busy over the last `window` seconds; a
    baseline timed while a worker or a server is still starting, or finishing a run's events, is
    slower than the machine is, and would flatter every ratio to it. After `timeout`, go on and
    say so on stderr: the figure that follows was taken on a busy machine."""
    deadline = time.monotonic() + timeout
    share = 1.0
    while time.monotonic() < deadline:
        b0, t0 = _cpu_times()
        time.sleep(window)
        b1, t1 = _cpu_times()
        share = (b1 - b0) / max(t1 - t0, 1)
        if share <= busy:
            return
    print(f"warning: the machine was still {share:.0%} busy after {timeout:.0f} s; the next "
          "figure is taken anyway", file=sys.stderr, flush=True)


def run(args: list[str], env: dict[str, str], cwd: Path | None = None,
        quiet: bool = False) -> Measured:
    """Run `args`; fail loudly (with its stderr) if it fails, since a figure of a failed run
    would be a lie. With `quiet`, start once the machine is quiet (`wait_quiet`)."""
    if quiet:
        wait_quiet()
    peak = main = child = 0
    t = time.perf_counter()
    proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, main, child
        while not done.is_set():
            rss = _tree_rss(proc.pid)
            peak = max(peak, sum(rss.values()))
            main = max(main, rss.pop(proc.pid, 0))
            child = max(child, *rss.values(), 0)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t
    done.set()
    sampler.join()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args[-3:])} failed ({proc.returncode}):\n{err[-3000:]}")
    return Measured(wall, peak / 2**20, out, main / 2**20, child / 2**20)


def cli(*args: str) -> list[str]:
    """The `pilkada` command line, as a fresh interpreter."""
    return [sys.executable, "-c", "from flows.cli import app; app()", *args]
