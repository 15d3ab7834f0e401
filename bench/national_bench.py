"""One national week and one Kaltim week, pipeline against plain DuckDB, in cold processes.

    uv run python bench/national_bench.py [--scope all] [--scope 64] [--week 2024-W47]

For each scope: generates the week (national: `samples.national`, 514 kab/kota × 5 kinds;
Kaltim: the story-rich `samples.kaltim`), prepares a warehouse (migrations and reference data,
timed apart, and Prefect's database, which only a machine's first command creates), then measures
fresh processes as the data team runs them: `pilkada ingest`,
`pilkada bulletin`, `pilkada ingest` right after it (a flow run: the bulletin re-created the
views, so the snapshot is behind) and once more with nothing to do (`tasks.ingest.idle`: no
flow), and
`pilkada run` (ingest + bulletin in one process) on a second copy; and, on the same files and
the same prepared warehouse, the plain-DuckDB baseline (`bench/baseline.py`). Prints wall time,
rows per second, the peak RSS of each process tree, and the ratio pipeline/baseline. Asserts
nothing about time: it checks only that both sides reached the same verdicts, since figures of
a wrong result would mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import duckdb

from bench.measure import Measured, cli, run
from tasks.warehouse.database import connect, migrate
from tasks.warehouse.reference import load_reference


def _generate(scope: str, week: str, inbox: Path) -> list:
    if scope == "64":
        from samples.kaltim import generate

        return generate(inbox, [week])
    from samples.national import generate

    return generate(inbox, [week], scope=scope)


def _prepare(scope: str, path: Path) -> float:
    t = time.perf_counter()
    with connect(path) as con:
        migrate(con)
        load_reference(con, scope)
    return time.perf_counter() - t


def _prefect_database(home: str) -> None:
    """Create Prefect's database in `home` (what a machine's first `pilkada` command does): a
    server started there once and stopped."""
    from flows.prefect_server import LocalServer, free_port

    with LocalServer(Path(home), free_port(), ui=False, services=False):
        pass


def _line(label: str, m: Measured, rows: int | None = None) -> None:
    rate = f"{rows / m.wall:>10,.0f} rows/s" if rows else " " * 17
    print(f"  {label:<46} {m.wall:7.2f} s {rate}   peak RSS {m.peak_rss_mb:6.0f} MB")


def _ledger(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT source_path, status, reason, rows_total, rows_flagged "
                           "FROM audit.submission_status ORDER BY ALL").fetchall()


def _idle(env: dict[str, str], quiet: bool) -> Measured:
    """`pilkada ingest` when there is nothing to do (tasks/ingest/idle.py: no flow); exits if the
    command ran the flow instead, since its time would then not be the idle figure."""
    m = run(cli("ingest"), env, quiet=quiet)
    if "Tidak ada yang baru" not in m.stdout:
        sys.exit(f"the idle ingest ran the flow:\n{m.stdout[-2000:]}")
    return m


def bench_scope(scope: str, week: str, root: Path, bulletin: bool = True,
                api_url: str | None = None, dask: bool = False,
                in_process: bool = True, quiet: bool = False) -> dict[str, float]:
    """Measure one scope; returns the main figures (seconds, MB) for callers and tests.

    `api_url`: a Prefect server already running, for the warm figures (the production setup);
    `dask`: also ingest on a local Dask cluster (`PILKADA_DASK_ADDRESS=local`, one worker process
    per core), cold and, with `api_url`, warm. Every run must reach the same ledger.
    `in_process=False` (with `dask`): only the Dask runs and the baseline, the cold Dask run
    first (its ledger is the one the others must reach); no bulletin. With `quiet` (the
    command line), each measured command starts once the machine is quiet, as the worker bench's
    do (`bench.measure.wait_quiet`): a server storing the last run's events slows the next one.
    """
    bulletin = bulletin and in_process

    def timed(args: list[str], env: dict[str, str]) -> Measured:
        return run(args, env, quiet=quiet)

    inbox = root / "inbox"
    t = time.perf_counter()
    files = _generate(scope, week, inbox)
    generated = time.perf_counter() - t
    prepared = root / "prepared.duckdb"
    setup = _prepare(scope, prepared)
    shutil.copy(prepared, root / "baseline.duckdb")
    # A generated week is a recorded campaign: replay it on the files' own clock.
    env = {**os.environ, "PILKADA_PROVINCE": scope, "PILKADA_INBOX": str(inbox),
           "PILKADA_ARRIVAL": "mtime",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    env.pop("PREFECT_API_URL", None)
    env.pop("PILKADA_DASK_ADDRESS", None)
    # Prefect's own database is created by the first command ever run on a machine (its
    # migrations take ~6 s here); a cold command afterwards finds it, so it is made here, timed
    # apart, and the cold figures are those of any later command.
    t = time.perf_counter()
    _prefect_database(env.get("PREFECT_HOME") or str(root / "prefect"))
    prefect_setup = time.perf_counter() - t

    def pipeline_env(name: str, warm: bool = False, on_dask: bool = False) -> dict[str, str]:
        """A fresh copy of the prepared warehouse (first use) and the environment to ingest it."""
        if not (root / f"{name}.duckdb").exists():
            shutil.copy(prepared, root / f"{name}.duckdb")
        return {**env, "PILKADA_WAREHOUSE": str(root / f"{name}.duckdb"),
                "PILKADA_ARCHIVE": str(root / f"{name}-archive"),
                "PILKADA_OUTBOX": str(root / f"{name}-outbox"),
                **({"PREFECT_API_URL": api_url} if warm and api_url else {}),
                **({"PILKADA_DASK_ADDRESS": "local"} if on_dask else {})}

    print(f"\n{scope}: {week}, {len(files):,} files generated in {generated:.1f} s; "
          f"warehouse prepared (migrations + reference) in {setup:.1f} s; Prefect's database "
          f"(first command on a machine) in {prefect_setup:.1f} s")
    ingest = timed(cli("ingest"), pipeline_env("pipeline", on_dask=not in_process))
    with duckdb.connect(str(root / "pipeline.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT sum(rows_total) FROM audit.submission_status").fetchone()[0]
        verdicts = dict(con.execute("SELECT status, count(*) FROM audit.submission_status "
                                    "GROUP BY 1").fetchall())
    base = timed([sys.executable, str(Path(__file__).parent / "baseline.py"), "--inbox",
                  str(inbox), "--db", str(root / "baseline.duckdb")], env)
    base_figures = json.loads(base.stdout.strip().splitlines()[-1])
    expected = Counter(f.expected_status for f in files)
    if scope != "64" and (verdicts != expected or base_figures["status"] != expected):
        sys.exit(f"verdicts differ: expected {dict(expected)}, pipeline {verdicts}, "
                 f"baseline {base_figures['status']}")
    print(f"  rows in the week: {rows:,}; verdicts {verdicts}")
    first = "pilkada ingest, " + ("in-process" if in_process else "local Dask") + ", cold process"
    _line(first, ingest, rows)
    print(f"  {'':<46} largest process {ingest.peak_main_mb:,.0f} MB (flow), "
          f"{ingest.peak_child_mb:,.0f} MB (child: " + ("a Dask worker" if not in_process else
          "the temporary Prefect server") + ")")
    _line("plain DuckDB baseline (cold process)", base, base_figures["rows"])
    print(f"  {'ratio pipeline / baseline, cold':<46} {ingest.wall / base.wall:7.1f} x")
    figures = {"ingest_s": ingest.wall, "ingest_rss_mb": ingest.peak_rss_mb,
               "baseline_s": base.wall, "rows": rows}
    ledger = _ledger(root / "pipeline.duckdb")
    others = [("warm", "pilkada ingest, in-process, server running", True, False)] \
        if api_url and in_process else []
    if dask and in_process:
        others.append(("dask-cold", "pilkada ingest, local Dask, cold process", False, True))
    if dask and api_url:
        others.append(("dask-warm", "pilkada ingest, local Dask, server running", True, True))
    for name, label, warm, on_dask in others:
        m = timed(cli("ingest"), pipeline_env(name, warm, on_dask))
        if _ledger(root / f"{name}.duckdb") != ledger:
            sys.exit(f"{label}: the ledger differs from the first (cold) run's")
        _line(label, m, rows)
        print(f"  {'':<46} {m.wall / base.wall:7.1f} x baseline; largest process "
              f"{m.peak_main_mb:,.0f} MB (flow), {m.peak_child_mb:,.0f} MB (child)")
        figures |= {f"{name}_s": m.wall, f"{name}_rss_mb": m.peak_rss_mb,
                    f"{name}_child_mb": m.peak_child_mb}
    if bulletin:
        b = timed(cli("bulletin", "--week", week), pipeline_env("pipeline"))
        _line("pilkada bulletin (HTML, text, PDF; cold process)", b)
        after = timed(cli("ingest"), pipeline_env("pipeline"))
        _line("pilkada ingest, first after the bulletin", after)
        idle = _idle(pipeline_env("pipeline"), quiet)
        _line("pilkada ingest with nothing to do (no flow)", idle)
        both = timed(cli("run", "--week", week), pipeline_env("combined"))
        _line("pilkada run: ingest + bulletin, one process", both, rows)
        trivial = timed([sys.executable, "-c", "from prefect import flow\n"
                         "flow(lambda: None, name='start-up')()"], env)
        _line("start-up only: an empty Prefect flow", trivial)
        figures |= {"bulletin_s": b.wall, "after_bulletin_s": after.wall, "idle_s": idle.wall,
                    "run_s": both.wall,
                    "startup_s": trivial.wall}
        if api_url:
            warm = {"warm": True}
            b = timed(cli("bulletin", "--week", week), pipeline_env("warm", **warm))
            _line("pilkada bulletin, server running", b)
            after = timed(cli("ingest"), pipeline_env("warm", **warm))
            _line("ingest after the bulletin, server running", after)
            idle = _idle(pipeline_env("warm", **warm), quiet)
            _line("ingest, nothing to do, server running", idle)
            both = timed(cli("run", "--week", week), pipeline_env("warm-run", **warm))
            _line("pilkada run: ingest + bulletin, server running", both, rows)
            trivial = timed([sys.executable, "-c", "from prefect import flow\n"
                             "flow(lambda: None, name='start-up')()"],
                            {**env, "PREFECT_API_URL": api_url})
            _line("an empty Prefect flow, server running", trivial)
            python = timed([sys.executable, "-c", "pass"], env)
            _line("a Python process that does nothing", python)
            figures |= {"warm_bulletin_s": b.wall, "warm_after_bulletin_s": after.wall,
                        "warm_idle_s": idle.wall,
                        "warm_run_s": both.wall, "warm_startup_s": trivial.wall}
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scope", action="append", help="all, or a province code (repeatable)")
    ap.add_argument("--week", default="2024-W47")
    ap.add_argument("--keep", type=Path, help="work here and keep the files")
    ap.add_argument("--no-dask", action="store_true", help="skip the local Dask cluster runs")
    ap.add_argument("--only-dask", action="store_true",
                    help="only the local Dask cluster runs (cold, then warm) and the baseline")
    args = ap.parse_args()
    if args.no_dask and args.only_dask:
        ap.error("--no-dask and --only-dask exclude each other")
    # A kept folder from an earlier run still holds its loaded warehouses: measured again, every
    # file would be a duplicate and the figures a fraction of the real ones.
    for scope in args.scope or ["all", "64"]:
        if args.keep and (args.keep / scope).exists() and any((args.keep / scope).iterdir()):
            ap.error(f"--keep: {args.keep / scope} is not empty (an earlier run's warehouses "
                     "would make every file a duplicate); give a new or empty folder")
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    print(f"machine: {os.cpu_count()} cores, {memory:.0f} GB, Python {sys.version.split()[0]}, "
          f"DuckDB {duckdb.__version__}")
    from flows.prefect_server import LocalServer, free_port

    # the production setup: one Prefect server that outlives the commands (warm figures)
    with tempfile.TemporaryDirectory(prefix="pilkada-server-") as home, \
            LocalServer(Path(home), free_port(), ui=False, services=False) as server:
        for scope in args.scope or ["all", "64"]:
            root = (args.keep / scope) if args.keep else Path(tempfile.mkdtemp(prefix="pilkada-"))
            root.mkdir(parents=True, exist_ok=True)
            try:
                bench_scope(scope, args.week, root, api_url=server.api_url,
                            dask=not args.no_dask, in_process=not args.only_dask, quiet=True)
            finally:
                if not args.keep:
                    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
