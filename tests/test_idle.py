"""`pilkada ingest` with nothing to do: decided without Prefect or GX, and only when the flow
would indeed change nothing (`tasks/ingest/idle.py`). The state is made the way the flow makes
it (pull, judge, load, feedback, checkpoint, snapshot), with plain functions;
`tests/test_flows.py` checks that the real flow's own end state is recognised as idle."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tasks.ingest.idle import nothing_to_ingest
from tasks.warehouse.database import connect, publish_snapshot
from tasks.warehouse.lock import exclusive
from tests.pipeline import ingest

# the tests here run the ingest flow (tests/pipeline.py) on the session's Prefect server
pytestmark = pytest.mark.usefixtures("prefect_harness")

# Named for a kab/kota outside Kaltim: judged (rejected for its area) and loaded without a GX
# validation; the ledger and fingerprints are those of any file.
FILE = "9901/9901_logistik_2024-W47.csv"


def _settle(settings) -> None:
    """What an ingest run ends with: every write checkpointed and closed, then the snapshot."""
    with connect(settings.warehouse) as con:
        con.execute("CHECKPOINT")
    time.sleep(0.01)  # the snapshot's mtime is then strictly later than the warehouse's
    publish_snapshot(settings.warehouse)


@pytest.fixture
def ingested(settings_env):
    """A warehouse that has loaded the inbox's one file and written its feedback, published: the
    ingest flow's run over it."""
    path = Path(settings_env.inbox) / FILE
    path.parent.mkdir(parents=True)
    path.write_text("kode_desa,item,jumlah\n9901010001,surat_suara,10\n")
    assert len(ingest(settings_env)) == 1
    assert nothing_to_ingest(settings_env) is not None  # every case below starts idle
    return settings_env


def test_idle_command_imports_neither_prefect_nor_gx(ingested):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "from flows.cli import app; app()", "ingest"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Tidak ada yang baru: 1 berkas" in proc.stdout
    assert "Ingest selesai: {'files': 0}" in proc.stdout
    imported = {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    assert "duckdb" in imported  # the import log is read (the check below can fail)
    assert not {m for m in imported if m.split(".")[0] in ("prefect", "great_expectations")}


def test_a_rewritten_or_new_file_runs_the_flow(ingested):
    path = Path(ingested.inbox) / FILE
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert nothing_to_ingest(ingested) is None  # same bytes, new fingerprint: the pull re-hashes
    other = Path(ingested.inbox) / "9901" / "9901_keamanan_2024-W47.csv"
    other.write_text("kode_kecamatan\n")
    assert nothing_to_ingest(ingested) is None


def test_what_is_not_a_submission_runs_the_flow(ingested):
    (Path(ingested.inbox) / "9901" / ".~lock.csv#").write_text("")  # recorded and reported
    assert nothing_to_ingest(ingested) is None


def test_feedback_owed_runs_the_flow(ingested):
    with connect(ingested.warehouse) as con:
        con.execute("DELETE FROM audit.feedback_written")
    _settle(ingested)
    assert nothing_to_ingest(ingested) is None


def test_a_write_after_the_snapshot_runs_the_flow(ingested):
    with connect(ingested.warehouse) as con:
        con.execute("CREATE TABLE meta.touched AS SELECT 1 AS x")
    assert nothing_to_ingest(ingested) is None  # it would publish the snapshot again


def test_another_scope_or_a_mailbox_or_a_busy_lock_runs_the_flow(ingested):
    assert nothing_to_ingest(replace(ingested, province="63")) is None  # reference to reload
    assert nothing_to_ingest(replace(ingested, imap=object())) is None  # unread mail unknown
    with exclusive(ingested.lock_path, "ingest lain"):
        assert nothing_to_ingest(ingested) is None  # the flow waits for the holder instead


def test_a_newer_view_runs_the_flow(ingested, monkeypatch):
    from tasks.ingest import idle

    later = time.time() + 60
    newer = Path(ingested.warehouse).with_name("99_view.sql")
    newer.write_text("-- a view deployed after the last run\n")
    os.utime(newer, (later, later))
    monkeypatch.setattr(idle, "schema_files", lambda: [newer])
    assert nothing_to_ingest(ingested) is None
