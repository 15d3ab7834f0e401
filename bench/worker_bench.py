"""Deployments run by a process worker, cold against warm start, with the fair baseline.

    uv run python bench/worker_bench.py [--scope 64] [--scope all] [--week 2024-W47] [--rounds 2]

The production setup of docs/operations.md §3 on one machine: a Prefect server (SQLite here; the
PostgreSQL one is tests/test_postgres_deployment.py), `prefect.yaml` deployed to a process work
pool, one `prefect worker` polling every second, and `pilkada warm-start` beside it. For each
scope the week is generated and a warehouse prepared (as bench/national_bench.py does); then,
alternating cold and warm `--rounds` times, each on a fresh copy of the prepared warehouse, the
ingest deployment runs, then (Kaltim) the bulletin deployment for the week. Cold = the same
worker and command with the starter's socket pointed at an empty folder, so `pilkada-flow-run`
falls back to `python -m prefect.engine` exactly as without a starter.

Per run it prints the time from the worker taking the run (state Pending) to its final state:
the process start, imports and flow, what the same command costs from a shell; and the wall from
asking for the run to seeing it end (adds the worker's polling, up to 1 s). Every run must reach
the first run's ledger. The baseline (bench/baseline.py) reads the same files once per round, and
the ratios are to its mean, so that a host whose speed drifts during the bench drifts in both.
Every baseline and every run starts on a quiet machine (`bench.measure.wait_quiet`), and none is
timed while memory is sampled: reading a 400 MB process's smaps_rollup costs ~13 ms of CPU, every
50 ms, which slowed the warm Kaltim pair by ~0.3 s on this 2-core machine; memory is measured in
one more round, whose times are printed and not counted. Each mode keeps one outbox over its
rounds, as a desk's outbox lives from week to week: its first ingest also renders the GX suites'
Data Docs pages (~0.1 s), later ones find them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from bench.measure import descendants, pss_rss, wait_quiet
from bench.national_bench import _generate, _ledger, _prepare

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TIMEOUT = 600


def _life(client, run_id) -> tuple[float, float]:
    """(taken → ended, of which taken → running): the whole process as Prefect sees it, and the
    part before the flow function starts (process start, imports, pull steps, loading the flow)."""
    states = client.read_flow_run_states(run_id)
    pending = min(s.timestamp for s in states if s.type.value == "PENDING")
    running = min(s.timestamp for s in states if s.type.value == "RUNNING")
    final = max(s.timestamp for s in states if s.is_final())
    return (final - pending).total_seconds(), (running - pending).total_seconds()


@contextlib.contextmanager
def _memory(worker: int, starter: int) -> Iterator[dict[str, float]]:
    """Peak memory of a run's processes, sampled every 50 ms: the sum of their PSS (what they
    hold together, a forked child's pages shared with the starter counted once, the starter's
    share included when it forked them), and the largest RSS of one of them. The run's
    processes are the worker's and the starter's children; the worker and an idle starter are
    the same in both modes and not counted."""
    peak = {"pss": 0.0, "rss": 0.0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            forked = descendants(starter)
            pids = descendants(worker) + forked + ([starter] if forked else [])
            sizes = [pss_rss(p) for p in pids]
            peak["pss"] = max(peak["pss"], sum(p for p, _ in sizes) / 2**20)
            peak["rss"] = max(peak["rss"], max((r for _, r in sizes), default=0) / 2**20)
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()


def _baseline(root: Path, prepared: Path, env: dict[str, str]) -> tuple[float, int]:
    """bench/baseline.py on a fresh copy of the prepared warehouse, timed without sampling
    anything, as the runs are, once the machine is quiet (`wait_quiet`: the worker and the
    starter start, and a run's events are still being stored, after `_wait_for` and after a
    run ends): (wall seconds, rows loaded)."""
    db = shutil.copy(prepared, root / "b.duckdb")
    wait_quiet()
    t = time.perf_counter()
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "baseline.py"), "--inbox",
                           str(root / "inbox"), "--db", str(db)], env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - t
    if done.returncode:
        sys.exit(f"bench/baseline.py failed:\n{done.stderr[-3000:]}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1])["rows"]


def _wait_for(path: Path, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"pilkada warm-start did not come up:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def bench(scopes: list[str], week: str, rounds: int, keep: Path | None) -> None:
    from prefect import get_client
    from prefect.deployments import run_deployment

    from flows import deployments as dep
    from flows.prefect_server import LocalServer, free_port, use_api

    work = keep or Path(tempfile.mkdtemp(prefix="pilkada-worker-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    private = work / "sockets"
    private.mkdir(mode=0o700, exist_ok=True)
    (private / "cold").mkdir(mode=0o700, exist_ok=True)
    warm_socket = private / "warm.sock"
    env = {**os.environ, "PILKADA_CHECKOUT": str(ROOT), "PILKADA_ARRIVAL": "mtime",
           "PILKADA_CONFIG": str(work / "no-pilkada.toml"),
           "PILKADA_WARM_SOCKET": str(warm_socket), "PREFECT_WORKER_QUERY_SECONDS": "1",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false",
           "DO_NOT_TRACK": "1", "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    with LocalServer(work / "prefect-server", free_port(), ui=False, services=False) as server, \
            use_api(server.api_url):
        env["PREFECT_API_URL"] = server.api_url
        for args in (("work-pool", "create", "pilkada", "--type", "process"),
                     ("deploy", "--all")):
            done = subprocess.run([str(BIN / "prefect"), "--no-prompt", *args], env=env,
                                  cwd=ROOT, capture_output=True, text=True, timeout=300)
            if done.returncode:
                sys.exit(f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}")
        for scope in scopes:
            root = work / scope
            root.mkdir(exist_ok=True)
            files = _generate(scope, week, root / "inbox")
            prepared = root / "prepared.duckdb"
            _prepare(scope, prepared)
            scope_env = {**env, "PILKADA_PROVINCE": scope, "PILKADA_INBOX": str(root / "inbox")}
            print(f"\n{scope}: {week}, {len(files):,} files", flush=True)
            logs = root / "logs"
            logs.mkdir(exist_ok=True)
            with (logs / "worker.log").open("ab") as wlog, (logs / "warm.log").open("ab") as slog:
                worker = subprocess.Popen(
                    [str(BIN / "prefect"), "worker", "start", "--pool", "pilkada"],
                    env=scope_env, cwd=root, stdout=wlog, stderr=subprocess.STDOUT)
                starter = subprocess.Popen([str(BIN / "pilkada"), "warm-start"], env=scope_env,
                                           cwd=ROOT, stdout=slog, stderr=subprocess.STDOUT)
            try:
                _wait_for(warm_socket, starter, logs / "warm.log")
                figures: dict[str, list[float]] = {}
                baselines: list[float] = []
                reference = None
                for i in range(rounds + 1):
                    memory_round = i == rounds
                    if memory_round:
                        print("  memory round (not in the means: the sampler reads each "
                              "process's smaps_rollup every 50 ms, ~13 ms of CPU a sample)")
                    else:
                        wall, rows = _baseline(root, prepared, scope_env)
                        baselines.append(wall)
                        print(f"  round {i + 1}: plain DuckDB baseline (cold process) "
                              f"{wall:.2f} s, {rows:,} rows", flush=True)
                    for mode in ("cold", "warm"):
                        name = f"{mode}-{i}"
                        shutil.copy(prepared, root / f"{name}.duckdb")
                        job = {"env": {
                            "PILKADA_WAREHOUSE": str(root / f"{name}.duckdb"),
                            "PILKADA_ARCHIVE": str(root / f"{name}-archive"),
                            "PILKADA_OUTBOX": str(root / f"{mode}-outbox"),
                            **({"PILKADA_WARM_SOCKET": str(private / "cold" / "none.sock")}
                               if mode == "cold" else {})}}
                        runs = [(dep.INGEST_NAME, {})]
                        if scope == "64":
                            runs.append((dep.BULLETIN_NAME, {"week": week}))
                        total = 0.0
                        for deployment, params in runs:
                            wait_quiet()  # as an hourly ingest starts: nothing else running
                            t = time.perf_counter()
                            with (_memory(worker.pid, starter.pid) if memory_round
                                  else contextlib.nullcontext()) as peak:
                                flow_run = run_deployment(deployment, parameters=params,
                                                          job_variables=job, timeout=TIMEOUT,
                                                          poll_interval=0.5)
                            wall = time.perf_counter() - t
                            if not (flow_run.state and flow_run.state.is_completed()):
                                sys.exit(f"{deployment} {mode}: {flow_run.state}; see {logs}")
                            with get_client(sync_client=True) as client:
                                life, start = _life(client, flow_run.id)
                            total += life
                            label = deployment.split("/")[0]
                            if not memory_round:
                                figures.setdefault(f"{label} {mode}", []).append(life)
                                figures.setdefault(f"{label} {mode}, to running",
                                                   []).append(start)
                            memory = (f"   memory: PSS {peak['pss']:5,.0f} MB, largest RSS "
                                      f"{peak['rss']:5,.0f} MB" if peak else "")
                            print(f"  {label:<20} {mode}  taken → ended {life:6.2f} s "
                                  f"(to running {start:5.2f} s)   asked → seen ended "
                                  f"{wall:6.2f} s{memory}", flush=True)
                        if len(runs) > 1 and not memory_round:
                            figures.setdefault(f"ingest + bulletin {mode}", []).append(total)
                        ledger = _ledger(root / f"{name}.duckdb")
                        if reference is None:
                            reference = ledger
                        elif ledger != reference:
                            sys.exit(f"{name}: the ledger differs from the first run's")
                base = statistics.mean(baselines)
                print(f"  means over {rounds} rounds (taken → ended), against the mean "
                      f"baseline {base:.2f} s ({' / '.join(f'{b:.2f}' for b in baselines)}):")
                for label, values in figures.items():
                    ratio = ("" if label.endswith("to running") else
                             f"; {statistics.mean(values) / base:4.1f}× baseline")
                    print(f"    {label:<34} {statistics.mean(values):6.2f} s "
                          f"({' / '.join(f'{v:.2f}' for v in values)}){ratio}")
                started = (logs / "warm.log").read_text()
                forked = len(re.findall(r"flow run \S+ dimulai di proses", started))
                calls = started.count("panggilan judge dimulai di proses")
                print(f"  runs the starter forked: {forked} (expected {(rounds + 1) * len(runs)}); "
                      f"judging batches it forked for them: {calls}")
            finally:
                for process in (starter, worker):
                    process.terminate()
                    try:
                        process.wait(60)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait(10)
    with duckdb.connect() as con:
        print(f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, DuckDB "
              f"{con.execute('SELECT version()').fetchone()[0]}")
    if not keep:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scope", action="append", help="a province code or all (repeatable)")
    ap.add_argument("--week", default="2024-W47")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--keep", type=Path, help="work here and keep the files (a new folder)")
    args = ap.parse_args()
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        ap.error(f"--keep: {args.keep} is not empty")
    bench(args.scope or ["64"], args.week, args.rounds, args.keep)


if __name__ == "__main__":
    main()
