"""Analysts' queries are bounded in time, memory and rows, and never touch the live warehouse,
so a careless query can neither run for ever nor make an ingest fail."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.ingest import prepare_warehouse
from samples.kaltim import generate
from tasks.warehouse.database import connect, migrate, snapshot_path
from tasks.warehouse.query import QueryLimits, QueryRefused, QueryStopped, open_read_only, run_query
from tests.pipeline import INGEST_SCRIPT, api_env

ENDLESS = "SELECT count(*) FROM range(100000000000000)"
HUGE = "SELECT i, i::VARCHAR || 'abcdefghij' AS s FROM range(20000000) t(i)"
HUNGRY = ("SELECT s, count(*) FROM (SELECT i::VARCHAR || 'abcdefghij' AS s FROM range(30000000) "
          "t(i)) GROUP BY s ORDER BY 2 DESC LIMIT 1")
CLI = [sys.executable, "-c", "from flows.cli import app; app()"]
PREPARE = ("from flows.ingest import prepare_warehouse\n"
           "from tasks.config import load_settings\n"
           "prepare_warehouse.fn(load_settings().warehouse, '64')\n")
ANALYST = ("import sys\n"  # a query under way, paused mid-stream, as in a notebook
           "from pathlib import Path\n"
           "from tasks.warehouse.query import QueryLimits, open_read_only\n"
           "con = open_read_only(Path(sys.argv[1]), QueryLimits())\n"
           "cur = con.execute('SELECT * FROM range(100000000000000)')\n"
           "print(cur.fetchmany(1), flush=True)\n"
           "sys.stdin.read()\n"
           "print(cur.fetchmany(1), flush=True)\n")

@pytest.fixture
def ready(settings_env) -> Path:
    """A warehouse just migrated by the ingest flow's first step (so it has its snapshot)."""
    prepare_warehouse.fn(settings_env.warehouse, "64")
    return settings_env.warehouse


def test_the_first_migration_publishes_the_snapshot_once(settings_env):
    prepare_warehouse.fn(settings_env.warehouse, "64")
    snap = snapshot_path(settings_env.warehouse)
    first = snap.stat().st_mtime_ns
    # an existing snapshot is left to the end of the run
    prepare_warehouse.fn(settings_env.warehouse, "64")
    assert snap.stat().st_mtime_ns == first
    assert run_query(settings_env.warehouse, "SELECT count(*) FROM ref.kabkota").rows == [(10,)]


def test_an_endless_query_stops_at_its_time_limit(ready):
    started = time.monotonic()
    with pytest.raises(QueryStopped, match=r"melebihi batas waktu 1 detik \(atur dengan --timeout"):
        run_query(ready, ENDLESS, QueryLimits(timeout=1))
    assert time.monotonic() - started < 10


def test_a_hungry_query_stops_at_its_memory_limit(ready):
    with pytest.raises(QueryStopped, match="melebihi batas memori 64MB"):
        run_query(ready, HUNGRY, QueryLimits(memory="64MB", timeout=120))


def test_sql_cannot_raise_the_limits(ready):
    limits = QueryLimits(memory="100MB")
    for statement in ("SET memory_limit = '10GB'", "SET temp_directory = '/tmp'",
                      "RESET memory_limit"):
        with pytest.raises(QueryRefused):
            run_query(ready, statement, limits)
    shown = run_query(ready, "SELECT current_setting('memory_limit')", limits).rows[0][0]
    assert shown.startswith("95.3 MiB")


def test_a_huge_result_is_cut_at_the_row_cap_without_materialising(ready):
    """Twenty million rows would take gigabytes; streaming stops one row past the cap, so even
    an endless result returns at once."""
    result = run_query(ready, HUGE, QueryLimits(max_rows=1000))
    assert len(result.rows) == 1000 and result.truncated
    endless = run_query(ready, "SELECT * FROM range(100000000000000)",
                        QueryLimits(max_rows=5, timeout=30))
    assert endless.rows == [(i,) for i in range(5)] and endless.truncated
    exact = run_query(ready, "SELECT * FROM range(5)", QueryLimits(max_rows=5))
    assert len(exact.rows) == 5 and not exact.truncated


def test_limits_come_from_options_then_environment_then_defaults(monkeypatch):
    assert QueryLimits.from_env() == QueryLimits(60, "1GB", 100_000)
    monkeypatch.setenv("PILKADA_QUERY_TIMEOUT", "5")
    monkeypatch.setenv("PILKADA_QUERY_MEMORY", "2GB")
    monkeypatch.setenv("PILKADA_QUERY_MAX_ROWS", "7")
    assert QueryLimits.from_env() == QueryLimits(5, "2GB", 7)
    assert QueryLimits.from_env(timeout=9, memory="512MB", max_rows=3) == QueryLimits(
        9, "512MB", 3)
    monkeypatch.setenv("PILKADA_QUERY_TIMEOUT", "lama")
    with pytest.raises(ValueError, match="PILKADA_QUERY_TIMEOUT='lama'"):
        QueryLimits.from_env()


def test_cli_over_the_time_limit_is_one_line_and_exit_1(ready):
    proc = subprocess.run([*CLI, "query", "--timeout", "1", ENDLESS],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "Gagal: Kueri dihentikan: melebihi batas waktu 1 detik (atur dengan --timeout atau "
        "PILKADA_QUERY_TIMEOUT)."]


def test_cli_over_the_memory_limit_is_one_line_and_exit_1(ready):
    result = CliRunner().invoke(app, ["query", "--memory-limit", "64MB", "--timeout", "120",
                                      HUNGRY])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "melebihi batas memori 64MB" in result.stderr


def test_cli_cuts_at_the_row_cap_and_says_so_outside_the_data(ready, monkeypatch):
    monkeypatch.setenv("PILKADA_QUERY_MAX_ROWS", "50")
    result = CliRunner().invoke(app, ["query", HUGE, "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == 50
    assert result.stderr.strip().splitlines() == [
        "Catatan: hasil dipotong pada 50 baris pertama; kueri menghasilkan lebih banyak. "
        "Persempit dengan WHERE, LIMIT atau agregasi, atau atur --max-rows "
        "(PILKADA_QUERY_MAX_ROWS)."]
    result = CliRunner().invoke(app, ["query", HUGE, "--format", "json", "--max-rows", "3"])
    assert result.exit_code == 0 and result.stdout.count('"s"') == 3
    assert "dipotong pada 3 baris" in result.stderr


@pytest.mark.parametrize("args", [["--memory-limit", "banyak"], ["--timeout", "0"],
                                  ["--max-rows", "0"]])
def test_cli_bad_limits_are_bad_usage(ready, args):
    result = CliRunner().invoke(app, ["query", "SELECT 1", *args])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit)
    assert len(result.stderr.strip().splitlines()) == 1


def test_queries_never_open_the_live_warehouse(settings_env):
    """A warehouse without a snapshot (made before snapshots came first) is not read in its
    place: here an ingest holds it, and the analyst gets words, not DuckDB's lock error."""
    with connect(settings_env.warehouse) as con:
        migrate(con)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys\ncon = duckdb.connect(sys.argv[1])\n"
                               "print('open', flush=True)\nsys.stdin.read()\n",
         str(settings_env.warehouse)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(QueryRefused, match=r"Snapshot analis .* belum ada; jalankan "
                                               r"`pilkada ingest`"):
            open_read_only(settings_env.warehouse)
        result = CliRunner().invoke(app, ["status", "--week", "2024-W47"])
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert result.exit_code == 1 and "Snapshot analis" in result.stderr


def test_a_long_query_from_the_first_day_never_fails_an_ingest(settings_env, prefect_harness):
    """Real processes: the warehouse is only migrated (no ingest has finished), an analyst starts
    a long query, and an ingest runs meanwhile to the end."""
    subprocess.run([sys.executable, "-c", PREPARE], check=True, timeout=300)
    generate(Path(settings_env.inbox), ["2024-W47"])
    analyst = subprocess.Popen([sys.executable, "-c", ANALYST, str(settings_env.warehouse)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert analyst.stdout.readline().strip() == "[(0,)]"
        ingest = subprocess.run([sys.executable, "-c", INGEST_SCRIPT], capture_output=True,
                                text=True, timeout=600, env=api_env())
        assert ingest.returncode == 0, ingest.stderr[-2000:]
        out, _ = analyst.communicate("", timeout=30)  # the query goes on where it was
        assert analyst.returncode == 0 and out.strip() == "[(1,)]"
    finally:
        analyst.kill()
    rows = run_query(settings_env.warehouse, "SELECT count(*) FROM raw.file WHERE week = "
                                             "'2024-W47'").rows
    assert rows[0][0] > 0

