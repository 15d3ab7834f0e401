"""Issue 18: the Monday run lists the week's overdue follow-ups for the data team, and the
provincial desk's files (sent under the province code, `64/64_tindak_lanjut_<week>.csv`) are
answered and shown like a kab/kota desk's.

On the session's Prefect test server: two weeks of follow-ups ingested (the provincial desk's and
Samarinda's; in 2024-W47 the provincial desk drops an open follow-up from its report and misnames
an agency),
then the bulletin of 2024-W47 (three overdue) and of 2024-W46 (none yet). What the runs left is read
back through the Prefect client; `pilkada status` reads the snapshot the ingest published."""

from __future__ import annotations

import io
import json
import os
import re
from datetime import datetime

import duckdb
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.logging.handlers import APILogHandler
from rich.console import Console
from typer.testing import CliRunner

from flows.bulletin import weekly_bulletin
from flows.ingest import ingest_submissions
from tasks.config import WITA
from tasks.ingest.summary import OVERDUE_KEY
from tests.pipeline import site
from tests.test_feedback import to_csv

pytestmark = pytest.mark.flow
WEEK, NONE_WEEK = "2024-W47", "2024-W46"  # the Mondays after them: 2024-11-25, 2024-11-18
ARRIVED = {"2024-W46": datetime(2024, 11, 15, 10, 0, tzinfo=WITA),
           "2024-W47": datetime(2024, 11, 22, 10, 0, tzinfo=WITA)}


def follow_up(sender: str, n: int, where: str, due: str, status: str, **extra) -> dict:
    return {"kode_kabkota": where, "id_tindak_lanjut": f"TL-{sender}-{n:03d}",
            "tanggal_keputusan": "2024-11-11", "forum": "rakor_forkopimda", "bidang": "logistik",
            "isu": f"Isu {n}", "tindakan": f"Tindakan {sender}-{n}", "instansi": "kpu",
            "tenggat": due, "status": status, "tanggal_status": "2024-11-14", "catatan": "",
            **extra}


FILES = {
    # the provincial desk: 001 (Mahakam Ulu) due 20 Nov, 002 (the whole province) due 29 Nov,
    # 003 (Samarinda) due 18 Nov and still `terkendala` when W47's report drops it; none of them
    # is overdue on the Monday after W46 (due on that day is not late)
    "64/64_tindak_lanjut_2024-W46.csv": [
        follow_up("64", 1, "6411", "2024-11-20", "berjalan"),
        follow_up("64", 2, "64", "2024-11-29", "baru"),
        follow_up("64", 3, "6472", "2024-11-18", "terkendala")],
    "64/64_tindak_lanjut_2024-W47.csv": [
        follow_up("64", 1, "6411", "2024-11-20", "berjalan"),
        follow_up("64", 2, "64", "2024-11-29", "baru", instansi="Kodim 0908")],  # flagged
    # Samarinda: one done, one overdue since 19 Nov
    "6472/6472_tindak_lanjut_2024-W47.csv": [
        follow_up("6472", 1, "6472", "2024-11-18", "selesai", tanggal_status="2024-11-18"),
        follow_up("6472", 2, "6472", "2024-11-19", "terkendala")],
}


def _read_back(flow_run_id) -> tuple[dict, list]:
    with get_client(sync_client=True) as client:
        artifacts = {a.key: a for a in client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))}
        logs = client.read_logs(log_filter=LogFilter(
            flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])), limit=200)
    return artifacts, logs


@pytest.fixture(scope="module")
def runs(tmp_path_factory, prefect_harness):
    root = tmp_path_factory.mktemp("tindak-lanjut")
    mp = pytest.MonkeyPatch()
    settings = site(root, mp)
    for rel, rows in FILES.items():
        path = root / "inbox" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(to_csv(rows, "tindak_lanjut"))
        when = ARRIVED[rel[-12:-4]].timestamp()
        os.utime(path, (when, when))
    ingest_submissions()
    week = weekly_bulletin(week=WEEK, return_state=True)
    none = weekly_bulletin(week=NONE_WEEK, return_state=True)
    APILogHandler().flush()  # logs are sent in batches: all of them before reading back
    artifacts, logs = _read_back(week.state_details.flow_run_id)
    none_artifacts, _ = _read_back(none.state_details.flow_run_id)
    yield {"root": root, "settings": settings, "week": week.result(), "artifacts": artifacts,
           "logs": logs, "none": none_artifacts}
    mp.undo()


def test_the_weeks_overdue_follow_ups_are_a_table_longest_overdue_first(runs):
    artifact = runs["artifacts"][OVERDUE_KEY]
    assert artifact.type == "table"
    assert artifact.description == f"3 tindak lanjut terlambat minggu {WEEK} (terlama lebih dulu)"
    rows = json.loads(artifact.data)
    assert [(r["id"], r["hari lewat tenggat"]) for r in rows] == [
        ("TL-64-003", 7), ("TL-6472-002", 6), ("TL-64-001", 5)]
    dropped, samarinda, mahulu = rows
    assert dropped == {
        "wilayah": "Samarinda (6472)", "pengirim": "desk provinsi (64)", "id": "TL-64-003",
        "tindakan": "Tindakan 64-3", "instansi": "KPU", "tenggat": "2024-11-18",
        "hari lewat tenggat": 7, "status": "Terkendala",
        "hilang dari laporan": "ya (terakhir dilaporkan 2024-W46)"}
    assert samarinda["pengirim"] == "desk Samarinda (6472)"
    assert samarinda["hilang dari laporan"] == "tidak"
    assert mahulu["wilayah"] == "Mahulu (6411)" and mahulu["status"] == "Berjalan"
    # done (TL-6472-001) and not yet due (TL-64-002, the whole province) are not listed
    assert not {"TL-6472-001", "TL-64-002"} & {r["id"] for r in rows}


def test_a_warning_names_the_count_and_the_bulletin_note_says_it(runs):
    warnings = [log.message for log in runs["logs"] if log.level == 30]
    assert any(m.startswith(f"Tindak lanjut terlambat minggu {WEEK}: 3 (1 tidak lagi "
                            "dicantumkan pengirimnya)") and OVERDUE_KEY in m
               for m in warnings), warnings
    assert runs["week"]["tindak_lanjut_terlambat"] == 3
    note = runs["artifacts"]["weekly-bulletin"].data
    assert f"3 tindak lanjut terlambat (tabel `{OVERDUE_KEY}`)." in note


def test_a_week_without_overdue_follow_ups_says_so(runs):
    artifact = runs["none"][OVERDUE_KEY]
    assert artifact.type == "markdown"
    assert "Tidak ada tindak lanjut yang terlambat" in artifact.data
    assert artifact.description == f"Tidak ada tindak lanjut terlambat minggu {NONE_WEEK}"
    assert "Tidak ada tindak lanjut yang terlambat." in runs["none"]["weekly-bulletin"].data


def test_the_provincial_desks_files_get_feedback_under_its_code(runs):
    folder = runs["root"] / "outbox" / "feedback" / "64"
    notes = sorted(p.name for p in folder.glob("*.umpan-balik.txt"))
    assert notes == ["64_tindak_lanjut_2024-W46.csv.1.umpan-balik.txt",
                     "64_tindak_lanjut_2024-W47.csv.2.umpan-balik.txt"]
    text = (folder / notes[1]).read_text(encoding="utf-8")
    assert "Provinsi      : 64 (desk provinsi)" in text and "Kab/kota" not in text
    assert "DITERIMA DENGAN CATATAN" in text and "TL-64-003" in text and "Kodim 0908" in text
    assert list(folder.glob("*2024-W47.csv.2.temuan.csv"))


def test_status_shows_follow_ups_as_optional_and_the_provincial_desk(runs, monkeypatch):
    from flows import cli

    console = Console(file=io.StringIO(), width=200)  # one table row per line
    monkeypatch.setattr(cli, "out", console)
    result = CliRunner().invoke(cli.app, ["status", "--week", WEEK])
    assert result.exit_code == 0, result.output
    text = console.file.getvalue()
    assert re.search(r"64 Desk provinsi Kalimantan Timur\s*│ tindak_lanjut │ tepat_waktu │ 1 "
                     r"\s*│ accepted_with_flags │ 1 ", text), text
    assert re.search(r"6472 Samarinda\s*│ tindak_lanjut │ tepat_waktu", text)
    assert re.search(r"6474 Bontang\s*│ tindak_lanjut │ tidak_wajib", text)
    assert re.search(r"6474 Bontang\s*│ netralitas\s*│ belum_ada", text)
    # only the five required kinds of the ten kab/kota are owed; follow-ups are counted apart
    assert (f"Minggu {WEEK}: 0 tepat waktu, 0 terlambat, 50 belum ada (dari 50 kiriman wajib); "
            "0 file ditolak; 2 kiriman tidak wajib (tindak lanjut) diterima.") in text


def test_only_the_required_kinds_are_owed_in_the_data_quality_mart(runs):
    with duckdb.connect(str(runs["settings"].warehouse), read_only=True) as con:
        missing = con.execute("SELECT DISTINCT unnest(jenis_hilang) FROM mart.kualitas_data_weekly "
                              "WHERE week = ?", [WEEK]).fetchall()
    assert sorted(k for (k,) in missing) == sorted(
        ["ringkasan", "logistik", "keamanan", "insiden", "netralitas"])
