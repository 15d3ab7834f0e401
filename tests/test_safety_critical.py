"""Nothing safety-critical is dropped by a flag (issues 17 and 21): a death whose value is valid
counts even when another value of its row is flagged (the desk still hears of the flag); a claimed
death, injury or high severity that does not count (its row's identity rejected, or that value
excluded) reaches the marts as "perlu verifikasi", never both; a claimed death makes the kab/kota
Kritis either way, and a small file of independent reports is never refused whole for its
flagged rows."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from tasks.config import WITA
from tests.pipeline import ingest

# the tests here run the ingest flow (tests/pipeline.py) on the session's Prefect server
pytestmark = pytest.mark.usefixtures("prefect_harness")

HEADER = ("kode_kabkota,id_insiden,waktu_kejadian,kode_kecamatan,kode_desa,kategori,tingkat,"
          "status,korban_meninggal,korban_luka,ditangani_oleh,sumber,ringkasan")


def _send(inbox: Path, kab: str, kind: str, week: str, text: str) -> None:
    path = inbox / kab / f"{kab}_{kind}_{week}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    t = datetime(2024, 11, 14, 9, tzinfo=WITA).timestamp()
    os.utime(path, (t, t))


def test_a_death_with_a_flagged_severity_counts_and_the_desk_is_told(settings_env, warehouse):
    inbox = Path(settings_env.inbox)
    # one incident, a death written with severity 'rendah': rule korban_berarti_tinggi flags the
    # tingkat (effect `values`), the death itself is a valid value and counts
    _send(inbox, "6407", "insiden", "2024-W46", "\n".join([
        HEADER,
        "6407,INS-6407-01,2024-11-12 08:00,640706,,bentrokan_massa,rendah,ditangani,1,2,"
        "Polres Kutai Barat,warga,Bentrokan antarpendukung di dekat posko",
    ]) + "\n")
    # a second kab/kota: a clean high-severity incident without casualties
    _send(inbox, "6401", "insiden", "2024-W46", "\n".join([
        HEADER,
        "6401,INS-6401-01,2024-11-12 08:00,640101,,intimidasi,tinggi,dilaporkan,0,0,,,Ancaman",
    ]) + "\n")
    verdicts = {v.kabkota_code: v for v in ingest(settings_env)}
    kept = verdicts["6407"]
    assert kept.verdict == "accepted_with_flags", kept.reason  # not refused whole (1 of 1 row)
    assert [(f.row, f.column, f.rule, f.effect) for f in kept.findings] == [
        (2, "tingkat", "korban_berarti_tinggi", "values")]
    assert warehouse.execute(
        "SELECT \"column\", message FROM audit.row_issue WHERE effect = 'values'").fetchall() == [
        ("tingkat", "Baris 2, kolom tingkat: ada korban jiwa/luka, maka tingkat harus 'tinggi' "
                    "(tertulis 'rendah')")]

    # counted once, as a death, not as a claim to verify
    assert warehouse.execute("SELECT count(*) FROM mart.insiden_perlu_verifikasi").fetchall() \
        == [(0,)]
    rows = {r[0]: r[1:] for r in warehouse.execute(
        "SELECT kabkota_code, status, alasan, korban_meninggal_verifikasi, insiden_baru "
        "FROM mart.kabkota_weekly WHERE week = '2024-W46'").fetchall()}
    status, reason, claimed, new = rows["6407"]
    assert (status, claimed, new) == ("Kritis", 0, 1)
    assert "1 korban meninggal dalam insiden minggu ini" in reason
    assert "perlu verifikasi" not in reason
    (state,) = warehouse.execute(
        "SELECT korban_meninggal, korban_luka, tingkat FROM mart.insiden_state "
        "WHERE week = '2024-W46' AND kabkota_code = '6407'").fetchall()
    assert state == (1, 2, None)  # the doubtful tingkat is not counted as 'rendah'
    # the clean incident counts as usual and is not "perlu verifikasi"
    assert rows["6401"][2:] == (0, 1)
    assert warehouse.execute(
        "SELECT insiden_terbuka_tinggi FROM mart.insiden_weekly "
        "WHERE week = '2024-W46' AND kabkota_code = '6401'").fetchall() == [(1,)]


def test_a_death_in_a_row_without_identity_is_to_verify_and_kritis(settings_env, warehouse):
    """The same id twice (rule id_unik, effect `row`): neither row counts, so their claims are
    "perlu verifikasi", and the claimed death still makes the kab/kota Kritis."""
    inbox = Path(settings_env.inbox)
    _send(inbox, "6407", "insiden", "2024-W46", "\n".join([
        HEADER,
        "6407,INS-6407-01,2024-11-12 08:00,640706,,bentrokan_massa,tinggi,ditangani,1,0,,,A",
        "6407,INS-6407-01,2024-11-12 09:00,640706,,intimidasi,rendah,dilaporkan,0,0,,,B",
    ]) + "\n")
    (verdict,) = ingest(settings_env)
    assert {(f.row, f.rule, f.effect) for f in verdict.findings} == {
        (2, "id_unik", "row"), (3, "id_unik", "row")}
    assert warehouse.execute("SELECT count(*) FROM core.insiden_current").fetchall() == [(0,)]
    claims = warehouse.execute(
        "SELECT id_insiden, korban_meninggal, tingkat FROM mart.insiden_perlu_verifikasi "
        "WHERE week = '2024-W46'").fetchall()
    assert claims == [("INS-6407-01", 1, "tinggi")]  # the row claiming nothing is not listed
    (row,) = warehouse.execute(
        "SELECT status, alasan, korban_meninggal_verifikasi, insiden_baru FROM mart.kabkota_weekly "
        "WHERE week = '2024-W46' AND kabkota_code = '6407'").fetchall()
    assert (row[0], row[2], row[3]) == ("Kritis", 1, 0)
    assert "1 korban meninggal dilaporkan dalam laporan insiden yang perlu verifikasi" in row[1]


def test_a_corrected_row_clears_the_verification(settings_env, warehouse):
    inbox = Path(settings_env.inbox)
    bad = ("6407,INS-6407-01,2024-11-12 08:00,640706,,bentrokan_massa,rendah,ditangani,1,0,"
           ",,Bentrokan")
    _send(inbox, "6407", "insiden", "2024-W46", f"{HEADER}\n{bad}\n")
    ingest(settings_env)
    fixed = bad.replace(",rendah,", ",tinggi,")
    path = inbox / "6407" / "6407_insiden_2024-W46_revisi.csv"
    path.write_text(f"{HEADER}\n{fixed}\n", encoding="utf-8")
    t = datetime(2024, 11, 15, 9, tzinfo=WITA).timestamp()
    os.utime(path, (t, t))
    ingest(settings_env)
    assert warehouse.execute("SELECT count(*) FROM mart.insiden_perlu_verifikasi").fetchall() \
        == [(0,)]
    (row,) = warehouse.execute(
        "SELECT status, korban_meninggal_verifikasi, alasan FROM mart.kabkota_weekly "
        "WHERE week = '2024-W46' AND kabkota_code = '6407'").fetchall()
    assert row[:2] == ("Kritis", 0)  # Kritis now from the verified death itself
    assert "1 korban meninggal dalam insiden minggu ini" in row[2]
