"""Inboxes that are not local folders: an fsspec `memory://` inbox, end to end.

The pipeline lists, hashes and archives through fsspec, so any fsspec URL (S3, GCS, SFTP, …)
works the same way; `memory://` stands in for them without a network.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from pathlib import Path

import fsspec
import pytest

from samples.kaltim import generate
from tasks.config import load_settings
from tests.pipeline import ingest

# the tests here run the ingest flow (tests/pipeline.py) on the session's Prefect server
pytestmark = pytest.mark.usefixtures("prefect_harness")

WEEKS = ["2024-W41", "2024-W42"]
KABKOTA = {"6474", "6411"}  # Bontang and Mahakam Ulu: every kind, small files
EXTRA = {("6403", "keamanan")}  # Berau's keamanan: Windows-1252, ';' and 1.234 (Excel ID)


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory) -> list:
    out = tmp_path_factory.mktemp("sample")
    files = generate(out, WEEKS)
    chosen = [f for f in files if f.kabkota in KABKOTA or (f.kabkota, f.kind) in EXTRA]
    assert len(chosen) == len(KABKOTA) * 5 * len(WEEKS) + len(EXTRA) * len(WEEKS)
    return [(f, f.path.relative_to(out).as_posix()) for f in chosen]


@pytest.fixture
def memory_inbox(settings_env, monkeypatch):
    """A unique root in the (process-wide) memory file system, removed afterwards."""
    fs = fsspec.filesystem("memory")
    root = f"/pilkada-inbox-{uuid.uuid4().hex}"
    fs.mkdir(root)
    monkeypatch.setenv("PILKADA_INBOX", f"memory://{root}")
    settings = load_settings()
    try:
        yield fs, root, settings
    finally:
        if fs.exists(root):
            fs.rm(root, recursive=True)
        assert not [p for p in fs.store if p.startswith(root + "/")]


def put(fs, root: str, rel: str, data: bytes, mtime: float) -> None:
    """Write into the memory inbox with the sample's modification time (the memory file
    system reports it as `created`, which the pull step reads as the receipt time)."""
    path = f"{root}/{rel}"
    fs.pipe(path, data)
    fs.store[path].created = datetime.fromtimestamp(mtime, UTC)


def ledger(con) -> dict[str, dict]:
    cur = con.execute("SELECT s.*, f.archive_path, f.source_mtime FROM audit.submission_status s "
                      "JOIN raw.file f USING (file_id) ORDER BY file_id")
    names = [d[0] for d in cur.description]
    return {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


def counts(con) -> dict[str, int]:
    tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                         "WHERE schema_name IN ('raw', 'audit', 'core') ORDER BY ALL").fetchall()
    out = {}
    for s, t in tables:
        ((n,),) = con.execute(f"SELECT count(*) FROM {s}.{t}").fetchall()
        out[f"{s}.{t}"] = n
    return out


def test_memory_inbox_end_to_end(warehouse, memory_inbox, sample_files):
    fs, root, settings = memory_inbox
    assert settings.inbox.startswith("memory://")
    expected = {}
    for f, rel in sample_files:
        data = f.path.read_bytes()
        put(fs, root, rel, data, f.path.stat().st_mtime)
        expected[rel] = (f, data)

    results = ingest(settings)
    assert len(results) == len(sample_files)
    rows = ledger(warehouse)
    assert set(rows) == set(expected)
    for rel, (f, data) in expected.items():
        row = rows[rel]
        assert f.expected_status == "accepted"
        assert (row["status"], row["reason"]) == ("accepted", ""), (rel, row["reason"])
        assert (row["kabkota_code"], row["kind"], row["week"]) == (f.kabkota, f.kind, f.week)
        assert row["is_late"] is False, rel
        assert row["received_at"] == datetime.fromtimestamp(f.path.stat().st_mtime, UTC), rel
        assert row["sha256"] == hashlib.sha256(data).hexdigest(), rel
        archived = Path(row["archive_path"])
        assert archived.is_relative_to(settings.archive), rel
        assert archived.read_bytes() == data, rel  # the raw bytes, archived locally
        assert row["rows_total"] > 0 or f.kind in ("insiden", "netralitas"), rel
    # rows landed in core for every kind
    before = counts(warehouse)
    for kind in ("ringkasan", "logistik", "keamanan", "insiden", "netralitas"):
        if kind not in ("insiden", "netralitas"):
            assert before[f"core.{kind}"] > 0, kind
    assert before["raw.file"] == before["audit.submission"] == len(sample_files)

    # a rerun over the same memory inbox adds nothing
    assert ingest(settings) == []
    assert counts(warehouse) == before


def test_memory_inbox_picks_up_only_new_files(warehouse, memory_inbox, sample_files):
    fs, root, settings = memory_inbox
    first_week = [(f, rel) for f, rel in sample_files if f.week == WEEKS[0]]
    for f, rel in first_week:
        put(fs, root, rel, f.path.read_bytes(), f.path.stat().st_mtime)
    assert len(ingest(settings)) == len(first_week)

    (f, rel) = next((f, rel) for f, rel in sample_files
                    if f.week == WEEKS[1] and (f.kabkota, f.kind) == ("6474", "logistik"))
    put(fs, root, rel, f.path.read_bytes(), f.path.stat().st_mtime)
    put(fs, root, "6474/catatan rapat.csv", b"bukan laporan\n", f.path.stat().st_mtime)
    second = ingest(settings)
    got = {v.source_path: v.verdict for v in second}
    assert got == {rel: "accepted", "6474/catatan rapat.csv": "rejected"}
    rows = ledger(warehouse)
    rejected = rows["6474/catatan rapat.csv"]
    assert Path(rejected["archive_path"]).read_bytes() == b"bukan laporan\n"
    assert "tidak sesuai pola" in rejected["reason"]
    assert ingest(settings) == []


def test_missing_memory_inbox_says_so(settings_env, monkeypatch):
    import flows.ingest

    monkeypatch.setenv("PILKADA_INBOX", f"memory:///pilkada-missing-{uuid.uuid4().hex}")
    monkeypatch.setattr(flows.ingest, "pull_inbox",  # its retries, without their 5 s waits
                        flows.ingest.pull_inbox.with_options(retry_delay_seconds=0))
    with pytest.raises(FileNotFoundError, match="tidak ditemukan"):
        ingest(load_settings())
