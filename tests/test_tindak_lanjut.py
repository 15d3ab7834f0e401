"""Follow-ups (tindak lanjut) end to end: files in the inbox → verdicts → the marts.

Three weeks of a kab/kota desk (6411) and the provincial desk (64), ingested week by week through
the real pull, parse, validate and load, then the follow-ups' state read back from
`mart.tindak_lanjut` and its per-agency and per-kab/kota views (docs/metrics.md, "Tindak lanjut").
"""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import pytest

from tasks.config import WITA
from tests.pipeline import ingest

# the tests here run the ingest flow (tests/pipeline.py) on the session's Prefect server
pytestmark = pytest.mark.usefixtures("prefect_harness")

HEADER = ("kode_kabkota,id_tindak_lanjut,tanggal_keputusan,forum,bidang,isu,tindakan,instansi,"
          "tenggat,status,tanggal_status,catatan")


def _send(inbox: Path, sender: str, kind: str, week: str, lines: list[str],
          sent: datetime) -> None:
    """Drop a CSV in the inbox, its modification time the moment the desk sent it (the tests
    replay with PILKADA_ARRIVAL=mtime)."""
    path = inbox / sender / f"{sender}_{kind}_{week}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEADER, *lines]) + "\n", encoding="utf-8")
    t = sent.replace(tzinfo=WITA).timestamp()
    os.utime(path, (t, t))


def _row(kab: str, id_: str, decided: str, bidang: str, tindakan: str, instansi: str,
         due: str, status: str, status_date: str, note: str = "") -> str:
    return (f"{kab},{id_},{decided},desk_pilkada,{bidang},Isu {id_},{tindakan},{instansi},{due},"
            f"{status},{status_date},{note}")


@pytest.fixture
def campaign(settings_env, warehouse):
    """W45–W47 as the desks send them; returns the verdicts by (sender, week)."""
    inbox = Path(settings_env.inbox)
    weeks = {
        "2024-W45": {
            "6411": [
                _row("6411", "TL-6411-01", "2024-11-04", "logistik", "Angkutan udara ke Long Apari",
                     "tni", "2024-11-08", "baru", "2024-11-04"),
                _row("6411", "TL-6411-02", "2024-11-04", "logistik", "Ganti kotak suara rusak",
                     "kpu", "2024-11-15", "berjalan", "2024-11-07"),
            ],
            "64": [
                _row("6407", "TL-64-01", "2024-11-04", "keamanan", "Pengamanan TPS sangat rawan",
                     "polri", "2024-11-06", "baru", "2024-11-04"),
                _row("64", "TL-64-02", "2024-11-04", "netralitas", "Surat edaran netralitas ASN",
                     "pemda", "2024-11-20", "berjalan", "2024-11-06"),
            ],
        },
        "2024-W46": {
            # TL-6411-01 done four days late; TL-6411-02 (still open) silently dropped
            "6411": [
                _row("6411", "TL-6411-01", "2024-11-04", "logistik", "Angkutan udara ke Long Apari",
                     "tni", "2024-11-08", "selesai", "2024-11-12"),
            ],
            "64": [
                _row("6407", "TL-64-01", "2024-11-04", "keamanan", "Pengamanan TPS sangat rawan",
                     "polri", "2024-11-06", "terkendala", "2024-11-13", "personel belum tiba"),
                _row("64", "TL-64-02", "2024-11-04", "netralitas", "Surat edaran netralitas ASN",
                     "pemda", "2024-11-20", "selesai", "2024-11-14"),
            ],
        },
    }
    verdicts = {}
    for week, senders in weeks.items():
        monday = datetime.strptime(week + "-1", "%G-W%V-%u")
        for sender, lines in senders.items():
            _send(inbox, sender, "tindak_lanjut", week, lines, monday.replace(day=monday.day + 4))
        for v in ingest(settings_env):
            verdicts[(v.kabkota_code, v.week)] = v
    # W47: nobody sends follow-ups; a ringkasan (any file) makes the week known to the marts
    (inbox / "6401").mkdir()
    (inbox / "6401" / "6401_ringkasan_2024-W47.csv").write_text("tidak,sah\n", encoding="utf-8")
    ingest(settings_env)
    return verdicts


def _state(con, week: str) -> dict[str, dict]:
    cur = con.execute("SELECT * FROM mart.tindak_lanjut WHERE week = ?", [week])
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return {r["id_tindak_lanjut"]: r for r in rows}


def test_every_follow_up_report_gets_its_verdict(campaign):
    assert {k: v.verdict for k, v in campaign.items()} == {
        ("6411", "2024-W45"): "accepted", ("64", "2024-W45"): "accepted",
        ("6411", "2024-W46"): "accepted_with_flags", ("64", "2024-W46"): "accepted",
    }
    dropped = [f for f in campaign[("6411", "2024-W46")].findings]
    assert [(f.row, f.rule) for f in dropped] == [(None, "tindak_lanjut_hilang")]
    assert "TL-6411-02" in dropped[0].message and "berjalan" in dropped[0].message


def test_overdue_is_open_past_the_due_date_as_of_the_monday_after(campaign, warehouse):
    w45 = _state(warehouse, "2024-W45")
    assert w45["TL-64-01"]["tanggal_acuan"] == date(2024, 11, 11)
    assert (w45["TL-64-01"]["terlambat"], w45["TL-64-01"]["hari_lewat_tenggat"]) == (True, 5)
    assert (w45["TL-6411-01"]["terlambat"], w45["TL-6411-01"]["hari_lewat_tenggat"]) == (True, 3)
    assert (w45["TL-6411-02"]["terlambat"], w45["TL-6411-02"]["hari_lewat_tenggat"]) == (False,
                                                                                         None)
    assert w45["TL-6411-02"]["hari_terbuka"] == 7  # 4 Nov → Monday 11 Nov
    assert all(r["baru_minggu_ini"] for r in w45.values())


def test_done_this_week_done_late_and_days_open(campaign, warehouse):
    w46, w47 = _state(warehouse, "2024-W46"), _state(warehouse, "2024-W47")
    done = w46["TL-6411-01"]
    assert (done["terbuka"], done["selesai_minggu_ini"], done["selesai_terlambat"]) == (
        False, True, True)
    assert done["hari_terbuka"] == 8  # decided 4 Nov, done 12 Nov
    assert w46["TL-64-02"]["selesai_minggu_ini"] and not w46["TL-64-02"]["selesai_terlambat"]
    assert not w47["TL-6411-01"]["selesai_minggu_ini"]  # done last week, not again


def test_a_dropped_open_follow_up_stays_open_and_is_marked_missing(campaign, warehouse):
    for week in ("2024-W46", "2024-W47"):
        gone = _state(warehouse, week)["TL-6411-02"]
        assert (gone["terbuka"], gone["terlambat"], gone["hilang_dari_laporan"],
                gone["minggu_laporan"]) == (True, True, True, "2024-W45"), week
    # a follow-up the sender had not been asked to report again is not "missing"
    assert not _state(warehouse, "2024-W47")["TL-64-01"]["hilang_dari_laporan"]


def test_the_provincial_desk_files_for_a_kabkota_and_for_the_whole_province(campaign, warehouse):
    w46 = _state(warehouse, "2024-W46")
    assert (w46["TL-64-01"]["pengirim"], w46["TL-64-01"]["kode_kabkota"],
            w46["TL-64-01"]["wilayah_singkat"], w46["TL-64-01"]["seluruh_provinsi"]) == (
        "64", "6407", "Kubar", False)
    assert (w46["TL-64-02"]["wilayah"], w46["TL-64-02"]["seluruh_provinsi"]) == (
        "Kalimantan Timur", True)
    assert w46["TL-64-01"]["status"] == "terkendala" and w46["TL-64-01"]["catatan"]


def test_counts_per_agency_and_per_kabkota(campaign, warehouse):
    agencies = {r[0]: r[1:] for r in warehouse.execute(
        "SELECT instansi, terbuka, terlambat, terkendala, selesai_minggu_ini "
        "FROM mart.tindak_lanjut_instansi_weekly WHERE week = '2024-W46'").fetchall()}
    assert agencies == {"tni": (0, 0, 0, 1), "kpu": (1, 1, 0, 0), "polri": (1, 1, 1, 0),
                        "pemda": (0, 0, 0, 1)}
    kab = {r[0]: r[1:] for r in warehouse.execute(
        "SELECT kabkota_code, tindak_lanjut_terbuka, tindak_lanjut_terlambat "
        "FROM mart.kabkota_weekly WHERE week = '2024-W46'").fetchall()}
    assert kab["6411"] == (1, 1) and kab["6407"] == (1, 1) and kab["6401"] == (0, 0)
    assert len(kab) == 10  # every kab/kota, the province-wide follow-up in none of them


def test_a_provincial_file_naming_another_province_is_refused(settings_env, warehouse):
    inbox = Path(settings_env.inbox)
    _send(inbox, "64", "tindak_lanjut", "2024-W46",
          [_row("6301", "TL-64-09", "2024-11-11", "logistik", "Bantuan", "kpu", "2024-11-15",
                "baru", "2024-11-11")], datetime(2024, 11, 14, 9))
    _send(inbox, "64", "logistik", "2024-W46", ["x"], datetime(2024, 11, 14, 9))
    got = {v.kind: v for v in ingest(settings_env)}
    assert got["tindak_lanjut"].verdict == "rejected"
    assert "'6301'" in got["tindak_lanjut"].reason
    assert got["logistik"].verdict == "rejected"
    assert "kode provinsi" in got["logistik"].reason
    assert warehouse.execute("SELECT count(*) FROM core.tindak_lanjut_current").fetchall() == [
        (0,)]


def test_a_small_report_with_a_flagged_row_is_kept_not_refused(settings_env, warehouse):
    """Follow-ups are independent reports (policy `independent_rows`): a file whose only row is
    flagged is accepted with the finding and the desk told; the unknown agency is the only value
    excluded (effect `values`), so the follow-up itself still counts."""
    inbox = Path(settings_env.inbox)
    _send(inbox, "6411", "tindak_lanjut", "2024-W46",
          [_row("6411", "TL-6411-05", "2024-11-12", "logistik", "Sewa perahu", "kodim",
                "2024-11-15", "baru", "2024-11-12")], datetime(2024, 11, 14, 9))
    (v,) = [v for v in ingest(settings_env)]
    assert v.verdict == "accepted_with_flags"
    assert [(f.row, f.rule) for f in v.findings] == [(2, "pilihan_instansi")]
    assert warehouse.execute("SELECT count(*) FROM core.tindak_lanjut WHERE flagged").fetchall() \
        == [(1,)]
    assert warehouse.execute("SELECT id_tindak_lanjut, instansi, status FROM "
                             "core.tindak_lanjut_current").fetchall() == [
        ("TL-6411-05", None, "baru")]


def test_a_header_only_report_still_owes_its_open_follow_ups(campaign, settings_env, warehouse):
    """An empty report means "no follow-ups" only for a sender with nothing open: the provincial
    desk's header-only W47 report is told that TL-64-01 (terkendala) is still open."""
    _send(Path(settings_env.inbox), "64", "tindak_lanjut", "2024-W47", [],
          datetime(2024, 11, 21, 9))
    (v,) = [v for v in ingest(settings_env)]
    assert v.verdict == "accepted_with_flags", v.reason
    assert [(f.row, f.rule) for f in v.findings] == [(None, "tindak_lanjut_hilang")]
    assert "TL-64-01" in v.findings[0].message and "terkendala" in v.findings[0].message
    gone = _state(warehouse, "2024-W47")["TL-64-01"]
    assert (gone["terbuka"], gone["hilang_dari_laporan"]) == (True, True)
