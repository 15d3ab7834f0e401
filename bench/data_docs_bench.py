"""What keeping GX's results and building Data Docs costs on a national week (prints figures).

    uv run python bench/data_docs_bench.py [--scope all] [--week 2024-W47] [--runs 2]
        [--index-recent N]

In one process, on one generated week (`all`: 514 kab/kota × 5 kinds, 678,977 rows): pull and
archive once, then parse + validate the week (`tasks.ingest.judge.judge`) alternately as before
issue 16 (no partial unexpected values, nothing kept) and as now (the first 20 unexpected values
per rule, results kept cut to SUMMARY size); then store the kept results and build Data Docs
(`tasks.ingest.data_docs.publish`) `--runs` times, as successive ingest runs of the campaign would,
and the size on disk of the results store and of the site (every build, or every tenth when
there are more than ten). `--index-recent` sets how many earlier results the index lists
(`tasks.ingest.data_docs.INDEX_RECENT`; 500 was the listing before the fifth session), to see how
a build grows with the results stored. Asserts nothing about time.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from tasks.config import load_settings
from tasks.ingest import data_docs, validate
from tasks.ingest.data_docs import disk_usage, project_dir, publish, site_dir
from tasks.ingest.judge import judge, pull_new
from tasks.warehouse.database import connect, migrate
from tasks.warehouse.reference import load_reference


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _generate(scope: str, week: str, inbox: Path) -> int:
    if scope == "64":
        from samples.kaltim import generate

        return len(generate(inbox, [week]))
    from samples.national import generate

    return len(generate(inbox, [week], scope=scope))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scope", default="all")
    ap.add_argument("--week", default="2024-W47")
    ap.add_argument("--runs", type=int, default=2, help="Data Docs builds (successive runs)")
    ap.add_argument("--index-recent", type=int,
                    help="earlier results the index lists (default: INDEX_RECENT as shipped)")
    ap.add_argument("--keep", type=Path, help="work here and keep the files")
    args = ap.parse_args()
    if args.index_recent is not None:
        data_docs.INDEX_RECENT = args.index_recent
    root = args.keep or Path(tempfile.mkdtemp(prefix="pilkada-docs-"))
    root.mkdir(parents=True, exist_ok=True)
    os.environ.update(PILKADA_PROVINCE=args.scope, PILKADA_INBOX=str(root / "inbox"),
                      PILKADA_WAREHOUSE=str(root / "data" / "warehouse.duckdb"),
                      PILKADA_ARCHIVE=str(root / "archive"), PILKADA_OUTBOX=str(root / "outbox"),
                      PILKADA_ARRIVAL="mtime", PILKADA_CONFIG=str(root / "no-pilkada.toml"),
                      GX_ANALYTICS_ENABLED="false")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"DuckDB {duckdb.__version__}; the index lists the run's results and "
          f"{data_docs.INDEX_RECENT} earlier ones")
    try:
        files = _generate(args.scope, args.week, root / "inbox")
        settings = load_settings()
        with connect(settings.warehouse) as con:
            migrate(con)
            load_reference(con, args.scope)
            archived = pull_new(con, settings)
            t = time.perf_counter()
            import great_expectations  # noqa: F401  (paid once, kept out of the figures)

            print(f"{args.scope} {args.week}: {files:,} files; GX import "
                  f"{time.perf_counter() - t:.1f} s")
            kept: list[validate.KeptResult] = []
            for label, partial, keep in [("before: partial 0, nothing kept", 0, False),
                                         ("now: partial 20, SUMMARY kept", 20, True)] * 2:
                validate.PARTIAL_UNEXPECTED = partial
                t = time.perf_counter()
                if keep:
                    with validate.keeping_results() as kept:
                        verdicts = judge(con, archived, settings)
                else:
                    verdicts = judge(con, archived, settings)
                print(f"  parse + validate ({label}): {time.perf_counter() - t:6.2f} s, "
                      f"{len(verdicts):,} verdicts, peak RSS {rss_mb():,.0f} MB")
        rows = sum(k.rows for k in kept)
        print(f"  kept: {len(kept)} GX results over {rows:,} rows")
        for n in range(1, args.runs + 1):
            t = time.perf_counter()
            index = publish(kept, f"bench-{n}", settings.warehouse, settings.outbox)
            wall = time.perf_counter() - t
            if args.runs > 10 and n % 10:
                continue
            store = disk_usage(project_dir(settings.warehouse)) / 2**20
            site = site_dir(settings.outbox)
            pages = disk_usage(site) / 2**20
            static = disk_usage(site / "static") / 2**20
            print(f"  Data Docs build {n}: {wall:6.2f} s; results store {store:6.2f} MB; "
                  f"site {pages:6.2f} MB (of which GX's static assets {static:.2f} MB); "
                  f"peak RSS {rss_mb():,.0f} MB; {index}")
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
