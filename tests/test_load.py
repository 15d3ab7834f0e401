"""Ingest and load end to end: a real inbox on disk → archive → parse → validate → warehouse."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from tasks.config import WITA
from tasks.contract.regions import desa_requirements
from tasks.contract.submission import column_names
from tests.pipeline import ingest

# the tests here run the ingest flow (tests/pipeline.py) on the session's Prefect server
pytestmark = pytest.mark.usefixtures("prefect_harness")

KAB = "6474"
WEEK = "2024-W47"
ON_TIME = datetime(2024, 11, 22, 10, 0, tzinfo=WITA)  # Friday before the Saturday-noon deadline
LOGISTIK = f"{KAB}/{KAB}_logistik_{WEEK}.csv"
REVISI = f"{KAB}/{KAB}_logistik_{WEEK}_revisi.csv"


# ---------------------------------------------------------------------------------------------
# files


def logistik_rows() -> list[dict]:
    req = desa_requirements().filter(pl.col("kabkota_code") == KAB)
    return [
        {"kode_kabkota": KAB, "kode_kecamatan": r["kecamatan_code"], "kode_desa": r["desa_code"],
         "barang": r["barang"], "jumlah_kebutuhan": r["jumlah_kebutuhan"],
         "diterima_kabkota": r["jumlah_kebutuhan"], "diterima_ppk": r["jumlah_kebutuhan"],
         "diterima_pps": r["jumlah_kebutuhan"] // 2, "diterima_tps": 0, "rusak": 0,
         "jumlah_tps": r["n_tps"], "tps_lengkap": 0, "moda_angkut": "darat",
         "per_tanggal": "2024-11-20", "catatan": ""}
        for r in req.iter_rows(named=True)
    ]


N_LOGISTIK = len(logistik_rows())  # 15 kelurahan × 8 items


def to_csv(rows: list[dict], columns: list[str] | None = None) -> bytes:
    columns = columns or column_names("logistik")
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def clean_logistik_csv() -> bytes:
    return to_csv(logistik_rows())


def ringkasan_xlsx() -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("ringkasan")
    ws.merge_range(0, 0, 0, 4, "RINGKASAN MINGGUAN DESK PILKADA KOTA BONTANG")
    ws.write_row(1, 0, ["Kode Kab-Kota", "Status Umum", "Kondisi Terkini", "Pelapor", "Tanggal"])
    ws.write_row(2, 0, [KAB, "aman_terkendali", "Kondusif.", "Desk Pilkada Bontang"])
    ws.write_datetime(2, 4, datetime(2024, 11, 22), wb.add_format({"num_format": "dd/mm/yyyy"}))
    wb.close()
    return buf.getvalue()


def insiden_json(status: str = "ditangani") -> bytes:
    return json.dumps([{
        "kode_kabkota": KAB, "id_insiden": "INS-6474-001", "waktu_kejadian": "2024-11-19 14:30",
        "kode_kecamatan": "647401", "kode_desa": None, "kategori": "hoaks", "tingkat": "rendah",
        "status": status, "korban_meninggal": 0, "korban_luka": 0, "ditangani_oleh": "Polres",
        "sumber": None, "ringkasan": "Kabar bohong soal TPS pindah.",
    }]).encode("utf-8")


def put(settings, rel: str, data: bytes, when: datetime = ON_TIME) -> Path:
    path = Path(settings.inbox) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def query(con, q: str, params: list | None = None) -> list[dict]:
    # fetch everything: DuckDB 2 refuses new work on a connection with a half-read result
    cur = con.execute(q, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def scalar(con, q: str, params: list | None = None):
    ((value,),) = con.execute(q, params or []).fetchall()
    return value


def ledger(con) -> list[dict]:
    """The ledger; every read also checks its promise (architecture §8): a known status, and a
    reason unless the status is plain `accepted`."""
    rows = query(con, "SELECT * FROM audit.submission_status ORDER BY file_id")
    for r in rows:
        assert r["status"] in {"accepted", "accepted_with_flags", "rejected", "duplicate",
                               "superseded"}, r
        assert r["status"] == "accepted" or r["reason"].strip(), r
    return rows


def one(con, source_path: str) -> dict:
    (row,) = [r for r in ledger(con) if r["source_path"] == source_path]
    return row


def counts(con) -> dict[str, int]:
    tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() "
                         "WHERE schema_name IN ('raw', 'audit', 'core') ORDER BY ALL").fetchall()
    return {f"{s}.{t}": scalar(con, f"SELECT count(*) FROM {s}.{t}") for s, t in tables}


def core_rows(con, kind: str, file_id: int) -> list[tuple]:
    return con.execute(f"SELECT row_number, flagged FROM core.{kind} WHERE file_id = ? "
                       "ORDER BY row_number", [file_id]).fetchall()


def issues(con, file_id: int) -> list[dict]:
    return query(con, "SELECT * FROM audit.row_issue WHERE file_id = ? "
                      "ORDER BY row_number NULLS FIRST, rule", [file_id])


def current_file(con, kind: str = "logistik") -> list[int]:
    return [r[0] for r in con.execute(
        "SELECT file_id FROM core.current_file WHERE kabkota_code = ? AND kind = ? AND week = ?",
        [KAB, kind, WEEK]).fetchall()]


# ---------------------------------------------------------------------------------------------
# accepted files


def test_accepted_file_lands_its_rows_and_one_ledger_row(warehouse, settings_env):
    data = clean_logistik_csv()
    put(settings_env, LOGISTIK, data)
    started = datetime.now(UTC)
    results = ingest(settings_env)
    assert len(results) == 1
    verdict = results[0]
    file_id = verdict.file_id
    assert verdict.verdict == "accepted"

    (row,) = ledger(warehouse)
    assert row["file_id"] == file_id
    assert row["source_path"] == LOGISTIK
    assert (row["kabkota_code"], row["kind"], row["week"]) == (KAB, "logistik", WEEK)
    assert (row["status"], row["reason"], row["version"]) == ("accepted", "", 1)
    assert (row["rows_total"], row["rows_flagged"], row["is_late"]) == (N_LOGISTIK, 0, False)
    assert row["received_at"] == ON_TIME
    assert row["sha256"] == hashlib.sha256(data).hexdigest()
    assert row["file_format"] == "csv"

    rows = core_rows(warehouse, "logistik", file_id)
    assert [r[0] for r in rows] == list(range(2, N_LOGISTIK + 2))
    assert not any(flagged for _, flagged in rows)
    assert current_file(warehouse) == [file_id]
    assert scalar(warehouse, "SELECT count(*) FROM core.logistik_current WHERE week = ?",
                  [WEEK]) == N_LOGISTIK
    assert issues(warehouse, file_id) == []
    # typed values arrive intact (codes as text, counts as integers, dates as dates)
    (first,) = warehouse.execute(
        "SELECT kode_desa, barang, jumlah_kebutuhan, per_tanggal, catatan FROM core.logistik "
        "WHERE file_id = ? AND row_number = 2", [file_id]).fetchall()
    expected = logistik_rows()[0]
    assert first == (expected["kode_desa"], expected["barang"], expected["jumlah_kebutuhan"],
                     date(2024, 11, 20), None)
    # the run that loaded it: the flow run's id, the UTC time it started
    run = scalar(warehouse, "SELECT run_id FROM audit.submission WHERE file_id = ?", [file_id])
    assert started <= datetime.strptime(run, "%Y%m%dT%H%M%S%f%z") <= datetime.now(UTC)


def test_xlsx_and_json_submissions_are_accepted(warehouse, settings_env):
    put(settings_env, f"{KAB}/{KAB}_ringkasan_{WEEK}.xlsx", ringkasan_xlsx())
    put(settings_env, f"{KAB}/{KAB}_insiden_{WEEK}.json", insiden_json())
    ingest(settings_env)
    statuses = {r["kind"]: (r["status"], r["rows_total"]) for r in ledger(warehouse)}
    assert statuses == {"ringkasan": ("accepted", 1), "insiden": ("accepted", 1)}
    assert warehouse.execute(
        "SELECT row_number, narasi, per_tanggal FROM core.ringkasan").fetchall() == [
        (3, "Kondusif.", date(2024, 11, 22))]
    assert scalar(warehouse, "SELECT waktu_kejadian FROM core.insiden") == \
        datetime(2024, 11, 19, 14, 30)


def empty_csv(kind: str) -> bytes:
    return (",".join(column_names(kind)) + "\r\n").encode("utf-8")


def test_empty_incident_list_is_accepted_but_empty_logistik_is_rejected(warehouse, settings_env):
    put(settings_env, f"{KAB}/{KAB}_insiden_{WEEK}.csv", empty_csv("insiden"))
    put(settings_env, f"{KAB}/{KAB}_netralitas_{WEEK}.csv", empty_csv("netralitas"))
    put(settings_env, LOGISTIK, empty_csv("logistik"))
    ingest(settings_env)
    assert one(warehouse, f"{KAB}/{KAB}_insiden_{WEEK}.csv")["status"] == "accepted"
    assert one(warehouse, f"{KAB}/{KAB}_netralitas_{WEEK}.csv")["status"] == "accepted"
    empty = one(warehouse, LOGISTIK)
    assert empty["status"] == "rejected"
    assert "tidak berisi baris data" in empty["reason"]


def test_empty_incident_list_as_json_is_accepted(warehouse, settings_env):
    """`[]` is how a JSON desk says "no incidents this week" (an array of zero objects);
    insiden and netralitas may be empty (policy.json reject_if_empty lists neither)."""
    put(settings_env, f"{KAB}/{KAB}_insiden_{WEEK}.json", b"[]")
    put(settings_env, f"{KAB}/{KAB}_netralitas_{WEEK}.json", b"[]\n")
    ingest(settings_env)
    for kind in ("insiden", "netralitas"):
        row = one(warehouse, f"{KAB}/{KAB}_{kind}_{WEEK}.json")
        assert (row["status"], row["reason"], row["rows_total"]) == ("accepted", "", 0), row


# ---------------------------------------------------------------------------------------------
# idempotence and duplicates


def _mixed_inbox(settings) -> None:
    put(settings, LOGISTIK, clean_logistik_csv())
    put(settings, f"{KAB}/{KAB}_ringkasan_{WEEK}.xlsx", ringkasan_xlsx())
    put(settings, f"{KAB}/{KAB}_insiden_{WEEK}.json", insiden_json())
    put(settings, f"{KAB}/laporan minggu ini.csv", b"apa saja")
    put(settings, f"{KAB}/{KAB}_keamanan_{WEEK}.xlsx", b"PK\x03\x04 rusak")
    put(settings, f"{KAB}/{KAB}_logistik_{WEEK}_salinan.csv", clean_logistik_csv(),
        datetime(2024, 11, 22, 11, 0, tzinfo=WITA))
    # one file keeps the sub-second mtime the file system gave it
    natural = Path(settings.inbox) / f"{KAB}/{KAB}_netralitas_{WEEK}.csv"
    natural.write_bytes(empty_csv("netralitas"))


def test_rerunning_ingest_over_the_same_inbox_adds_nothing(warehouse, settings_env):
    _mixed_inbox(settings_env)
    first = ingest(settings_env)
    assert len(first) == 7
    before = counts(warehouse)
    assert before["core.logistik"] == N_LOGISTIK
    assert before["raw.file"] == 7 and before["audit.submission"] == 7
    assert before["audit.row_issue"] >= 2  # the two rejected files at least

    assert ingest(settings_env) == []
    assert counts(warehouse) == before

    # touching a file (new mtime, same bytes) is not a new submission either
    later = datetime(2024, 11, 22, 18, 0, tzinfo=WITA).timestamp()
    for p in Path(settings_env.inbox).rglob("*.*"):
        os.utime(p, (later, later))
    assert ingest(settings_env) == []
    assert counts(warehouse) == before


def test_same_bytes_under_another_name_is_a_duplicate(warehouse, settings_env):
    data = clean_logistik_csv()
    put(settings_env, LOGISTIK, data)
    (first,) = ingest(settings_env)
    first_id = first.file_id
    before = counts(warehouse)

    copy = f"{KAB}/{KAB}_logistik_{WEEK}_kirim-ulang.csv"
    put(settings_env, copy, data, datetime(2024, 11, 22, 15, 0, tzinfo=WITA))
    (dup,) = ingest(settings_env)
    dup_id = dup.file_id

    row = one(warehouse, copy)
    assert row["status"] == "duplicate"
    assert "sama persis" in row["reason"]
    assert row["version"] is None
    assert scalar(warehouse, "SELECT duplicate_of FROM audit.submission WHERE file_id = ?",
                  [dup_id]) == first_id
    assert one(warehouse, LOGISTIK)["status"] == "accepted"
    assert current_file(warehouse) == [first_id]
    after = counts(warehouse)
    assert after["core.logistik"] == before["core.logistik"]
    assert after["raw.file"] == before["raw.file"] + 1


def test_same_bytes_in_one_run_count_once(warehouse, settings_env):
    data = clean_logistik_csv()
    put(settings_env, LOGISTIK, data)
    put(settings_env, f"{KAB}/{KAB}_logistik_{WEEK}_b.csv", data,
        datetime(2024, 11, 22, 10, 5, tzinfo=WITA))
    ingest(settings_env)
    assert [r["status"] for r in ledger(warehouse)] == ["accepted", "duplicate"]
    assert counts(warehouse)["core.logistik"] == N_LOGISTIK


def test_same_bytes_for_another_week_is_a_new_report(warehouse, settings_env):
    put(settings_env, f"{KAB}/{KAB}_insiden_2024-W46.csv", empty_csv("insiden"),
        datetime(2024, 11, 15, 9, 0, tzinfo=WITA))
    put(settings_env, f"{KAB}/{KAB}_insiden_{WEEK}.csv", empty_csv("insiden"))
    ingest(settings_env)
    assert [(r["week"], r["status"]) for r in ledger(warehouse)] == [
        ("2024-W46", "accepted"), (WEEK, "accepted")]


# ---------------------------------------------------------------------------------------------
# resubmission


def _revised() -> bytes:
    rows = logistik_rows()
    for r in rows:
        r["diterima_tps"] = r["diterima_pps"]
        r["catatan"] = "revisi: data KPPS"
    return to_csv(rows)


def _check_superseded(con) -> None:
    old, new = one(con, LOGISTIK), one(con, REVISI)
    assert old["status"] == "superseded"
    assert old["reason"].startswith("Digantikan oleh kiriman versi lebih baru")
    assert f"{KAB}_logistik_{WEEK}_revisi.csv" in old["reason"]
    assert (new["status"], new["reason"]) == ("accepted", "")
    assert (old["version"], new["version"]) == (1, 2)
    assert current_file(con) == [new["file_id"]]
    # both versions' rows are kept in core; only the new one is current
    assert len(core_rows(con, "logistik", old["file_id"])) == N_LOGISTIK
    assert len(core_rows(con, "logistik", new["file_id"])) == N_LOGISTIK
    assert con.execute("SELECT DISTINCT file_id FROM core.logistik_current").fetchall() == [
        (new["file_id"],)]
    assert scalar(con, "SELECT superseded_by FROM audit.submission WHERE file_id = ?",
                  [old["file_id"]]) == new["file_id"]


def test_revision_in_a_later_run_supersedes_the_first(warehouse, settings_env):
    put(settings_env, LOGISTIK, clean_logistik_csv(), datetime(2024, 11, 21, 9, 0, tzinfo=WITA))
    ingest(settings_env)
    put(settings_env, REVISI, _revised(), datetime(2024, 11, 22, 9, 0, tzinfo=WITA))
    ingest(settings_env)
    _check_superseded(warehouse)


def test_revision_in_the_same_run_supersedes_the_first(warehouse, settings_env):
    put(settings_env, REVISI, _revised(), datetime(2024, 11, 22, 9, 0, tzinfo=WITA))
    put(settings_env, LOGISTIK, clean_logistik_csv(), datetime(2024, 11, 21, 9, 0, tzinfo=WITA))
    ingest(settings_env)
    _check_superseded(warehouse)


def test_an_older_file_arriving_late_does_not_take_over(warehouse, settings_env):
    put(settings_env, REVISI, _revised(), datetime(2024, 11, 22, 9, 0, tzinfo=WITA))
    ingest(settings_env)
    # the original (older mtime) only reaches the inbox afterwards, e.g. a slow sync
    put(settings_env, LOGISTIK, clean_logistik_csv(), datetime(2024, 11, 21, 9, 0, tzinfo=WITA))
    ingest(settings_env)
    old, new = one(warehouse, LOGISTIK), one(warehouse, REVISI)
    assert old["status"] == "superseded" and new["status"] == "accepted"
    assert current_file(warehouse) == [new["file_id"]]


def test_rejected_revision_leaves_the_accepted_version_current(warehouse, settings_env):
    put(settings_env, LOGISTIK, clean_logistik_csv(), datetime(2024, 11, 21, 9, 0, tzinfo=WITA))
    put(settings_env, REVISI, to_csv(logistik_rows(), [c for c in column_names("logistik")
                                                       if c != "barang"]))
    ingest(settings_env)
    assert one(warehouse, LOGISTIK)["status"] == "accepted"
    assert one(warehouse, REVISI)["status"] == "rejected"
    assert current_file(warehouse) == [one(warehouse, LOGISTIK)["file_id"]]


# ---------------------------------------------------------------------------------------------
# flagged and rejected files


def test_file_with_a_bad_row_is_accepted_with_flags(warehouse, settings_env):
    # data index 3 is spreadsheet row 5 (header = row 1); index 5 is row 7
    rows = logistik_rows()
    rows[3]["jumlah_tps"] = "dua puluh"
    rows[5]["diterima_ppk"] = rows[5]["diterima_kabkota"] + 10
    put(settings_env, LOGISTIK, to_csv(rows))
    (file_id,) = [v.file_id for v in ingest(settings_env)]

    row = one(warehouse, LOGISTIK)
    assert row["status"] == "accepted_with_flags"
    assert row["rows_flagged"] == 2 and row["rows_total"] == N_LOGISTIK
    # both rules are about values (effect `values`): the rows count without those cells
    assert row["reason"].startswith(
        "Diterima dengan catatan: 2 baris dihitung tanpa nilai yang ditandai")
    found = [(i["row_number"], i["column"], i["rule"], i["severity"]) for i in
             issues(warehouse, file_id)]
    assert found == [(5, "jumlah_tps", "format_nilai", "flag"),
                     (7, "diterima_ppk", "urutan_tahap", "flag")]
    messages = [i["message"] for i in issues(warehouse, file_id)]
    assert messages[0] == "Baris 5, kolom jumlah_tps: nilai 'dua puluh' bukan bilangan bulat"
    assert messages[1].startswith("Baris 7, kolom diterima_ppk: ")
    assert all(i["sha256"] == row["sha256"] for i in issues(warehouse, file_id))
    flagged = [n for n, fl in core_rows(warehouse, "logistik", file_id) if fl]
    assert flagged == [5, 7]
    assert scalar(warehouse, "SELECT count(*) FROM core.logistik_current") == N_LOGISTIK
    assert warehouse.execute(
        "SELECT row_number, jumlah_tps, diterima_kabkota, diterima_ppk, diterima_pps "
        "FROM core.logistik_current WHERE row_number IN (5, 7) ORDER BY 1").fetchall() == [
        (5, None, rows[3]["diterima_kabkota"], rows[3]["diterima_ppk"], rows[3]["diterima_pps"]),
        (7, rows[5]["jumlah_tps"], None, None, rows[5]["diterima_pps"])]


def test_unreadable_date_cell_flags_its_row(warehouse, settings_env):
    rows = logistik_rows()
    rows[3]["per_tanggal"] = "31/11/2024"  # there is no 31 November
    put(settings_env, LOGISTIK, to_csv(rows))
    (file_id,) = [v.file_id for v in ingest(settings_env)]
    row = one(warehouse, LOGISTIK)
    assert row["status"] == "accepted_with_flags"
    assert [i["message"] for i in issues(warehouse, file_id)] == [
        "Baris 5, kolom per_tanggal: nilai '31/11/2024' bukan tanggal "
        "(gunakan TTTT-BB-HH, mis. 2024-11-20)"]


def test_one_huge_number_does_not_stop_the_run(warehouse, settings_env):
    put(settings_env, f"{KAB}/{KAB}_insiden_{WEEK}.json", insiden_json())
    rows = logistik_rows()
    rows[3]["jumlah_tps"] = "123456789012345678901234567890"
    put(settings_env, LOGISTIK, to_csv(rows))
    ingest(settings_env)
    assert one(warehouse, LOGISTIK)["status"] == "accepted_with_flags"
    assert one(warehouse, f"{KAB}/{KAB}_insiden_{WEEK}.json")["status"] == "accepted"


@pytest.mark.parametrize(("bad", "status"), [(61, "rejected"), (60, "accepted_with_flags")])
def test_more_than_half_bad_rows_rejects_the_file(warehouse, settings_env, bad, status):
    # an unknown village is the row's identity (effect `row`): such rows count toward refusal
    rows = logistik_rows()
    for i, r in enumerate(rows[:bad]):
        r["kode_desa"] = f"{r['kode_kecamatan']}9{i:02d}"
    put(settings_env, LOGISTIK, to_csv(rows))
    (file_id,) = [v.file_id for v in ingest(settings_env)]
    row = one(warehouse, LOGISTIK)
    assert row["status"] == status
    assert row["rows_flagged"] == bad
    # one finding per bad row (the real villages they displaced are whole-file `lengkap` notes)
    assert len([i for i in issues(warehouse, file_id) if i["row_number"] is not None]) == bad
    if status == "rejected":
        assert row["reason"].startswith(
            f"Ditolak: sebagian besar baris tidak sah ({bad} dari {N_LOGISTIK})")
        assert "kode_desa_valid" in row["reason"]
        assert core_rows(warehouse, "logistik", file_id) == []
        assert current_file(warehouse) == []
    else:
        assert len(core_rows(warehouse, "logistik", file_id)) == N_LOGISTIK
        assert current_file(warehouse) == [file_id]


def test_missing_required_column_rejects_the_file_naming_it(warehouse, settings_env):
    columns = [c for c in column_names("logistik") if c != "moda_angkut"]
    data = to_csv(logistik_rows(), columns)
    put(settings_env, LOGISTIK, data)
    (file_id,) = [v.file_id for v in ingest(settings_env)]
    row = one(warehouse, LOGISTIK)
    assert row["status"] == "rejected"
    assert "Kolom wajib tidak ada: moda_angkut" in row["reason"]
    (issue,) = issues(warehouse, file_id)
    assert (issue["row_number"], issue["rule"], issue["severity"]) == (None, "kolom_wajib",
                                                                       "reject")
    assert issue["message"].startswith("File: Kolom wajib tidak ada: moda_angkut")
    assert core_rows(warehouse, "logistik", file_id) == []


def test_file_for_another_kabkota_is_rejected(warehouse, settings_env):
    rows = logistik_rows()
    rows[0]["kode_kabkota"] = "6472"
    put(settings_env, LOGISTIK, to_csv(rows))
    ingest(settings_env)
    row = one(warehouse, LOGISTIK)
    assert row["status"] == "rejected"
    assert row["reason"].startswith("Ditolak: kode kab/kota '6472'")


def test_late_file_is_marked_late(warehouse, settings_env):
    late = datetime(2024, 11, 23, 12, 30, tzinfo=WITA)  # Saturday, half an hour after noon
    put(settings_env, LOGISTIK, clean_logistik_csv(), late)
    put(settings_env, f"{KAB}/{KAB}_insiden_{WEEK}.json", insiden_json(),
        datetime(2024, 11, 23, 12, 0, tzinfo=WITA))  # exactly on the deadline: on time
    ingest(settings_env)
    row = one(warehouse, LOGISTIK)
    assert row["is_late"] is True
    assert row["status"] == "accepted"
    assert "Terlambat" in row["reason"]
    assert "23-11-2024 12:30 WITA" in row["reason"] and "batas 23-11-2024 12:00" in row["reason"]
    assert row["received_at"] == late
    on_time = one(warehouse, f"{KAB}/{KAB}_insiden_{WEEK}.json")
    assert (on_time["is_late"], on_time["reason"]) == (False, "")


def test_late_is_judged_in_wita_not_utc(warehouse, settings_env):
    # 04:30 UTC on Saturday is 12:30 WITA: late, though the UTC clock says morning
    put(settings_env, LOGISTIK, clean_logistik_csv(), datetime(2024, 11, 23, 4, 30, tzinfo=UTC))
    ingest(settings_env)
    assert one(warehouse, LOGISTIK)["is_late"] is True


def test_reasons_and_archive_over_a_mixed_inbox(warehouse, settings_env):
    _mixed_inbox(settings_env)
    put(settings_env, f"{KAB}/{KAB}_keamanan_2024-W54.csv", b"kode_kabkota\n6474\n")
    put(settings_env, f"6401/{KAB}_netralitas_{WEEK}.json", b"[]")
    put(settings_env, f"{KAB}/{KAB}_insiden_{WEEK}_revisi.json", b'{"kode_kabkota": "6474"}',
        datetime(2024, 11, 23, 15, 0, tzinfo=WITA))
    ingest(settings_env)
    rows = ledger(warehouse)
    assert len(rows) == 10
    statuses = {r["source_path"]: r["status"] for r in rows}
    assert statuses[LOGISTIK] == "accepted"
    assert statuses[f"{KAB}/laporan minggu ini.csv"] == "rejected"
    assert statuses[f"{KAB}/{KAB}_keamanan_{WEEK}.xlsx"] == "rejected"
    assert statuses[f"6401/{KAB}_netralitas_{WEEK}.json"] == "rejected"
    assert statuses[f"{KAB}/{KAB}_insiden_{WEEK}_revisi.json"] == "rejected"
    assert {r["status"] for r in rows} <= {"accepted", "accepted_with_flags", "rejected",
                                           "duplicate", "superseded"}
    for r in rows:
        if r["status"] != "accepted":
            assert r["reason"].strip(), r
    rejected = [r for r in rows if r["status"] == "rejected"]
    assert len(rejected) == 5
    paths = dict(warehouse.execute("SELECT file_id, archive_path FROM raw.file").fetchall())
    inbox = Path(settings_env.inbox)
    for r in rejected:
        archived = Path(paths[r["file_id"]])
        assert archived.is_relative_to(settings_env.archive)
        data = archived.read_bytes()
        assert hashlib.sha256(data).hexdigest() == r["sha256"]
        assert data == (inbox / r["source_path"]).read_bytes()
    # the reason a desk reads for an unusable name, and for an unreadable workbook
    by_path = {r["source_path"]: r for r in rows}
    assert "tidak sesuai pola" in by_path[f"{KAB}/laporan minggu ini.csv"]["reason"]
    assert "XLSX" in by_path[f"{KAB}/{KAB}_keamanan_{WEEK}.xlsx"]["reason"]
    assert "folder 6474/" in by_path[f"6401/{KAB}_netralitas_{WEEK}.json"]["reason"]
