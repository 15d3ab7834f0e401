"""Hostile values: only the documented forms are read, every other cell comes back to the desk
with its row, column and reason, and no value a desk can send makes SQL overflow or the run stop.

Seen in the field: a 19-digit `tps_rawan` in a keamanan correction raised `OutOfRangeException:
Overflow in addition of INT64` in sql/validate/keamanan.sql and failed the whole run without
naming the file. These tests send such files through the real ingest.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import zipfile
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from samples.kaltim import generate
from tasks.contract.submission import COLUMNS, COUNT_MAX, COUNT_MIN, KINDS
from tasks.ingest import parse
from tasks.ingest.parse import ROW, ParseError, RowLimitExceeded, read_table, type_columns
from tasks.ingest.validate import suite_document
from tests.pipeline import ingest
from tests.test_memory_bounds import lying_xlsx

INT64_MAX = str(2**63 - 1)  # 19 digits: readable as a number, absurd as a count


# ---------------------------------------------------------------------------------------------
# the plausible range of every count


def test_every_count_column_has_its_range_checked_by_its_suite():
    for kind in KINDS:
        bounds = {e["kwargs"]["column"]: (e["kwargs"].get("min_value"),
                                          e["kwargs"].get("max_value"))
                  for e in suite_document(kind)["expectations"]
                  if e["type"] == "expect_column_values_to_be_between"}
        for col in COLUMNS[kind]:
            if col.type == "int":
                assert col.bounds == (COUNT_MIN, COUNT_MAX)
                assert bounds.get(col.name) == col.bounds, (kind, col.name)


def _cell_issues(column: str, cells: list[str], kind: str = "logistik"):
    frame = pl.DataFrame({column: cells, ROW: list(range(2, len(cells) + 2))},
                         schema={column: pl.String, ROW: pl.Int64})
    return type_columns(frame, kind)


# ---------------------------------------------------------------------------------------------
# the forms a cell may take (docs/submission-format.md, "Bentuk isian")


@pytest.mark.parametrize(("text", "value"), [
    ("1234", 1234), ("007", 7), ("-5", -5), ("1.234", 1234), ("1.234.567", 1234567),
    ("1 234", 1234), ("1\u00a0234", 1234), ("1234,0", 1234), ("1234.00", 1234),
])
def test_documented_integer_forms(text, value):
    typed, issues = _cell_issues("jumlah_tps", [text, text.replace("1234", "12")])
    assert issues == []
    assert typed["jumlah_tps"][0] == value


@pytest.mark.parametrize("text", [
    "+5", "1e3", "1E3", "12.5", "12,5", "1,234", "12 34", "1_000", "\u0661\u0662", "\uff11\uff12",
    "0x10", "true", "True", "1.234,0", "- 5", "\u22125", "inf", "NaN", "12.", ".5",
])
def test_undocumented_integer_forms_are_cell_issues(text):
    typed, issues = _cell_issues("jumlah_tps", ["12", text])
    assert [(i.row, i.column, i.value) for i in issues] == [(3, "jumlah_tps", text)]
    assert issues[0].message.startswith(f"nilai '{text}' bukan bilangan bulat")
    assert typed["jumlah_tps"].to_list() == [12, None]


@pytest.mark.parametrize(("text", "value"), [
    ("2024-11-20", date(2024, 11, 20)), ("2024-11-20 14:30", date(2024, 11, 20)),
    ("2024-11-20T00:00:00", date(2024, 11, 20)), ("2024/11/20", date(2024, 11, 20)),
    ("20/11/2024", date(2024, 11, 20)), ("2/1/2024", date(2024, 1, 2)),
    ("20-11-2024", date(2024, 11, 20)), ("20.11.2024", date(2024, 11, 20)),
    ("45616", date(2024, 11, 20)), ("45616.0", date(2024, 11, 20)),
    ("0001-01-01", date(1, 1, 1)), ("9999-12-31", date(9999, 12, 31)),  # read; the week rule flags
])
def test_documented_date_forms(text, value):
    typed, issues = _cell_issues("per_tanggal", [text])
    assert issues == []
    assert typed["per_tanggal"].to_list() == [value]


@pytest.mark.parametrize("text", [
    "2024-11-20x", "2024-11-20 lalu", "2024-02-30", "2023-02-29", "0000-01-01", "2024-11- 2",
    "20/11/2024 10:00", "20/11/24", "45616.5", "4561", "\u0662\u0660\u0662\u0664-11-20",
    "2024-11-20  14:30", "Nov 20, 2024", "20241120",
])
def test_undocumented_date_forms_are_cell_issues(text):
    typed, issues = _cell_issues("per_tanggal", ["2024-11-20", text])
    assert [(i.row, i.column, i.value) for i in issues] == [(3, "per_tanggal", text)]
    assert issues[0].message.startswith(f"nilai '{text}' bukan tanggal")
    assert typed["per_tanggal"].to_list() == [date(2024, 11, 20), None]


@pytest.mark.parametrize(("text", "value"), [
    ("2024-11-20 14:30", datetime(2024, 11, 20, 14, 30)),
    ("2024-11-20 14.30", datetime(2024, 11, 20, 14, 30)),  # was silently midnight
    ("2024-11-20 14:30:05.250", datetime(2024, 11, 20, 14, 30, 5, 250000)),  # was midnight
    ("20/11/2024 14:30:05", datetime(2024, 11, 20, 14, 30, 5)),
    ("20-11-2024 9:05", datetime(2024, 11, 20, 9, 5)),
    ("2024-11-20", datetime(2024, 11, 20)),
])
def test_documented_datetime_forms(text, value):
    typed, issues = _cell_issues("waktu_kejadian", [text], "insiden")
    assert issues == []
    assert typed["waktu_kejadian"].to_list() == [value]


@pytest.mark.parametrize("text", ["2024-11-20 14:30 WITA", "2024-11-20 14:30:05.1234567",
                                  "20/11/2024 14", "kemarin sore"])
def test_undocumented_datetime_forms_are_cell_issues(text):
    _, issues = _cell_issues("waktu_kejadian", [text], "insiden")
    assert [(i.row, i.value) for i in issues] == [(2, text)]
    assert issues[0].message.startswith(f"nilai '{text}' bukan waktu")


def test_xlsx_cells_that_are_not_integers_are_cell_issues():
    """Excel keeps every number as a float and has booleans and date cells: only a whole number
    is an integer; 12.5, TRUE, a date, 1e20 are reported, not rounded, guessed or overflowed."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["kode_kabkota", "jumlah_tps", "per_tanggal"])
    ws.write_row(1, 0, ["6474", 1234.0, 45616])
    ws.write_row(2, 0, ["6474", 12.5])
    ws.write(3, 0, "6474")
    ws.write_boolean(3, 1, True)
    ws.write(4, 0, "6474")
    ws.write_datetime(4, 1, datetime(2024, 11, 20), wb.add_format({"num_format": "yyyy-mm-dd"}))
    ws.write_row(5, 0, ["6474", 1e20])
    wb.close()
    typed, issues = type_columns(read_table(buf.getvalue(), "xlsx", "logistik"), "logistik")
    assert typed["jumlah_tps"].to_list() == [1234, None, None, None, None]
    assert [(i.row, i.column) for i in issues if i.column == "jumlah_tps"] == [
        (3, "jumlah_tps"), (4, "jumlah_tps"), (5, "jumlah_tps"), (6, "jumlah_tps")]
    assert typed["per_tanggal"][0] == date(2024, 11, 20)


def test_json_values_that_are_not_text_or_whole_numbers_are_cell_issues():
    rows = [{"jumlah_tps": v, "kode_kabkota": "6474"}
            for v in (12, 12.0, "1.234", 12.5, True, None, {"n": 1}, [1], 1e300, 10**30)]
    typed, issues = type_columns(read_table(json.dumps(rows).encode(), "json", "logistik"),
                                 "logistik")
    assert typed["jumlah_tps"].to_list() == [12, 12, 1234] + [None] * 7
    assert [(i.row, i.value) for i in issues] == [
        (4, "12.5"), (5, "true"), (7, '{"n": 1}'), (8, "[1]"), (9, "1e+300"), (10, str(10**30))]


def test_json_with_an_endless_number_or_deep_nesting_is_a_reason_not_a_crash():
    with pytest.raises(ParseError, match="JSON tidak dapat dibaca"):
        read_table(b'[{"jumlah_tps": ' + b"9" * 5000 + b"}]", "json", "logistik")
    with pytest.raises(ParseError, match="bersarang"):
        read_table(b"[" * 100_000 + b"]" * 100_000, "json", "logistik")
    with pytest.raises(ParseError, match="bersarang"):
        read_table(b'[{"narasi": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]", "json", "ringkasan")


@pytest.mark.parametrize(("data", "words"), [
    (b'[{"a": 1}] x', "JSON tidak sah di baris 1"),
    (b'[{"a": 1} {"a": 2}]', "JSON tidak sah"),
    (b'{"data": [{"a": 1}], "meta": {"x": [1, 2]}}', None),
    (b'{"meta": 1, "data": []}', None),
    (b'{"data": [1]}', "array objek"),
    (b'{"data": 5}', "array objek"),
    (b'{5: []}', "JSON tidak sah"),
    (b"", "JSON tidak sah di baris 1"),
])
def test_streamed_json_judges_documents_as_json_loads_would(data, words):
    if words is None:
        assert read_table(data, "json", "insiden").columns[-1] == ROW
    else:
        with pytest.raises(ParseError, match=words):
            read_table(data, "json", "insiden")


# ---------------------------------------------------------------------------------------------
# the row limit, enforced while reading


def _csv(rows: int, blank_every: int = 0) -> bytes:
    lines = ["kode_kabkota,jumlah_tps"]
    for i in range(rows):
        if blank_every and i % blank_every == 0:
            lines.append("")
        lines.append(f"6474,{i}")
    return ("\n".join(lines) + "\n").encode()


def _xlsx(rows: int, title_rows: int = 0) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet()
    for t in range(title_rows):
        ws.write(t, 0, f"judul {t}")
    ws.write_row(title_rows, 0, ["kode_kabkota", "jumlah_tps"])
    for i in range(rows):
        ws.write_row(title_rows + 1 + i, 0, ["6474", i])
    wb.close()
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx", "json-data"])
def test_the_row_limit_is_exact_in_every_format(fmt):
    def data(n: int) -> bytes:
        objs = [{"kode_kabkota": "6474", "jumlah_tps": i} for i in range(n)]
        return {"csv": lambda: _csv(n), "xlsx": lambda: _xlsx(n, title_rows=3),
                "json": lambda: json.dumps(objs).encode(),
                "json-data": lambda: json.dumps({"data": objs}).encode()}[fmt]()

    kind_fmt = fmt.split("-")[0]
    assert read_table(data(50), kind_fmt, "logistik", max_rows=50).height == 50
    with pytest.raises(RowLimitExceeded) as exc:
        read_table(data(51), kind_fmt, "logistik", max_rows=50)
    assert str(exc.value) == "File berisi lebih dari 50 baris; batas 50."
    assert exc.value.rule == "batas_baris"
    assert read_table(data(51), kind_fmt, "logistik").height == 51  # no limit asked


def test_blank_lines_do_not_count_toward_the_row_limit_but_keep_row_numbers():
    table = read_table(_csv(50, blank_every=2), "csv", "logistik", max_rows=50)
    assert table.height == 50
    assert table[ROW].to_list()[:3] == [3, 4, 6]


def test_reading_stops_at_the_row_limit():
    """What follows row max_rows + 1 is never read: an unreadable CSV tail or an invalid JSON
    tail would otherwise be the reason given."""
    tail = b'6474,"' + b"x" * 200_000 + b'"\n'  # over csv's field size limit
    with pytest.raises(RowLimitExceeded):
        read_table(_csv(41) + tail, "csv", "logistik", max_rows=40)
    with pytest.raises(ParseError, match="CSV tidak dapat dibaca"):
        read_table(_csv(39) + tail, "csv", "logistik", max_rows=40)
    objs = json.dumps([{"jumlah_tps": i} for i in range(41)]).encode()
    with pytest.raises(RowLimitExceeded):
        read_table(objs[:-1] + b", {oops}]", "json", "logistik", max_rows=40)


def test_an_xlsx_sheet_longer_than_the_rows_read_is_over_the_limit():
    """Blank rows between data rows cannot hide rows past what calamine was asked to read."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["kode_kabkota", "jumlah_tps"])
    ws.write_row(1, 0, ["6474", 1])
    ws.write_row(500, 0, ["6474", 2])  # 499 blank rows between
    wb.close()
    assert read_table(buf.getvalue(), "xlsx", "logistik").height == 2
    with pytest.raises(RowLimitExceeded):
        read_table(buf.getvalue(), "xlsx", "logistik", max_rows=10)


def test_absurdly_wide_rows_and_keys_cost_only_the_contract_columns():
    wide = b"kode_kabkota,jumlah_tps\n" + b"6474,5" + b",x" * 2_000_000 + b"\n"
    assert read_table(wide, "csv", "logistik").columns == ["kode_kabkota", "jumlah_tps", ROW]
    objs = [{f"k{i}": 1, "jumlah_tps": i} for i in range(50_000)]
    assert read_table(json.dumps(objs).encode(), "json", "logistik").columns == ["jumlah_tps", ROW]


# ---------------------------------------------------------------------------------------------
# workbooks are judged by what they really expand to


def test_an_xlsx_whose_headers_understate_its_size_is_refused(tmp_path, monkeypatch):
    path = lying_xlsx(tmp_path / "bohong.xlsx", rows=100_000)  # ~6.5 MB of sheet, declared 4 KB
    monkeypatch.setattr(parse, "MAX_XLSX_UNCOMPRESSED", 2 * 1024 * 1024)
    with pytest.raises(ParseError, match="terlalu besar setelah diekstrak"):
        read_table(path.read_bytes(), "xlsx", "logistik")


def test_an_xlsx_whose_headers_misstate_its_size_within_the_cap_is_corrupt(tmp_path):
    path = lying_xlsx(tmp_path / "bohong.xlsx", rows=20_000, compression=zipfile.ZIP_STORED)
    with pytest.raises(ParseError, match="XLSX rusak"):
        read_table(path.read_bytes(), "xlsx", "logistik")


def test_an_honest_workbook_still_reads(tmp_path):
    path = lying_xlsx(tmp_path / "jujur.xlsx", rows=20_000, declared=None,
                      compression=zipfile.ZIP_STORED)
    table = read_table(path.read_bytes(), "xlsx", "logistik")
    assert table.height == 20_000 and "kode_kabkota" in table.columns


# ---------------------------------------------------------------------------------------------
# the real ingest: absurd numbers cost their rows, never the run


def _rewrite(path: Path, edit) -> None:
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    edit(rows)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def test_absurd_counts_flag_their_rows_and_the_week_goes_on(warehouse, settings_env,
                                                            prefect_harness):
    inbox = Path(settings_env.inbox)
    generate(inbox, ["2024-W47"])
    for d in inbox.iterdir():
        if d.name != "6402":
            shutil.rmtree(d)
    folder = inbox / "6402"
    keamanan = folder / "6402_keamanan_2024-W47.csv"
    correction = folder / "6402_keamanan_2024-W47_revisi.csv"
    shutil.copy(keamanan, correction)

    def keamanan_edit(rows):
        for col in ("tps_kurang_rawan", "tps_rawan", "tps_sangat_rawan"):  # 3 × INT64 max
            rows[0][col] = INT64_MAX
        rows[1]["personel_linmas"] = str(COUNT_MAX + 1)
        rows[2]["per_tanggal"] = "0001-01-01"

    _rewrite(correction, keamanan_edit)
    kecamatan = rows_of(keamanan)[0]["kode_kecamatan"]
    insiden = folder / "6402_insiden_2024-W47_revisi.csv"
    header = list(rows_of(folder / "6402_insiden_2024-W47.csv")[0])
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    w.writeheader()
    w.writerow(dict(zip(header, ["6402", "INS-X-1", "2024-11-20 14:30", kecamatan, "",
                                 "bentrokan_massa", "tinggi", "dilaporkan", INT64_MAX, INT64_MAX,
                                 "Polres", "Patroli", "angka korban salah ketik"], strict=True)))
    w.writerow(dict(zip(header, ["6402", "INS-X-2", "2024-11-21 09:00", kecamatan, "",
                                 "intimidasi", "tinggi", "dilaporkan", str(COUNT_MAX), "1",
                                 "Polres", "Patroli", "batas atas masih wajar"], strict=True)))
    insiden.write_text(buf.getvalue(), encoding="utf-8")
    later = keamanan.stat().st_mtime + 3600
    for p in (correction, insiden):
        os.utime(p, (later, later))

    ingest(settings_env)

    status = dict(warehouse.execute(
        "SELECT file_name, status FROM audit.submission_status").fetchall())
    assert status["6402_keamanan_2024-W47_revisi.csv"] == "accepted_with_flags"
    assert status["6402_insiden_2024-W47_revisi.csv"] == "accepted_with_flags"
    assert status["6402_logistik_2024-W47.csv"] == "accepted"
    issues = warehouse.execute(
        "SELECT f.file_name, i.row_number, i.\"column\", i.rule, i.message FROM audit.row_issue i "
        "JOIN raw.file f USING (file_id) WHERE f.file_name LIKE '%revisi%'").fetchall()
    found = {(name, row, col, rule) for name, row, col, rule, _ in issues}
    for col in ("tps_kurang_rawan", "tps_rawan", "tps_sangat_rawan"):
        assert ("6402_keamanan_2024-W47_revisi.csv", 2, col, "tidak_negatif") in found
    assert ("6402_keamanan_2024-W47_revisi.csv", 3, "personel_linmas", "tidak_negatif") in found
    assert ("6402_keamanan_2024-W47_revisi.csv", 4, "per_tanggal", "tanggal_wajar") in found
    assert ("6402_insiden_2024-W47_revisi.csv", 2, "korban_meninggal", "tidak_negatif") in found
    assert not any(row == 3 and name.startswith("6402_insiden") for name, row, *_ in found)
    assert all("di luar rentang yang wajar" in m for *_, rule, m in issues
               if rule == "tidak_negatif")
    # the marts and the bulletin's status build over it: the flagged rows are not counted
    weekly = warehouse.execute(
        "SELECT tps_rawan, insiden_baru, alasan FROM mart.kabkota_weekly "
        "WHERE week = '2024-W47' AND kabkota_code = '6402'").fetchone()
    assert weekly[0] < COUNT_MAX and weekly[1] >= 1
    assert "10000000 korban meninggal" in weekly[2]


def rows_of(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_a_workbook_is_read_as_the_desk_sees_it(tmp_path):
    """A hidden sheet (an old copy, a template's lists) is never read in place of the one on
    screen, even when it comes first or carries the kind's name."""
    import xlsxwriter

    from tasks.ingest.parse import ParseError, read_table

    def book(sheets: list[tuple[str, str, bool]]) -> bytes:
        path = tmp_path / "b.xlsx"
        wb = xlsxwriter.Workbook(str(path))
        for name, status, hidden in sheets:
            ws = wb.add_worksheet(name)
            ws.write_row(0, 0, ["kode_kabkota", "status_umum", "narasi", "unit_pelapor",
                                "per_tanggal"])
            ws.write_row(1, 0, ["6402", status, "x", "Kesbangpol", "2024-11-20"])
            if hidden:
                ws.hide()
        wb.worksheets()[[h for *_, h in sheets].index(False)].activate()
        wb.close()
        return path.read_bytes()

    seen = read_table(book([("lama", "kritis", True), ("laporan", "aman_terkendali", False)]),
                      "xlsx", "ringkasan")
    assert seen["status_umum"].to_list() == ["aman_terkendali"]
    named_but_hidden = book([("ringkasan", "kritis", True), ("Sheet2", "ada_kendala", False)])
    assert read_table(named_but_hidden, "xlsx", "ringkasan")["status_umum"].to_list() == [
        "ada_kendala"]
    visible_named = book([("Sheet1", "kritis", False), ("Ringkasan", "ada_kendala", False)])
    assert read_table(visible_named, "xlsx", "ringkasan")["status_umum"].to_list() == [
        "ada_kendala"]
    # xlsxwriter will not hide every sheet; Excel can (Format > Hide on a sheet of a workbook
    # whose other sheets are hidden by a macro): patch the workbook's XML to get one
    src = zipfile.ZipFile(io.BytesIO(book([("a", "kritis", True), ("b", "kritis", False)])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/workbook.xml":
                data = data.replace(b'name="b" sheetId="2"', b'name="b" sheetId="2" state="hidden"')
                assert data.count(b'state="hidden"') == 2
            z.writestr(item, data)
    with pytest.raises(ParseError, match="tersembunyi"):
        read_table(out.getvalue(), "xlsx", "ringkasan")
