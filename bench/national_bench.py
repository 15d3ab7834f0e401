"""One national week and one Kaltim week, pipeline against plain DuckDB, in cold processes.

    uv run python bench/national_bench.py [--scope all] [--scope 64] [--week 2024-W47]

For each scope: generates the week (national: `tasks.sample_national`, 514 kab/kota × 5 kinds;
Kaltim: the story-rich `tasks.sample`), prepares a warehouse (migrations and reference data,
timed apart), then measures fresh processes as the data team runs them: `pilkada ingest`,
`pilkada bulletin`, `pilkada ingest` with nothing new, and `pilkada run` (ingest + bulletin in
one process) on a second copy; and, on the same files and the same prepared warehouse, the
plain-DuckDB baseline (`bench/baseline.py`). Prints wall time, rows per second, the peak RSS of
each process tree, and the ratio pipeline/baseline. Asserts nothing about time: it checks only
that both sides reached the same verdicts, since figures of a wrong result would mean nothing.
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
from tasks.reference_load import load_reference
from tasks.warehouse import connect, migrate


def _generate(scope: str, week: str, inbox: Path) -> list:
    if scope == "64":
        from tasks.sample import generate

        return generate(inbox, [week])
    from tasks.sample_national import generate

    return generate(inbox, [week], scope=scope)


def _prepare(scope: str, path: Path) -> float:
    t = time.perf_counter()
    with connect(path) as con:
        migrate(con)
        load_reference(con, scope)
    return time.perf_counter() - t


def _line(label: str, m: Measured, rows: int | None = None) -> None:
    rate = f"{rows / m.wall:>10,.0f} rows/s" if rows else " " * 17
    print(f"  {label:<46} {m.wall:7.2f} s {rate}   peak RSS {m.peak_rss_mb:6.0f} MB")


def bench_scope(scope: str, week: str, root: Path, bulletin: bool = True) -> dict[str, float]:
    """Measure one scope; returns the main figures (seconds, MB) for callers and tests."""
    inbox = root / "inbox"
    t = time.perf_counter()
    files = _generate(scope, week, inbox)
    generated = time.perf_counter() - t
    prepared = root / "prepared.duckdb"
    setup = _prepare(scope, prepared)
    for name in ("pipeline", "combined", "baseline"):
        shutil.copy(prepared, root / f"{name}.duckdb")
    # A generated week is a recorded campaign: replay it on the files' own clock.
    env = {**os.environ, "PILKADA_PROVINCE": scope, "PILKADA_INBOX": str(inbox),
           "PILKADA_ARRIVAL": "mtime",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    env.pop("PREFECT_API_URL", None)

    def pipeline_env(name: str) -> dict[str, str]:
        return {**env, "PILKADA_WAREHOUSE": str(root / f"{name}.duckdb"),
                "PILKADA_ARCHIVE": str(root / f"{name}-archive"),
                "PILKADA_OUTBOX": str(root / f"{name}-outbox")}

    print(f"\n{scope}: {week}, {len(files):,} files generated in {generated:.1f} s; "
          f"warehouse prepared (migrations + reference) in {setup:.1f} s")
    ingest = run(cli("ingest"), pipeline_env("pipeline"))
    with duckdb.connect(str(root / "pipeline.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT sum(rows_total) FROM audit.submission_status").fetchone()[0]
        verdicts = dict(con.execute("SELECT status, count(*) FROM audit.submission_status "
                                    "GROUP BY 1").fetchall())
    base = run([sys.executable, str(Path(__file__).parent / "baseline.py"), "--inbox",
                str(inbox), "--db", str(root / "baseline.duckdb")], env)
    base_figures = json.loads(base.stdout.strip().splitlines()[-1])
    expected = Counter(f.expected_status for f in files)
    if scope != "64" and (verdicts != expected or base_figures["status"] != expected):
        sys.exit(f"verdicts differ: expected {dict(expected)}, pipeline {verdicts}, "
                 f"baseline {base_figures['status']}")
    print(f"  rows in the week: {rows:,}; verdicts {verdicts}")
    _line("pipeline: pilkada ingest (cold process)", ingest, rows)
    _line("plain DuckDB baseline (cold process)", base, base_figures["rows"])
    print(f"  {'ratio pipeline / baseline':<46} {ingest.wall / base.wall:7.1f} x")
    figures = {"ingest_s": ingest.wall, "ingest_rss_mb": ingest.peak_rss_mb,
               "baseline_s": base.wall, "rows": rows}
    if bulletin:
        b = run(cli("bulletin", "--week", week), pipeline_env("pipeline"))
        _line("pilkada bulletin (HTML, text, PDF; cold process)", b)
        idle = run(cli("ingest"), pipeline_env("pipeline"))
        _line("pilkada ingest with nothing new", idle)
        both = run(cli("run", "--week", week), pipeline_env("combined"))
        _line("pilkada run: ingest + bulletin, one process", both, rows)
        trivial = run([sys.executable, "-c", "from prefect import flow\n"
                       "flow(lambda: None, name='start-up')()"], env)
        _line("start-up only: an empty Prefect flow", trivial)
        figures |= {"bulletin_s": b.wall, "idle_s": idle.wall, "run_s": both.wall,
                    "startup_s": trivial.wall}
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scope", action="append", help="all, or a province code (repeatable)")
    ap.add_argument("--week", default="2024-W47")
    ap.add_argument("--keep", type=Path, help="work here and keep the files")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"DuckDB {duckdb.__version__}")
    for scope in args.scope or ["all", "64"]:
        root = (args.keep / scope) if args.keep else Path(tempfile.mkdtemp(prefix="pilkada-"))
        root.mkdir(parents=True, exist_ok=True)
        try:
            bench_scope(scope, args.week, root)
        finally:
            if not args.keep:
                shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
