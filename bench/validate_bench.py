"""Validation cost: one Kaltim week, and 100,000 logistics rows (run on demand, prints figures).

    uv run python bench/validate_bench.py [--week 2024-W47] [--rounds 3]

Measures, in one process: the GX import, parse + validate (tasks.ingest.judge.judge) of a whole
sample week (then again, alternately with GX's configurations built once per validation and as
GX ships them), and validation of ~100,000 logistics rows twice — as 53 complete Kukar files in one
batch (the batched path a busy week takes) and as one 100,000-row file (worst case: every row breaks
the uniqueness rule, so GX reports every row). Peak RSS is the process's maximum so far.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import polars as pl

from samples.kaltim import generate
from tasks.config import load_settings
from tasks.contract.regions import desa_requirements
from tasks.ingest import validate
from tasks.ingest.judge import judge
from tasks.ingest.pull import archive, list_inbox
from tasks.ingest.validate import validate_kind
from tasks.warehouse.database import connect, migrate
from tasks.warehouse.reference import load_reference
from tasks.weeks import week_start


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def logistik_rows(kabkota: str, copies: int, file_ids: bool) -> pl.DataFrame:
    req = desa_requirements().filter(pl.col("kabkota_code") == kabkota)
    one = req.select(
        kode_kabkota="kabkota_code", kode_kecamatan="kecamatan_code", kode_desa="desa_code",
        barang="barang", jumlah_kebutuhan="jumlah_kebutuhan",
    ).with_columns(
        diterima_kabkota=pl.col("jumlah_kebutuhan"), diterima_ppk=pl.col("jumlah_kebutuhan"),
        diterima_pps=pl.col("jumlah_kebutuhan") // 2, diterima_tps=pl.lit(0, pl.Int64),
        rusak=pl.lit(0, pl.Int64), jumlah_tps=req["n_tps"], tps_lengkap=pl.lit(0, pl.Int64),
        moda_angkut=pl.lit("darat"), per_tanggal=week_start("2024-W47"),
        catatan=pl.lit(None, pl.String),
    )
    frames = []
    for i in range(copies):
        offset = 0 if file_ids else i * one.height
        frames.append(one.with_columns(
            _row=pl.int_range(2, one.height + 2, dtype=pl.Int64) + offset,
            _file_id=pl.lit(i + 1 if file_ids else 1),
        ))
    return pl.concat(frames).with_columns(
        _expected_kabkota=pl.lit(kabkota), _week=pl.lit("2024-W47"),
        _week_start=pl.lit(week_start("2024-W47")),
    )


@contextlib.contextmanager
def as_shipped() -> Iterator[None]:
    """GX's own `Expectation.configuration` inside the block (see `validate._building_once`)."""
    kept = validate._building_once
    validate._building_once = contextlib.nullcontext
    try:
        yield
    finally:
        validate._building_once = kept


def timed(label: str, fn):
    t = time.perf_counter()
    result = fn()
    dt = time.perf_counter() - t
    print(f"{label:<58} {dt:8.2f} s   peak RSS {rss_mb():7.0f} MB")
    return result, dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--week", default="2024-W47")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="pilkada-bench-"))
    try:
        settings = replace(load_settings(), warehouse=tmp / "w.duckdb", inbox=str(tmp / "inbox"),
                           archive=tmp / "archive")
        generate(tmp / "inbox", [args.week])
        with connect(settings.warehouse) as con:
            migrate(con)
            load_reference(con)
            timed("import great_expectations", lambda: __import__("great_expectations"))
            archived = [archive(f, settings.archive) for f in list_inbox(settings.inbox)[0]]
            verdicts, dt = timed(f"Kaltim week {args.week}: parse + validate",
                                 lambda: judge(con, archived, settings))
            rows = sum(v.rows_total for v in verdicts)
            print(f"  {len(verdicts)} files, {rows:,} rows, {rows / dt:,.0f} rows/s")
            # the same week again, alternately with GX as shipped: its expectations' configuration
            # rebuilt on every keyword read instead of once per validation (docs/decisions.md)
            for n in range(args.rounds):
                timed(f"  again ({n + 1}), configurations built once",
                      lambda: judge(con, archived, settings))
                with as_shipped():
                    timed(f"  again ({n + 1}), GX as shipped",
                          lambda: judge(con, archived, settings))
            batch = logistik_rows("6402", 53, file_ids=True)
            findings, dt = timed(f"{batch.height:,} logistik rows as 53 clean files, one batch",
                                 lambda: validate_kind(con, "logistik", batch))
            print(f"  {len(findings)} findings, {batch.height / dt:,.0f} rows/s")
            big = logistik_rows("6402", 53, file_ids=False)
            findings, dt = timed(f"{big.height:,} logistik rows in one file (all duplicate)",
                                 lambda: validate_kind(con, "logistik", big))
            print(f"  {len(findings):,} findings, {big.height / dt:,.0f} rows/s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
