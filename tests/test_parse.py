"""Parse: real CSV, XLSX and JSON bytes into one typed frame of the contract's columns."""

from __future__ import annotations

import csv
import io
import json
import struct
import time
import zipfile
from datetime import date, datetime

import polars as pl
import pytest
import xlsxwriter
from polars.testing import assert_frame_equal

from tasks.contract.submission import COLUMNS, column_names
from tasks.ingest.parse import (
    ROW,
    CellIssue,
    ParseError,
    missing_columns,
    normalise_header,
    parse_date,
    parse_datetime,
    parse_int,
    read_table,
    type_columns,
)

KIND = "logistik"
CATATAN_1 = "Kiriman tahap 2, dari gudang KPU\nsisa menyusul"  # comma and an in-cell newline
CATATAN_2 = "Dititipkan di Café Nelayan; aman"  # non-ASCII (in cp1252) and a semicolon
ROWS = [
    {
        "kode_kabkota": "6474", "kode_kecamatan": "647401", "kode_desa": "6474011001",
        "barang": "ss_gubernur", "jumlah_kebutuhan": 11682, "diterima_kabkota": 11682,
        "diterima_ppk": 10500, "diterima_pps": 9000, "diterima_tps": 0, "rusak": 12,
        "jumlah_tps": 26, "tps_lengkap": 0, "moda_angkut": "darat",
        "per_tanggal": date(2024, 11, 20), "catatan": CATATAN_1,
    },
    {
        "kode_kabkota": "6474", "kode_kecamatan": "647401", "kode_desa": "6474011001",
        "barang": "kotak_suara", "jumlah_kebutuhan": 52, "diterima_kabkota": 52,
        "diterima_ppk": 52, "diterima_pps": 40, "diterima_tps": 0, "rusak": 0,
        "jumlah_tps": 26, "tps_lengkap": 0, "moda_angkut": "laut",
        "per_tanggal": date(2024, 11, 20), "catatan": CATATAN_2,
    },
    {
        "kode_kabkota": "6474", "kode_kecamatan": "647402", "kode_desa": "6474021001",
        "barang": "segel", "jumlah_kebutuhan": 1234, "diterima_kabkota": 1234,
        "diterima_ppk": 1200, "diterima_pps": 1100, "diterima_tps": 1000, "rusak": 3,
        "jumlah_tps": 62, "tps_lengkap": 50, "moda_angkut": "sungai",
        "per_tanggal": date(2024, 11, 21), "catatan": None,
    },
]
_DTYPES = {"code": pl.String, "str": pl.String, "int": pl.Int64, "date": pl.Date,
           "datetime": pl.Datetime("us")}


def expected_frame(rows=ROWS, kind=KIND) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={c.name: _DTYPES[c.type] for c in COLUMNS[kind]})


def parse(data: bytes, fmt: str, kind: str = KIND) -> tuple[pl.DataFrame, list[CellIssue]]:
    return type_columns(read_table(data, fmt, kind), kind)


# ---------------------------------------------------------------------------------------------
# writers of real files


def csv_text(rows=ROWS, *, header=None, delimiter=",", newline="\n",
             thousands=False, dmy=False) -> str:
    header = header or column_names(KIND)
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    w.writerow(header)
    for r in rows:
        out = []
        for c in COLUMNS[KIND]:
            v = r[c.name]
            if v is None:
                v = ""
            elif c.type == "int" and thousands:
                v = f"{v:,}".replace(",", ".")
            elif c.type == "date":
                v = v.strftime("%d/%m/%Y") if dmy else v.isoformat()
            out.append(v)
        w.writerow(out)
    return buf.getvalue()


def xlsx_bytes(rows=ROWS, *, sheets=("Laporan",), data_sheet="Laporan", first_row=0,
               first_col=0, blank_after=None) -> bytes:
    """A workbook as a desk makes it: a merged title, a subtitle, then the header and data."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    bold = wb.add_format({"bold": True, "align": "center"})
    dfmt = wb.add_format({"num_format": "dd/mm/yyyy"})
    names = column_names(KIND)
    for name in sheets:
        ws = wb.add_worksheet(name)
        if name != data_sheet:
            ws.write(0, 0, "Petunjuk pengisian: isi satu baris per desa dan barang")
            continue
        r0, c0 = first_row, first_col
        ws.merge_range(r0, c0, r0, c0 + len(names) - 1,
                       "LAPORAN LOGISTIK PILKADA 2024 - KOTA BONTANG", bold)
        ws.write(r0 + 1, c0, "Minggu 2024-W47 (18-24 November 2024)")
        ws.write_row(r0 + 2, c0, names)
        r = r0 + 3
        for i, row in enumerate(rows):
            for j, c in enumerate(COLUMNS[KIND]):
                v = row[c.name]
                if v is None:
                    continue
                if c.type == "date":
                    ws.write_datetime(r, c0 + j, datetime.combine(v, datetime.min.time()), dfmt)
                elif c.type == "int":
                    ws.write_number(r, c0 + j, v)
                else:
                    ws.write_string(r, c0 + j, v)
            r += 2 if blank_after == i else 1
    wb.close()
    return buf.getvalue()


def json_rows(rows=ROWS) -> list[dict]:
    return [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items()}
            for r in rows]


FORMATS = {
    "csv_utf8": (lambda: csv_text().encode("utf-8"), "csv", [2, 3, 4]),
    "csv_utf8_bom": (lambda: csv_text().encode("utf-8-sig"), "csv", [2, 3, 4]),
    "csv_crlf": (lambda: csv_text(newline="\r\n").encode("utf-8"), "csv", [2, 3, 4]),
    "csv_cp1252_semicolon_thousands_crlf": (
        lambda: csv_text(delimiter=";", newline="\r\n", thousands=True, dmy=True)
        .encode("cp1252"), "csv", [2, 3, 4]),
    "csv_bom_semicolon": (
        lambda: csv_text(delimiter=";", thousands=True).encode("utf-8-sig"), "csv", [2, 3, 4]),
    "xlsx_title_rows": (lambda: xlsx_bytes(), "xlsx", [4, 5, 6]),
    "json_array": (lambda: json.dumps(json_rows()).encode("utf-8"), "json", [1, 2, 3]),
    "json_data_wrapper": (lambda: json.dumps({"data": json_rows()}, ensure_ascii=False)
                          .encode("utf-8"), "json", [1, 2, 3]),
}


@pytest.mark.parametrize("name", list(FORMATS))
def test_every_format_gives_the_same_typed_frame(name):
    make, fmt, rows = FORMATS[name]
    data = make()
    typed, issues = parse(data, fmt)
    assert issues == []
    assert typed.columns == [*column_names(KIND), ROW]
    assert_frame_equal(typed.drop(ROW), expected_frame())
    assert typed[ROW].to_list() == rows


def test_the_cp1252_file_really_is_not_utf8():
    data = FORMATS["csv_cp1252_semicolon_thousands_crlf"][0]()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert b"\r\n" in data and b"1.234" in data and b"11.682" in data
    assert b'"Kiriman tahap 2, dari gudang KPU\nsisa menyusul"' in data


def test_xlsx_fixture_really_has_a_merged_title():
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes())) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<mergeCell " in sheet


# ---------------------------------------------------------------------------------------------
# headers


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("kode_kabkota", "kode_kabkota"),
        ("KODE KABKOTA", "kode_kabkota"),
        ("  Kode  Kab-Kota ", "kode_kabkota"),
        ("\ufeffkode_kabkota", "kode_kabkota"),
        ("Kode Desa/Kelurahan", "kode_desa"),
        ("Jml TPS", "jumlah_tps"),
        ("Di-KPPS", "diterima_tps"),
        ("Gudang KPU", "diterima_kabkota"),
        ("Ket", "catatan"),
        ("Tgl", "per_tanggal"),
        ("Luka-luka", "korban_luka"),
        ("kolom lain", "kolom_lain"),
        (None, ""),
    ],
)
def test_normalise_header(raw, name):
    assert normalise_header(raw) == name


def test_aliased_mixed_case_headers_give_the_same_frame():
    header = ["Kode Kab-Kota", "KECAMATAN", "Kode Desa/Kelurahan", "Jenis Barang", "Kebutuhan",
              "Gudang KPU", "Di PPK", "di-pps", "Diterima KPPS", "Barang Rusak", "Jml TPS",
              "  TPS   Lengkap ", "Moda", "Tgl", "KETERANGAN"]
    data = csv_text(header=header, delimiter=";", thousands=True).encode("utf-8")
    typed, issues = parse(data, "csv")
    assert issues == []
    assert_frame_equal(typed.drop(ROW), expected_frame())


def test_unknown_and_repeated_columns_are_ignored():
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([*column_names(KIND), "Nama Petugas", "barang", ""])
    for r in ROWS:
        cells = ["" if r[c] is None else str(r[c]) for c in column_names(KIND)]
        w.writerow([*cells, "Budi", "tinta", "sisa"])
    table = read_table(buf.getvalue().encode(), "csv", KIND)
    assert "nama_petugas" in table.columns
    typed, issues = type_columns(table, KIND)
    assert issues == []
    assert "nama_petugas" not in typed.columns
    # the first 'barang' column counts, the repeated one is ignored
    assert typed["barang"].to_list() == [r["barang"] for r in ROWS]
    assert_frame_equal(typed.drop(ROW), expected_frame())


def test_a_column_named_like_the_row_number_gives_way_to_it():
    table = read_table(b"_row,kode_kabkota,barang\n99,6474,segel\n98,6474,tinta\n", "csv", KIND)
    assert table.columns == ["kode_kabkota", "barang", ROW]
    assert table[ROW].to_list() == [2, 3]


def test_title_rows_in_csv_are_skipped():
    text = "LAPORAN LOGISTIK KOTA BONTANG;;;\nMinggu 2024-W47;;;\n" + csv_text(delimiter=";")
    typed, issues = parse(text.encode("utf-8"), "csv")
    assert issues == []
    assert_frame_equal(typed.drop(ROW), expected_frame())
    assert typed[ROW].to_list() == [4, 5, 6]


# ---------------------------------------------------------------------------------------------
# `_row` is the row number the desk sees in its spreadsheet


def test_csv_row_numbers_count_blank_lines_and_not_in_cell_newlines():
    text = csv_text()
    lines = text.split("\n")
    # the first record spans two physical lines (quoted newline); add a blank line after it
    assert lines[1].startswith("6474,647401,6474011001,ss_gubernur")
    blanked = "\n".join([*lines[:3], "", ",,,", *lines[3:]])
    table = read_table(blanked.encode("utf-8"), "csv", KIND)
    assert table[ROW].to_list() == [2, 5, 6]
    assert table["catatan"].to_list()[0] == CATATAN_1


@pytest.mark.parametrize(("first_row", "first_col", "rows"),
                         [(0, 0, [4, 5, 7]), (1, 0, [5, 6, 8]), (2, 1, [6, 7, 9])])
def test_xlsx_row_numbers_count_title_and_blank_rows(first_row, first_col, rows):
    data = xlsx_bytes(first_row=first_row, first_col=first_col, blank_after=1)
    typed, issues = parse(data, "xlsx")
    assert issues == []
    assert typed[ROW].to_list() == rows
    assert_frame_equal(typed.drop(ROW), expected_frame())


def test_xlsx_reads_the_sheet_named_after_the_kind():
    data = xlsx_bytes(sheets=("Petunjuk", "logistik"), data_sheet="logistik")
    typed, issues = parse(data, "xlsx")
    assert issues == []
    assert_frame_equal(typed.drop(ROW), expected_frame())


def test_xlsx_date_that_lost_its_format_is_read_as_an_excel_serial():
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["kode_kabkota", "per_tanggal"])
    ws.write_row(1, 0, ["6474", 45616])  # 45616 = 2024-11-20 in Excel's calendar
    wb.close()
    typed, issues = type_columns(read_table(buf.getvalue(), "xlsx", "ringkasan"), "ringkasan")
    assert issues == []
    assert typed["per_tanggal"].to_list() == [date(2024, 11, 20)]


# ---------------------------------------------------------------------------------------------
# values


@pytest.mark.parametrize(("text", "value"), [("1.234", 1234), ("1.234.567", 1234567),
                                             ("1234,0", 1234), ("1234.0", 1234), ("-5", -5),
                                             ("1 234", 1234), ("0", 0)])
def test_integers_as_desks_write_them(text, value):
    frame = pl.DataFrame({"jumlah_tps": [text], ROW: [2]})
    typed, issues = type_columns(frame, KIND)
    assert issues == []
    assert typed["jumlah_tps"].to_list() == [value]


@pytest.mark.parametrize("text", ["20/11/2024", "20-11-2024", "20.11.2024", "2024-11-20",
                                  "2024/11/20", "2024-11-20 00:00:00", "45616"])
def test_dates_as_desks_write_them(text):
    frame = pl.DataFrame({"per_tanggal": [text], ROW: [2]})
    typed, issues = type_columns(frame, KIND)
    assert issues == []
    assert typed["per_tanggal"].to_list() == [date(2024, 11, 20)]


@pytest.mark.parametrize(("text", "value"), [("2024-11-20 14:30", datetime(2024, 11, 20, 14, 30)),
                                             ("20/11/2024 14.30", datetime(2024, 11, 20, 14, 30)),
                                             ("2024-11-20T14:30:05",
                                              datetime(2024, 11, 20, 14, 30, 5)),
                                             ("2024-11-20", datetime(2024, 11, 20))])
def test_datetimes(text, value):
    frame = pl.DataFrame({"waktu_kejadian": [text], ROW: [2]})
    typed, issues = type_columns(frame, "insiden")
    assert issues == []
    assert typed["waktu_kejadian"].to_list() == [value]


def test_dotted_region_codes_are_joined():
    frame = pl.DataFrame({"kode_kabkota": ["64.74"], "kode_kecamatan": ["64.74.01"],
                          "kode_desa": [" 64.74.01.1001 "], ROW: [2]})
    typed, _ = type_columns(frame, KIND)
    assert typed.row(0)[:3] == ("6474", "647401", "6474011001")


def test_codes_written_as_decimals_keep_their_value():
    """A code column exported as numbers with '.0' (pandas/LibreOffice with an empty cell,
    or a JSON producer using floats) must still be the same code, not ten times it."""
    rows = [dict(r, kode_kabkota=f"{r['kode_kabkota']}.0",
                 kode_kecamatan=f"{r['kode_kecamatan']}.0",
                 kode_desa=f"{r['kode_desa']}.0") for r in ROWS]
    typed, issues = parse(csv_text(rows).encode("utf-8"), "csv")
    assert issues == []
    assert typed["kode_kabkota"].to_list() == ["6474", "6474", "6474"]
    assert typed["kode_kecamatan"].to_list() == ["647401", "647401", "647402"]
    assert typed["kode_desa"].to_list() == ["6474011001", "6474011001", "6474021001"]


def test_unreadable_cells_become_issues_and_nulls():
    rows = [dict(ROWS[0]), dict(ROWS[1]), dict(ROWS[2])]
    text = csv_text(rows)
    text = text.replace("kotak_suara,52,52,52,40,0,0,26", "kotak_suara,52,52,lima puluh,40,0,0,26")
    text = text.replace("2024-11-21", "31/11/2024")
    typed, issues = parse(text.encode("utf-8"), "csv")
    assert sorted(issues, key=lambda i: (i.row, i.column)) == [
        CellIssue(3, "diterima_ppk", "lima puluh", "nilai 'lima puluh' bukan bilangan bulat"),
        CellIssue(4, "per_tanggal", "31/11/2024",
                  "nilai '31/11/2024' bukan tanggal (gunakan TTTT-BB-HH, mis. 2024-11-20)"),
    ]
    assert typed["diterima_ppk"].to_list() == [10500, None, 1200]
    assert typed["per_tanggal"].to_list() == [date(2024, 11, 20), date(2024, 11, 20), None]
    # the rest of an affected row is still read
    assert typed.row(1, named=True)["diterima_pps"] == 40


@pytest.mark.parametrize(("column", "text", "problem"), [
    ("jumlah_tps", "1,5", "bukan bilangan bulat"),
    ("jumlah_tps", "1.23", "bukan bilangan bulat"),
    ("per_tanggal", "kemarin", "bukan tanggal"),
    ("per_tanggal", "2024-13-01", "bukan tanggal"),
])
def test_cell_issue_messages(column, text, problem):
    frame = pl.DataFrame({column: [text], ROW: [7]})
    typed, issues = type_columns(frame, KIND)
    (issue,) = issues
    assert (issue.row, issue.column, issue.value) == (7, column, text)
    assert issue.message.startswith(f"nilai '{text[:40]}' {problem}")
    assert typed[column].to_list() == [None]


def test_integer_too_large_for_the_column_is_a_cell_issue_not_a_crash():
    """A digit string beyond 64 bits (a pasted ID number, a typo) is as unreadable as text."""
    frame = pl.DataFrame({"jumlah_tps": ["12", "99.999.999.999.999.999.999.999"], ROW: [2, 3]})
    typed, issues = type_columns(frame, KIND)
    assert [(i.row, i.column) for i in issues] == [(3, "jumlah_tps")]
    assert "bukan bilangan bulat" in issues[0].message
    assert typed["jumlah_tps"].to_list() == [12, None]


def test_long_bad_values_are_cut_in_the_message():
    text = "x" * 100
    frame = pl.DataFrame({"jumlah_tps": [text], ROW: [2]})
    _, (issue,) = type_columns(frame, KIND)
    assert issue.value == text
    assert f"'{'x' * 40}'" in issue.message and "x" * 41 not in issue.message


def test_missing_columns_lists_required_ones_in_contract_order():
    header = [c for c in column_names(KIND) if c not in ("barang", "moda_angkut", "catatan")]
    rows = [{k: v for k, v in r.items() if k in header} for r in ROWS]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header)
    w.writeheader()
    w.writerows(rows)
    table = read_table(buf.getvalue().encode(), "csv", KIND)
    assert missing_columns(table, KIND) == ["barang", "moda_angkut"]
    # the optional column alone is never "missing"; absent, it is typed as nulls
    full = read_table(csv_text().encode(), "csv", KIND)
    no_note = full.drop("catatan")
    assert missing_columns(no_note, KIND) == []
    typed, _ = type_columns(no_note, KIND)
    assert typed["catatan"].to_list() == [None, None, None]


def test_header_only_file_gives_an_empty_frame():
    table = read_table((",".join(column_names(KIND)) + "\r\n").encode(), "csv", KIND)
    assert table.height == 0
    assert missing_columns(table, KIND) == []
    typed, issues = type_columns(table, KIND)
    assert typed.height == 0 and issues == []


def test_empty_json_array_gives_an_empty_frame():
    table = read_table(b"[]", "json", "insiden")
    assert table.height == 0


# ---------------------------------------------------------------------------------------------
# the column-wise cast (polars, for the common forms) reads every cell as the parsers do


ODD_CELLS = [
    ("logistik", "jumlah_tps", "26", parse_int,
     ["12", "-3", "007", "-0", "1.234", "1.234.567", "-1.234", "12,0", "12.0", "12.5", "1e3",
      "+5", " 5", "1 234", "abc", "123456789012345678", "9223372036854775807",
      "9223372036854775808", "99999999999999999999", "9.223.372.036.854.775.808", "١٢"]),
    ("logistik", "per_tanggal", "2024-11-20", parse_date,
     ["2024-11-21", "20/11/2024", "31/11/2024", "2024-11-20 10:00", "45616", "45616.0",
      "2024-02-29", "2023-02-29", "2024-02-30", "2024-13-01", "0000-01-01", "0999-01-01",
      "2024-1-2", "20-11-2024", "2024-11-20x", " 2024-11-20"]),
    ("insiden", "waktu_kejadian", "2024-11-20 14:30", parse_datetime,
     ["2024-11-20 14:30:05", "2024-11-20T14:30", "2024-11-20T14:30:05", "2024-11-20",
      "2024-11-20 14:30:60", "2024-11-20 24:00", "2024-11-20 4:30", "20/11/2024 14.30",
      "20/11/2024", "2024-11-20  14:30", "2024-11-20 14:30 ", "kemarin"]),
]


@pytest.mark.parametrize(("kind", "column", "clean", "parser", "odd"), ODD_CELLS,
                         ids=[c[1] for c in ODD_CELLS])
def test_a_column_mixing_clean_and_odd_cells_reads_as_each_cell_alone(kind, column, clean,
                                                                       parser, odd):
    cells = [v for text in odd for v in (clean, text)] + [None]
    frame = pl.DataFrame({column: cells, ROW: range(2, len(cells) + 2)},
                         schema={column: pl.String, ROW: pl.Int64})
    expected, unreadable = [], []
    for row, text in zip(frame[ROW], cells, strict=True):
        try:
            expected.append(None if text is None else parser(text))
        except (ValueError, OverflowError):
            expected.append(None)
            unreadable.append((row, text))
    typed, issues = type_columns(frame, kind)
    assert typed[column].to_list() == expected
    assert [(i.row, i.value) for i in issues] == unreadable
    assert all(i.column == column and i.message.startswith(f"nilai '{i.value}' bukan")
               for i in issues)


def test_fast_cast_edges_keep_their_reading():
    ints = ["12", "-3", "007", "9223372036854775807", "9223372036854775808",
            "9.223.372.036.854.775.807", "1e3", "12.5", "1.234", "12,0"]
    dates = ["2024-11-20", "20/11/2024", "2024-02-30", "45616", "2024-11-20 10:00", None,
             None, None, None, None]
    frame = pl.DataFrame({"jumlah_tps": ints, "per_tanggal": dates, ROW: range(2, 12)})
    typed, issues = type_columns(frame, KIND)
    assert typed["jumlah_tps"].to_list() == [12, -3, 7, 2**63 - 1, None, 2**63 - 1, None, None,
                                             1234, 12]
    assert typed["per_tanggal"].to_list() == [date(2024, 11, 20)] * 2 + [None] + \
        [date(2024, 11, 20)] * 2 + [None] * 5
    assert [(i.row, i.column, i.value) for i in issues] == [
        (6, "jumlah_tps", "9223372036854775808"), (8, "jumlah_tps", "1e3"),
        (9, "jumlah_tps", "12.5"), (4, "per_tanggal", "2024-02-30")]


def test_a_leap_second_is_not_rolled_over_to_the_next_minute():
    """polars would read 14:30:60 as 14:31; the parsers refuse it as a time and read the date."""
    frame = pl.DataFrame({"waktu_kejadian": ["2024-11-20 14:30:60", "2024-11-20 14:30:59"],
                          ROW: [2, 3]})
    typed, issues = type_columns(frame, "insiden")
    assert issues == []
    assert typed["waktu_kejadian"].to_list() == [datetime(2024, 11, 20),
                                                 datetime(2024, 11, 20, 14, 30, 59)]


def test_codes_in_every_form_read_as_the_code():
    codes = ["6401", "6401.0", "6401.000", "64.01", "64.01.02", "6401.", " 64.01 ", "64 01",
             "x6401", None]
    frame = pl.DataFrame({"kode_desa": codes, ROW: range(2, 12)})
    typed, issues = type_columns(frame, KIND)
    assert issues == []
    assert typed["kode_desa"].to_list() == ["6401", "6401", "6401", "6401", "640102", "6401",
                                            "6401", "64 01", "x6401", None]


def test_columns_that_are_not_text_still_go_through_the_parsers():
    frame = pl.DataFrame({"narasi": [7, None], "per_tanggal": [None, None], ROW: [2, 3]})
    typed, issues = type_columns(frame, "ringkasan")
    assert issues == []
    assert typed["narasi"].to_list() == ["7", None]
    assert typed["per_tanggal"].dtype == pl.Date


# ---------------------------------------------------------------------------------------------
# files that cannot be read at all


@pytest.mark.parametrize(("data", "words"), [
    (b'[{"kode_kabkota": "6474",}', "JSON tidak sah di baris 1"),
    (b'[\n{"kode_kabkota": "6474"},\n{oops}\n]', "JSON tidak sah di baris 3"),
    (b'{"kode_kabkota": "6474"}', "JSON harus berupa array objek"),
    (b'{"data": {"kode_kabkota": "6474"}}', "JSON harus berupa array objek"),
    (b'[1, 2, 3]', "JSON harus berupa array objek"),
    (b'"teks"', "JSON harus berupa array objek"),
])
def test_bad_json_is_a_parse_error(data, words):
    with pytest.raises(ParseError, match=words.replace("(", r"\(")):
        read_table(data, "json", "insiden")


def test_corrupt_xlsx_is_a_parse_error():
    good = xlsx_bytes()
    with pytest.raises(ParseError, match="XLSX"):
        read_table(b"this is not a workbook at all", "xlsx", KIND)
    with pytest.raises(ParseError, match="XLSX"):
        read_table(good[: len(good) // 2], "xlsx", KIND)  # truncated download
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", "a zip, but not a workbook")
    with pytest.raises(ParseError, match="XLSX"):
        read_table(other.getvalue(), "xlsx", KIND)


def _bomb(member_bytes: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w") as f:
            chunk = b"0" * (1 << 20)
            for _ in range(member_bytes >> 20):
                f.write(chunk)
    return buf.getvalue()


def test_zip_bomb_by_ratio_is_refused_without_extracting():
    data = _bomb(32 << 20)  # 32 MiB of one byte, compressed to a few dozen KiB
    assert len(data) < 200 * 1024
    start = time.perf_counter()
    with pytest.raises(ParseError, match="terlalu besar"):
        read_table(data, "xlsx", KIND)
    assert time.perf_counter() - start < 1.0


def test_zip_with_huge_declared_size_is_refused():
    data = bytearray(_bomb(1 << 20))
    # declare 3 GiB as the member's uncompressed size in the central directory
    pos = data.find(b"PK\x01\x02")
    while pos != -1:
        name_len = struct.unpack_from("<H", data, pos + 28)[0]
        name = bytes(data[pos + 46: pos + 46 + name_len])
        if name == b"xl/worksheets/sheet1.xml":
            struct.pack_into("<I", data, pos + 24, 3 << 30)
        pos = data.find(b"PK\x01\x02", pos + 4)
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        assert zf.getinfo("xl/worksheets/sheet1.xml").file_size == 3 << 30
    with pytest.raises(ParseError, match="terlalu besar"):
        read_table(bytes(data), "xlsx", KIND)


def test_undecodable_text_and_empty_files_are_parse_errors():
    with pytest.raises(ParseError, match="UTF-8"):
        read_table(b"kode_kabkota\n\x81\x8d\x8f\x90\x9d\n", "csv", KIND)
    with pytest.raises(ParseError, match="kosong"):
        read_table(b"", "csv", KIND)
