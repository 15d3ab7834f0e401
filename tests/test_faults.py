"""Faults injected for real: SIGKILL in the middle of a load, and two ingests at once.

The ingest killed or starved is the flow `ingest-submissions` in a process of its own, as
`pilkada ingest` runs it (on the session's Prefect test server); the reruns are the flow too."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

import flows.ingest
from samples.kaltim import generate
from tasks.warehouse.database import connect, migrate
from tasks.warehouse.lock import LockBusy, exclusive
from tests.faultpoints import kill_at
from tests.pipeline import INGEST_SCRIPT, api_env, ingest

pytestmark = pytest.mark.faults

TABLES = ["raw.file", "audit.submission", "audit.row_issue", "core.ringkasan", "core.logistik",
          "core.keamanan", "core.insiden", "core.netralitas"]
WEEKS = ["2024-W46", "2024-W47"]


def _counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def test_sigkill_mid_load_leaves_warehouse_as_before_that_file(settings_env, tmp_path,
                                                              prefect_harness):
    generate(Path(settings_env.inbox), WEEKS)
    kill_at("load-before-commit", INGEST_SCRIPT, [], tmp_path, env=api_env())

    # The first week's batch was mid-transaction: nothing of it may be visible.
    assert _counts(settings_env.warehouse) == dict.fromkeys(TABLES, 0)

    ingest(settings_env)  # the rerun picks the file up again
    after_rerun = _counts(settings_env.warehouse)

    clean = tmp_path / "clean"
    clean_settings = replace(settings_env, warehouse=clean / "w.duckdb",
                             archive=clean / "archive")
    ingest(clean_settings)
    assert after_rerun == _counts(clean_settings.warehouse)
    with duckdb.connect(str(settings_env.warehouse), read_only=True) as con:
        dupes = con.execute(
            "SELECT count(*) FROM (SELECT source_path FROM raw.file GROUP BY 1 HAVING count(*) > 1)"
        ).fetchone()[0]
    assert dupes == 0


def _hold_lock(lock: Path, seconds: float) -> subprocess.Popen:
    """Another process holding the ingest lock for `seconds`, returned once it holds it."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import time; from pathlib import Path; from tasks.warehouse.lock import exclusive\n"
         f"with exclusive(Path({str(lock)!r}), 'Proses ingest'):\n"
         f"    print('held', flush=True); time.sleep({seconds})"],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_second_ingest_is_refused_while_one_runs(settings_env, tmp_path):
    holder = _hold_lock(settings_env.lock_path, 60)
    try:
        with pytest.raises(LockBusy, match="sedang berjalan") as exc, \
                exclusive(settings_env.lock_path, "Proses ingest"):
            pass
        assert str(holder.pid) in str(exc.value)
    finally:
        holder.kill()
        holder.wait()
    with exclusive(settings_env.lock_path, "Proses ingest"):
        pass  # released once the holder is gone


def test_a_waiting_run_gets_the_lock_when_the_holder_finishes(settings_env):
    holder = _hold_lock(settings_env.lock_path, 2)
    try:
        started = time.monotonic()
        with exclusive(settings_env.lock_path, "Pembuatan buletin", wait_seconds=30):
            waited = time.monotonic() - started
        assert holder.wait(timeout=30) == 0
        assert waited > 0.5  # it really waited for the holder rather than barging in
    finally:
        holder.kill()


def test_unwritable_archive_stops_the_run_before_anything_is_loaded(settings_env, tmp_path,
                                                                   prefect_harness, monkeypatch):
    """Raw bytes must be archived before a file counts: if they cannot be, nothing is loaded,
    and a rerun once the archive is writable reaches the same state as a clean run."""
    generate(Path(settings_env.inbox), ["2024-W47"])
    blocked = tmp_path / "archive-is-a-file"
    blocked.write_text("not a folder")
    monkeypatch.setattr(flows.ingest, "pull_inbox",  # its retries, without their 5 s waits
                        flows.ingest.pull_inbox.with_options(retry_delay_seconds=0))
    with pytest.raises(OSError):
        ingest(replace(settings_env, archive=blocked / "sub"))
    assert _counts(settings_env.warehouse) == dict.fromkeys(TABLES, 0)

    ingest(settings_env)
    clean = tmp_path / "clean"
    ingest(replace(settings_env, warehouse=clean / "w.duckdb", archive=clean / "archive"))
    assert _counts(settings_env.warehouse) == _counts(clean / "w.duckdb")


def test_disk_full_while_archiving_loses_nothing(settings_env, tmp_path, prefect_harness):
    """A file-size limit makes writes fail like a full disk (EFBIG) in a real ingest process:
    the warehouse is prepared first, the disk "fills" as the pull starts archiving."""
    generate(Path(settings_env.inbox), ["2024-W47"])
    limited = (
        "import resource, signal\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "import flows.ingest as flow\n"
        "import tasks.ingest.judge as judge\n"
        "from tasks.config import load_settings\n"
        "s = load_settings()\n"
        "flow.prepare_warehouse.fn(s.warehouse, s.province)\n"
        "flow.pull_inbox = flow.pull_inbox.with_options(retry_delay_seconds=0)\n"
        "listing = judge.list_inbox\n"
        "def full_from_here(*args):\n"
        "    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))\n"
        "    return listing(*args)\n"
        "judge.list_inbox = full_from_here\n"
        "flow.ingest_submissions()\n"
    )
    proc = subprocess.run([sys.executable, "-c", limited], capture_output=True, text=True,
                          env=api_env(), timeout=300)
    assert proc.returncode != 0
    assert "File too large" in proc.stderr or "Errno 27" in proc.stderr
    assert "pull-inbox" in proc.stderr + proc.stdout  # the archiving step is what failed
    ingest(settings_env)  # space again: the rerun completes
    clean = tmp_path / "clean"
    ingest(replace(settings_env, warehouse=clean / "w.duckdb", archive=clean / "archive"))
    assert _counts(settings_env.warehouse) == _counts(clean / "w.duckdb")


def test_unreachable_prefect_api_is_a_clear_error(settings_env):
    """A wrong PREFECT_API_URL ends in one line that says what to do, exit code 1 (a fresh
    process: Prefect reads its settings once per process)."""
    from tests.smtp_server import free_port

    env = {**os.environ, "PREFECT_API_URL": f"http://127.0.0.1:{free_port()}/api"}
    proc = subprocess.run([sys.executable, "-c", "from flows.cli import app; app()", "ingest"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert "tidak dapat dihubungi" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_sigkill_while_building_marts_then_rerun_gives_the_clean_figures(settings_env, tmp_path,
                                                                       prefect_harness):
    generate(Path(settings_env.inbox), ["2024-W46", "2024-W47"])
    ingest(settings_env)
    query = "SELECT * FROM mart.kabkota_weekly ORDER BY week, kabkota_code"
    with connect(settings_env.warehouse) as con:
        expected = _rounded(con.execute(query).fetchall())
    # The views are current after the ingest: force the build, as changed SQL would.
    build = ("from tasks.config import load_settings\n"
             "from tasks.warehouse.database import build_views, connect\n"
             "with connect(load_settings().warehouse) as con:\n"
             "    build_views(con, force=True)\n")
    kill_at("views-after-20_mart_logistik", build, [], tmp_path)
    built = "SELECT count(*) FROM meta.view_build"
    with connect(settings_env.warehouse) as con:
        assert con.execute(built).fetchone() == (0,)  # the build cut short is not on record
        migrate(con)  # the bulletin flow's build-marts step, run again: it builds them all
        assert con.execute(built).fetchone() == (1,)
        assert _rounded(con.execute(query).fetchall()) == expected


def _rounded(rows: list[tuple]) -> list[tuple]:
    """Parallel sums may differ in the last bit from run to run; figures are equal to 1e-9."""
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in r) for r in rows]
