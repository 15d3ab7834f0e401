"""Security: personal data refused, analysts' queries cannot write or reach other files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.warehouse.database import publish_snapshot
from tasks.warehouse.query import QueryRefused, run_query
from tests.pipeline import ingest

HEADER = ("kode_kabkota,id_kasus,ref_subjek,jenis_pegawai,instansi,jabatan,tanggal_lapor,asal,"
          "jenis_pelanggaran,tahap,tanggal_tahap,sanksi\n")
ROW = "6474,ASN-6474-{n:03d},{subj},pns,Dinas Pendidikan,Guru,2024-11-19,temuan_bawaslu,"\
      "media_sosial,registrasi,2024-11-19,\n"
NIP, NAME = "198503122010011002", "Budi Santoso"


def test_names_and_nips_are_refused_and_never_stored(warehouse, settings_env, prefect_harness):
    folder = Path(settings_env.inbox) / "6474"
    folder.mkdir()
    rows = [ROW.format(n=1, subj=NIP), ROW.format(n=2, subj=NAME)]
    rows += [ROW.format(n=n, subj=f"SBJ-6474-{n:04X}") for n in range(3, 8)]
    (folder / "6474_netralitas_2024-W47.csv").write_text(HEADER + "".join(rows), encoding="utf-8")
    ingest(settings_env)
    stored = str(warehouse.execute("SELECT * FROM core.netralitas").fetchall())
    messages = str(warehouse.execute("SELECT message FROM audit.row_issue").fetchall())
    for secret in (NIP, NAME):
        assert secret not in stored and secret not in messages
    flagged = warehouse.execute(
        "SELECT id_kasus, ref_subjek, flagged FROM core.netralitas WHERE flagged ORDER BY 1"
    ).fetchall()
    assert flagged == [("ASN-6474-001", None, True), ("ASN-6474-002", None, True)]
    assert "SBJ-6474-0003" in stored  # pseudonyms are kept


@pytest.mark.parametrize("query", [
    "INSERT INTO raw.file (file_id) VALUES (99)",
    "DROP VIEW mart.kabkota_weekly",
    "CREATE TABLE x AS SELECT 1",
    "ATTACH '/tmp/other.duckdb' AS other",
    "COPY (SELECT 1) TO '/tmp/leak.csv'",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "INSTALL httpfs",
    "SET enable_external_access = true",
    "PRAGMA enable_checkpoint_on_shutdown",
])
def test_analyst_queries_cannot_write_or_escape(warehouse, settings_env, query):
    warehouse.execute("CHECKPOINT")
    publish_snapshot(settings_env.warehouse)
    with pytest.raises(QueryRefused):
        run_query(settings_env.warehouse, query)
    assert not Path("/tmp/leak.csv").exists()
