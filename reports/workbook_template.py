"""Prefilled XLSX templates for the desks (issues 11, 18): one workbook per desk and week.

A kab/kota desk's workbook has a `Petunjuk` (instructions) sheet, one sheet per kind named
exactly after the kind, and a hidden `daftar` sheet holding the dropdown lists. Because the
pipeline reads every sheet named after a kind (`tasks.ingest.workbook`), a desk sends the workbook
once, as `<kabkota>_<week>.xlsx` (or under its template name), by folder or by email; the same
workbook sent under a single kind's name `<kabkota>_<kind>_<week>.xlsx` still counts for that
kind alone. docs/templates.md explains it to them. The provincial desk, which sends only
`PROVINCE_KINDS` under the province's code, gets a workbook with just those sheets.

Each kind's sheet: a title row, a hint row (what each column takes), the header row, then data
rows. Everything the desk cannot change (titles, headers, region codes of prefilled rows, the
read-only `INFO` helper columns) is locked; the input cells are unlocked and carry data
validation (dropdowns from `daftar`, whole numbers ≥ 0, dates within the window the suites
accept, narasi length). The sheet protection has no password: it guards against slips, not
against the desk.

Prefilled from the reference tables: logistik = every desa × barang with codes, required
quantity and TPS count; keamanan = every kecamatan with its TPS count; ringkasan = the kab/kota.
From the warehouse (when a connection is given) the previous week's accepted figures are
carried forward: cumulative logistics quantities, security figures, the reporting unit, and the
latest state of every incident, ASN case and follow-up (tindak lanjut) that is not closed yet,
as rows to update.

`fill` writes a desk's values into the same layout (the tests' round trip, and a way to
regenerate a desk's workbook from its CSVs).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

import duckdb
import polars as pl
import xlsxwriter
from babel.dates import format_date
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from tasks.contract.regions import (
    BALLOT_RESERVE,
    KALTIM,
    check_scope,
    desa_requirements,
    provinces,
    regions,
    scope_name,
    tps_master,
)
from tasks.contract.submission import (
    COLUMNS,
    ENUM_COLUMNS,
    ENUMS,
    KINDS,
    PROVINCE_KINDS,
    ROW_KEYS,
    STATUS_INSIDEN_RANK,
    TAHAP_RANK,
    TINDAK_LANJUT_OPEN,
    Column,
)
from tasks.ingest.validate import suite_document
from tasks.weeks import deadline, parse_week, previous_week, week_end, week_start

PETUNJUK = "Petunjuk"
DAFTAR = "daftar"
TITLE_ROW, HINT_ROW, HEADER_ROW = 0, 1, 2
FIRST_DATA_ROW = 3  # zero-based: Excel row 4 is the first data row
BLANK_ROWS = 100  # empty, formatted rows offered for new incidents / cases / follow-ups
MIN_VALIDATED_ROWS = 1000  # data validation reaches at least this many rows below the header
FINAL_STATUS_INSIDEN = frozenset(
    s for s, r in STATUS_INSIDEN_RANK.items() if r == max(STATUS_INSIDEN_RANK.values()))
FINAL_TAHAP = frozenset(t for t, r in TAHAP_RANK.items() if r == max(TAHAP_RANK.values()))
FINAL_TINDAK_LANJUT = frozenset(ENUMS["status_tindak_lanjut"]) - TINDAK_LANJUT_OPEN

# Columns whose cells are locked in prefilled rows (the row's identity), per kind.
LOCKED_KEYS: dict[str, tuple[str, ...]] = {
    "ringkasan": ("kode_kabkota",),
    "logistik": ("kode_kabkota", "kode_kecamatan", "kode_desa", "barang"),
    "keamanan": ("kode_kabkota", "kode_kecamatan"),
    "insiden": ("id_insiden",),  # kode_kabkota there is an unlocked default formula
    "netralitas": ("id_kasus",),
    "tindak_lanjut": ("id_tindak_lanjut",),  # the history key with the sender: never retyped
}
# Columns frozen at the left while scrolling sideways.
FROZEN_COLUMNS = {"ringkasan": 1, "logistik": 4, "keamanan": 2, "insiden": 2, "netralitas": 2,
                  "tindak_lanjut": 2}
# Figures carried from the previous week's accepted report.
CARRY_LOGISTIK = ("jumlah_kebutuhan", "diterima_kabkota", "diterima_ppk", "diterima_pps",
                  "diterima_tps", "rusak", "jumlah_tps", "tps_lengkap", "moda_angkut")
CARRY_KEAMANAN = ("jumlah_tps", "tps_kurang_rawan", "tps_rawan", "tps_sangat_rawan",
                  "personel_polri", "personel_tni", "personel_linmas", "posko")
# Free-text columns that deserve a wide, wrapping cell.
WIDE_TEXT = {"narasi": 90, "ringkasan": 60, "catatan": 40, "instansi": 32, "jabatan": 24,
             "ditangani_oleh": 28, "sumber": 26, "unit_pelapor": 30, "isu": 40, "tindakan": 44}


_KIND_TITLE = {
    "ringkasan": "Ringkasan kondisi terkini (satu baris)",
    "logistik": "Logistik pemilihan per desa/kelurahan × barang",
    "keamanan": "Keamanan per kecamatan",
    "insiden": "Insiden / kejadian menonjol (satu baris per kejadian)",
    "netralitas": "Kasus netralitas ASN (satu baris per kasus)",
    "tindak_lanjut": "Tindak lanjut lintas sektor (satu baris per tindak lanjut)",
}


# --------------------------------------------------------------------------------------------
# What goes on each sheet


@dataclasses.dataclass
class _Row:
    values: dict[str, Any]  # contract column -> value (None = to fill)
    info: list[str]  # the read-only INFO helper cells, in `_Sheet.info_headers` order
    locked: frozenset[str] = frozenset()  # contract columns locked in this row
    prefilled: frozenset[str] = frozenset()  # columns filled by the template (shaded)


@dataclasses.dataclass
class _Sheet:
    kind: str
    rows: list[_Row]
    info_headers: list[str]


@dataclasses.dataclass(frozen=True)
class _Desk:
    """Who the workbook is for. A kab/kota desk reports every kind about itself; a provincial desk
    sends only `PROVINCE_KINDS` under the province's code, and its rows may name any kab/kota of
    the province or the province itself (the suites' `kabkota_sesuai_folder` rule)."""

    code: str  # the sender code of the file names and the folder
    name: str  # as printed: "Kabupaten Kutai Kartanegara", "Provinsi Kalimantan Timur"
    kinds: tuple[str, ...]  # the sheets, in contract order
    kabkota: tuple[tuple[str, str], ...]  # what kode_kabkota may hold: (code, name)

    @property
    def province(self) -> bool:
        return len(self.code) == 2


def _tanggal(d: date) -> str:
    """"23 November 2024", as the bulletin writes dates (Babel, id_ID)."""
    return format_date(d, "d MMMM y", locale="id_ID")


def _hari_tanggal(d: date) -> str:
    """"Sabtu, 23 November 2024"."""
    return format_date(d, "EEEE, d MMMM y", locale="id_ID")


def _province_of(kabkota: str) -> str:
    """The province a kab/kota code belongs to (its first two digits), so a template can be made
    for any desk in Indonesia; an unknown prefix falls back to Kaltim's list for the message."""
    try:
        return check_scope(kabkota[:2])
    except ValueError:
        return KALTIM


def _kab_row(kabkota: str) -> dict[str, Any]:
    province = _province_of(kabkota)
    kab = regions(province)["kabkota"].filter(pl.col("kabkota_code") == kabkota)
    if kab.is_empty():
        known = ", ".join(regions(province)["kabkota"]["kabkota_code"].to_list())
        raise ValueError(f"kode kab/kota '{kabkota}' tidak dikenal; gunakan salah satu dari: "
                         f"{known}")
    return kab.row(0, named=True)


def _desk(code: str) -> _Desk:
    """The desk behind a sender code: 4 digits = a kab/kota, 2 digits = a provincial desk."""
    if len(code) != 2:
        name = _kab_row(code)["kabkota_name"]
        return _Desk(code, name, KINDS, ((code, name),))
    known = provinces()["provinsi_code"].to_list()
    if code not in known:
        raise ValueError(f"kode provinsi '{code}' tidak dikenal; gunakan salah satu dari: "
                         f"{', '.join(known)}")
    name = f"Provinsi {scope_name(code)}"
    kab = regions(code)["kabkota"].sort("kabkota_code")
    return _Desk(code, name, tuple(k for k in KINDS if k in PROVINCE_KINDS),
                 ((code, name), *zip(kab["kabkota_code"], kab["kabkota_name"], strict=True)))


def _names(kabkota: str) -> tuple[dict[str, str], dict[str, str]]:
    reg = regions(_province_of(kabkota))
    kec = reg["kecamatan"].filter(pl.col("kabkota_code") == kabkota)
    desa = reg["desa"].filter(pl.col("kabkota_code") == kabkota)
    return (dict(zip(kec["kecamatan_code"], kec["kecamatan_name"], strict=True)),
            dict(zip(desa["desa_code"], desa["desa_name"], strict=True)))


def _previous(con: duckdb.DuckDBPyConnection | None, query: str,
              params: list[Any]) -> list[dict[str, Any]]:
    if con is None:
        return []
    cur = con.execute(query, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _logistik(kabkota: str, prev: list[dict[str, Any]]) -> _Sheet:
    kec_names, desa_names = _names(kabkota)
    order = {b: i for i, b in enumerate(ENUMS["barang"])}
    need = desa_requirements(_province_of(kabkota)).filter(
        pl.col("kabkota_code") == kabkota).to_dicts()
    need.sort(key=lambda r: (r["kecamatan_code"], r["desa_code"], order[r["barang"]]))
    last = {(p["kode_desa"], p["barang"]): p for p in prev}
    rows = []
    for r in need:
        values: dict[str, Any] = {
            "kode_kabkota": kabkota, "kode_kecamatan": r["kecamatan_code"],
            "kode_desa": r["desa_code"], "barang": r["barang"],
            "jumlah_kebutuhan": r["jumlah_kebutuhan"], "jumlah_tps": r["n_tps"],
        }
        carried = last.get((r["desa_code"], r["barang"]))
        if carried:
            values.update({c: carried[c] for c in CARRY_LOGISTIK if carried[c] is not None})
        rows.append(_Row(
            values,
            [kec_names.get(r["kecamatan_code"], ""), desa_names.get(r["desa_code"], ""),
             ENUMS["barang"][r["barang"]],
             "angka minggu lalu, perbarui" if carried else "belum ada laporan minggu lalu"],
            frozenset(LOCKED_KEYS["logistik"]), frozenset(values),
        ))
    return _Sheet("logistik", rows, ["INFO kecamatan", "INFO desa/kelurahan", "INFO barang",
                                     "INFO sumber angka"])


def _keamanan(kabkota: str, prev: list[dict[str, Any]]) -> _Sheet:
    kec_names, _ = _names(kabkota)
    n_tps = dict(
        tps_master(_province_of(kabkota)).filter(pl.col("kabkota_code") == kabkota)
        .group_by("kecamatan_code").agg(pl.len()).iter_rows()
    )
    last = {p["kode_kecamatan"]: p for p in prev}
    rows = []
    for code in sorted(kec_names):
        values: dict[str, Any] = {"kode_kabkota": kabkota, "kode_kecamatan": code,
                                  "jumlah_tps": n_tps.get(code, 0)}
        carried = last.get(code)
        if carried:
            values.update({c: carried[c] for c in CARRY_KEAMANAN if carried[c] is not None})
        rows.append(_Row(
            values,
            [kec_names[code],
             "angka minggu lalu, perbarui" if carried else "belum ada laporan minggu lalu"],
            frozenset(LOCKED_KEYS["keamanan"]), frozenset(values),
        ))
    return _Sheet("keamanan", rows, ["INFO kecamatan", "INFO sumber angka"])


def _ringkasan(kabkota: str, prev: list[dict[str, Any]]) -> _Sheet:
    values: dict[str, Any] = {"kode_kabkota": kabkota}
    if prev and prev[0].get("unit_pelapor"):
        values["unit_pelapor"] = prev[0]["unit_pelapor"]
    return _Sheet("ringkasan", [_Row(values, [_kab_row(kabkota)["kabkota_name"]],
                                     frozenset(LOCKED_KEYS["ringkasan"]), frozenset(values))],
                  ["INFO kab/kota"])


class _Items(NamedTuple):
    """A kind whose sheet lists items (one row each) carried while they are open."""

    key: str  # the item's id column
    state: str  # the column holding its state
    final: frozenset[str]  # states that close it: no longer carried
    order: str  # the column the carried rows are sorted by (then the id)
    sender: str  # the column of `core.<kind>_current` naming who reported it
    update: str  # what the desk should update, for the INFO column


ITEM_KINDS: dict[str, _Items] = {
    "insiden": _Items("id_insiden", "status", FINAL_STATUS_INSIDEN, "waktu_kejadian",
                      "kode_kabkota", "status bila berubah"),
    "netralitas": _Items("id_kasus", "tahap", FINAL_TAHAP, "tanggal_lapor", "kode_kabkota",
                         "tahap dan tanggal_tahap bila berubah"),
    # history per (sender, id): the provincial desk's follow-ups name other kab/kota
    "tindak_lanjut": _Items("id_tindak_lanjut", "status", FINAL_TINDAK_LANJUT,
                            "tanggal_keputusan", "pengirim",
                            "status, tanggal_status dan catatan; tetap cantumkan sampai "
                            "selesai atau dibatalkan"),
}


def _open_items(kind: str, prev: list[dict[str, Any]]) -> _Sheet:
    """Incidents / cases / follow-ups still open at their latest report, as rows to update this
    week (the same "latest earlier row per id" the cross-week rules compare with)."""
    items = ITEM_KINDS[kind]
    names = [c.name for c in COLUMNS[kind]]
    rows = [
        _Row({c: p[c] for c in names},
             [f"dibawa dari laporan {p['week']} ({items.state} terakhir: {p[items.state]}"
              + (f", tenggat {p['tenggat']:%Y-%m-%d}" if kind == "tindak_lanjut" else "")
              + f"); perbarui {items.update}"],
             frozenset(LOCKED_KEYS[kind]), frozenset(names))
        for p in prev if p[items.state] not in items.final
    ]
    return _Sheet(kind, rows, ["INFO keterangan"])


_PREV_SQL = {
    "logistik": "SELECT * FROM core.logistik_current WHERE week = ? AND kode_kabkota = ?",
    "keamanan": "SELECT * FROM core.keamanan_current WHERE week = ? AND kode_kabkota = ?",
    "ringkasan": "SELECT * FROM core.ringkasan_current WHERE week = ? AND kode_kabkota = ? "
                 "ORDER BY row_number LIMIT 1",
}
_PREFILLED = {"ringkasan": _ringkasan, "logistik": _logistik, "keamanan": _keamanan}
# The latest reported row of every item the desk sent before the template's week.
_OPEN_SQL = """
SELECT * FROM core.{kind}_current
WHERE week < ? AND {sender} = ?
QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY week DESC, row_number DESC) = 1
ORDER BY {order}, {key}
"""


def _sheets(desk: _Desk, week: str,
            con: duckdb.DuckDBPyConnection | None) -> tuple[list[_Sheet], dict[str, int]]:
    """The desk's sheets, and how many rows of each were carried from the warehouse."""
    prev_week = previous_week(week)
    sheets, carried = [], {}
    for kind in desk.kinds:
        if kind in _PREFILLED:
            prev = _previous(con, _PREV_SQL[kind], [prev_week, desk.code])
            sheets.append(_PREFILLED[kind](desk.code, prev))
            carried[kind] = len(prev)
        else:
            i = ITEM_KINDS[kind]
            sql = _OPEN_SQL.format(kind=kind, sender=i.sender, key=i.key, order=i.order)
            sheets.append(_open_items(kind, _previous(con, sql, [week, desk.code])))
            carried[kind] = len(sheets[-1].rows)
    return sheets, carried


def _apply_fill(sheet: _Sheet, fill: Sequence[Mapping[str, Any]]) -> None:
    """Write a desk's rows over the template's: matched on the kind's row key, else appended."""
    key = ROW_KEYS[sheet.kind]
    names = {c.name for c in COLUMNS[sheet.kind]}
    at = {tuple(r.values.get(k) for k in key): r for r in sheet.rows}
    for given in fill:
        values = {c: v for c, v in given.items() if c in names}
        row = at.pop(tuple(values.get(k) for k in key), None)  # a repeated key is appended
        if row is None:
            row = _Row({}, [""] * len(sheet.info_headers))
            sheet.rows.append(row)
        row.values.update(values)


# --------------------------------------------------------------------------------------------
# Validation windows, from the suites themselves (so the workbook never disagrees with them)


@cache
def _expectations(kind: str) -> tuple[dict[str, Any], ...]:
    return tuple(suite_document(kind)["expectations"])


def _date_windows(kind: str) -> dict[str, tuple[int, int]]:
    """Column -> (first, last) day offset from the week's Monday that the suite accepts."""
    out = {}
    for e in _expectations(kind):
        meta = e.get("meta", {})
        if meta.get("rule") == "tanggal_wajar":
            out[meta["column"]] = (int(e["kwargs"]["min_value"]), int(e["kwargs"]["max_value"]))
    return out


def _max_length(kind: str, column: str) -> int | None:
    for e in _expectations(kind):
        if (e["type"] == "expect_column_value_lengths_to_be_between"
                and e["kwargs"].get("column") == column):
            return int(e["kwargs"]["max_value"])
    return None


# --------------------------------------------------------------------------------------------
# Writing


class _Formats:
    """Every cell format of the workbook, created once."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        base = {"font_name": "Calibri", "font_size": 10, "valign": "top"}

        def fmt(**kw: Any) -> Any:
            return wb.add_format({**base, **kw})

        num = {"code": "@", "str": "@", "int": "0", "date": "yyyy-mm-dd",
               "datetime": "yyyy-mm-dd hh:mm"}
        self.input = {t: fmt(locked=False, num_format=n) for t, n in num.items()}
        self.input_wrap = fmt(locked=False, num_format="@", text_wrap=True)
        # filled by the template but the desk may correct it: pale blue, unlocked
        self.prefilled = {t: fmt(locked=False, num_format=n, bg_color="#E8F1FB")
                          for t, n in num.items()}
        self.prefilled_wrap = fmt(locked=False, num_format="@", bg_color="#E8F1FB",
                                  text_wrap=True)
        # the row's identity: grey, locked
        self.key = {t: fmt(locked=True, num_format=n, bg_color="#D9D9D9") for t, n in num.items()}
        self.info = fmt(locked=True, italic=True, font_color="#595959", bg_color="#F2F2F2",
                        num_format="@")
        self.info_header = fmt(locked=True, bold=True, italic=True, font_color="#404040",
                               bg_color="#D9D9D9", border=1, text_wrap=True)
        self.header = fmt(locked=True, bold=True, font_color="#FFFFFF", bg_color="#1F4E78",
                          border=1, text_wrap=True)
        self.hint = fmt(locked=True, italic=True, font_size=8, font_color="#404040",
                        text_wrap=True, bg_color="#FFF2CC")
        self.title = fmt(locked=True, bold=True, font_size=12)
        self.locked = fmt(locked=True)
        self.bad = wb.add_format({"bg_color": "#F4B6B6", "font_color": "#9C0006"})
        self.p_title = fmt(bold=True, font_size=14, text_wrap=True)
        self.p_head = fmt(bold=True, font_size=11, font_color="#1F4E78", text_wrap=True)
        self.p_text = fmt(text_wrap=True)
        self.p_cell = fmt(text_wrap=True, border=1)
        self.p_cell_head = fmt(bold=True, border=1, bg_color="#D9D9D9", text_wrap=True)


def _daftar_items(desk: _Desk) -> dict[str, list[tuple[str, str]]]:
    """Every dropdown list (value, label) the desk's sheets use: the contract's enumerations and
    the region codes it may write (a kab/kota's own; a province's kab/kota and itself)."""
    used = {enum for kind in desk.kinds for enum in ENUM_COLUMNS[kind].values()}
    lists = {name: list(values.items()) for name, values in ENUMS.items() if name in used}
    lists["kode_kabkota"] = list(desk.kabkota)
    if not desk.province:
        kec_names, desa_names = _names(desk.code)
        lists["kode_kecamatan"] = sorted(kec_names.items())
        lists["kode_desa"] = sorted(desa_names.items())
    return lists


def _list_ranges(items: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    """List name -> absolute reference of its values on the `daftar` sheet (column 2i)."""
    return {name: f"={DAFTAR}!${xl_col_to_name(2 * i)}$2:${xl_col_to_name(2 * i)}${len(v) + 1}"
            for i, (name, v) in enumerate(items.items())}


def _write_daftar(wb: xlsxwriter.Workbook, f: _Formats,
                  items: dict[str, list[tuple[str, str]]]) -> None:
    ws = wb.add_worksheet(DAFTAR)
    for i, (name, values) in enumerate(items.items()):
        col = 2 * i
        ws.write_string(0, col, name, f.header)
        ws.write_string(0, col + 1, f"label_{name}", f.header)
        for j, (value, label) in enumerate(values, start=1):
            ws.write_string(j, col, value, f.key["str"])
            ws.write_string(j, col + 1, label, f.info)
        ws.set_column(col, col, 22)
        ws.set_column(col + 1, col + 1, 34)
    ws.protect("", {"select_locked_cells": True})
    ws.hide()


def _hint(col: Column, kind: str, max_len: int | None) -> str:
    enum = ENUM_COLUMNS[kind].get(col.name)
    what = {
        "code": "kode wilayah (teks)",
        "int": "bilangan bulat ≥ 0",
        "date": "tanggal TTTT-BB-HH",
        "datetime": "tanggal dan jam TTTT-BB-HH JJ:MM (WITA)",
        "str": "teks",
    }[col.type]
    if enum:
        what = "pilih dari daftar"
    if max_len:
        what += f", maks. {max_len:,} karakter".replace(",", ".")
    if col.name == "ref_subjek":
        what = "kode samaran, mis. SBJ-6402-7F3A; JANGAN nama atau NIP"
    need = "boleh kosong" if col.nullable else "wajib"
    return f"{need}: {what}"


def _cell(ws: Any, row: int, col: int, value: Any, fmt: Any) -> None:
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, str(value), fmt)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, datetime):
        ws.write_datetime(row, col, value.replace(tzinfo=None), fmt)
    elif isinstance(value, date):
        ws.write_datetime(row, col, datetime.combine(value, time()), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _validations(ws: Any, kind: str, columns: tuple[Column, ...], last_row: int,
                 lists: dict[str, str], week: str) -> None:
    start = week_start(week)
    windows = _date_windows(kind)
    for j, col in enumerate(columns):
        rng = (FIRST_DATA_ROW, j, last_row, j)
        enum = ENUM_COLUMNS[kind].get(col.name)
        source = lists.get(enum or col.name) if (enum or col.type == "code") else None
        if source:
            ws.data_validation(*rng, {
                "validate": "list", "source": source,
                "input_title": col.name[:32],
                "input_message": "Pilih dari daftar (klik panah di sisi sel)."
                + (" Boleh kosong." if col.nullable else ""),
                "error_title": "Nilai tidak ada di daftar",
                "error_message": f"Isi {col.name} harus salah satu nilai pada daftar pilihan "
                                 "(lihat lembar Petunjuk).",
            })
        elif col.type == "int":
            ws.data_validation(*rng, {
                "validate": "integer", "criteria": ">=", "value": 0,
                "input_title": col.name[:32],
                "input_message": "Bilangan bulat 0 atau lebih, tanpa titik/koma.",
                "error_title": "Harus bilangan bulat ≥ 0",
                "error_message": f"{col.name} harus bilangan bulat 0 atau lebih.",
            })
        elif col.type in ("date", "datetime") and col.name in windows:
            lo, hi = windows[col.name]
            first = datetime.combine(start + timedelta(days=lo), time())
            last = datetime.combine(start + timedelta(days=hi), time(23, 59))
            ws.data_validation(*rng, {
                "validate": "date", "criteria": "between", "minimum": first, "maximum": last,
                "input_title": col.name[:32],
                "input_message": f"Tanggal antara {first:%Y-%m-%d} dan {last:%Y-%m-%d}"
                + (" (jam WITA, mis. 2024-11-20 14:30)." if col.type == "datetime" else "."),
                "error_title": "Tanggal di luar rentang",
                "error_message": f"{col.name} harus antara {first:%Y-%m-%d} dan "
                                 f"{last:%Y-%m-%d} (minggu laporan {week}).",
            })
        elif col.type == "str" and (max_len := _max_length(kind, col.name)):
            ws.data_validation(*rng, {
                "validate": "length", "criteria": "between", "minimum": 1, "maximum": max_len,
                "input_title": col.name[:32],
                "input_message": f"Teks, paling panjang {max_len} karakter.",
                "error_title": "Teks terlalu panjang",
                "error_message": f"{col.name} paling panjang {max_len} karakter.",
            })
        elif col.name == "ref_subjek":
            c = xl_rowcol_to_cell(FIRST_DATA_ROW, j)
            ws.data_validation(*rng, {
                "validate": "custom",
                "value": f'=AND(LEN({c})>=3,LEN({c})<=40,ISERROR(FIND(" ",{c})),'
                         f"NOT(ISNUMBER(--{c})))",
                "input_title": "ref_subjek",
                "input_message": "Kode samaran subjek, mis. SBJ-6402-7F3A. Jangan pernah "
                                 "menulis nama atau NIP.",
                "error_title": "Bukan kode samaran",
                "error_message": "ref_subjek harus kode samaran 3–40 huruf/angka tanpa spasi "
                                 "(mis. SBJ-6402-7F3A), bukan nama atau NIP.",
            })


def _highlights(ws: Any, kind: str, columns: tuple[Column, ...], last_row: int,
                f: _Formats) -> None:
    """Red cells where a rule the suites enforce is broken (shown, not blocking)."""
    at = {c.name: j for j, c in enumerate(columns)}

    def cell(name: str) -> str:
        return xl_rowcol_to_cell(FIRST_DATA_ROW, at[name], col_abs=True)

    rules: list[tuple[str, str]] = []  # (column to colour, formula relative to the first row)
    if kind == "logistik":
        chain = ["diterima_kabkota", "diterima_ppk", "diterima_pps", "diterima_tps"]
        for upper, lower in pairwise(chain):
            rules.append((lower, f"=AND(ISNUMBER({cell(lower)}),ISNUMBER({cell(upper)}),"
                                 f"{cell(lower)}>{cell(upper)})"))
        rules.append(("rusak", f"=AND(ISNUMBER({cell('rusak')}),"
                               f"{cell('rusak')}>{cell('diterima_kabkota')})"))
        rules.append(("tps_lengkap", f"=AND(ISNUMBER({cell('tps_lengkap')}),"
                                     f"{cell('tps_lengkap')}>{cell('jumlah_tps')})"))
    elif kind == "keamanan":
        first, last = cell("tps_kurang_rawan"), cell("tps_sangat_rawan")
        for name in ("tps_kurang_rawan", "tps_rawan", "tps_sangat_rawan"):
            rules.append((name, f"=AND(COUNT({first}:{last})=3,"
                                f"SUM({first}:{last})<>{cell('jumlah_tps')})"))
    elif kind == "insiden":
        rules.append(("tingkat", f"=AND(SUM({cell('korban_meninggal')}:{cell('korban_luka')})>0,"
                                 f'{cell("tingkat")}<>"tinggi")'))
    elif kind == "netralitas":
        rules.append(("sanksi", f'=AND({cell("tahap")}<>"",'
                                f'({cell("sanksi")}<>"")<>({cell("tahap")}="sanksi_dijatuhkan"))'))
    elif kind == "tindak_lanjut":
        decided = cell("tanggal_keputusan")
        for name in ("tenggat", "tanggal_status"):  # tenggat_setelah_keputusan, urutan_tanggal
            rules.append((name, f"=AND(ISNUMBER({cell(name)}),ISNUMBER({decided}),"
                                f"{cell(name)}<{decided})"))
    for name, formula in rules:
        ws.conditional_format(FIRST_DATA_ROW, at[name], last_row, at[name],
                              {"type": "formula", "criteria": formula, "format": f.bad})


def _width(col: Column, kind: str) -> float:
    if col.name in WIDE_TEXT and col.type == "str" and not ENUM_COLUMNS[kind].get(col.name):
        return WIDE_TEXT[col.name]
    if ENUM_COLUMNS[kind].get(col.name):
        return max(len(v) for v in ENUMS[ENUM_COLUMNS[kind][col.name]]) + 4
    return {"code": 14, "int": 12, "date": 12, "datetime": 17, "str": 18}[col.type]


def _write_kind(wb: xlsxwriter.Workbook, f: _Formats, sheet: _Sheet, desk: _Desk, week: str,
                lists: dict[str, str]) -> None:
    kind = sheet.kind
    kabkota = desk.code
    ws = wb.add_worksheet(kind)
    columns = COLUMNS[kind]
    n = len(columns)
    max_len = {c.name: _max_length(kind, c.name) for c in columns}
    wrap = {c.name for c in columns if c.name in WIDE_TEXT and c.type == "str"
            and not ENUM_COLUMNS[kind].get(c.name)}

    # column defaults: every input column is unlocked (rows added below stay editable)
    for j, col in enumerate(columns):
        header_w = min(max(len(col.name) + 2, 8), 22)
        ws.set_column(j, j, max(_width(col, kind), header_w),
                      f.input_wrap if col.name in wrap else f.input[col.type])
    for k in range(len(sheet.info_headers)):
        ws.set_column(n + k, n + k, 26, f.info)

    title = (f"{_KIND_TITLE[kind]} — {desk.name} ({kabkota}) — minggu {week} "
             f"({_tanggal(week_start(week))} s.d. {_tanggal(week_end(week))}). "
             f"Simpan/kirim sebagai {kabkota}_{kind}_{week}.xlsx; lihat lembar {PETUNJUK}.")
    ws.write_string(TITLE_ROW, 0, title, f.title)
    for j in range(1, n + len(sheet.info_headers)):
        ws.write_blank(TITLE_ROW, j, None, f.locked)
    for j, col in enumerate(columns):
        hint = _hint(col, kind, max_len[col.name])
        if desk.province and col.name == "kode_kabkota":
            hint = (f"wajib: kab/kota yang dituju, atau {kabkota} untuk tingkat provinsi "
                    "(pilih dari daftar)")
        ws.write_string(HINT_ROW, j, hint, f.hint)
        ws.write_string(HEADER_ROW, j, col.name, f.header)
    for k, name in enumerate(sheet.info_headers):
        ws.write_string(HINT_ROW, n + k, "hanya informasi, tidak dibaca sistem", f.hint)
        ws.write_string(HEADER_ROW, n + k, name, f.info_header)
    ws.set_row(HINT_ROW, 30)
    ws.set_row(HEADER_ROW, 30)
    if kind == "ringkasan":
        ws.set_row(FIRST_DATA_ROW, 150)  # room to read the narasi while typing it

    # item sheets offer empty rows for new items; on a kab/kota desk's, kode_kabkota fills itself
    # (a provincial desk chooses the kab/kota per row)
    items = kind in ITEM_KINDS
    formula_kab = items and not desk.province
    total = len(sheet.rows) + (BLANK_ROWS if items else 0)
    last_input = xl_col_to_name(n - 1)
    for i in range(total):
        r = FIRST_DATA_ROW + i
        row = sheet.rows[i] if i < len(sheet.rows) else _Row({}, [])
        for j, col in enumerate(columns):
            value = row.values.get(col.name)
            if col.name in row.locked:
                fmt = f.key[col.type]
            elif col.name in row.prefilled and value is not None:
                fmt = f.prefilled_wrap if col.name in wrap else f.prefilled[col.type]
            else:
                fmt = f.input_wrap if col.name in wrap else f.input[col.type]
            if formula_kab and col.name == "kode_kabkota" and value in (None, kabkota):
                # the default: the kab/kota code as soon as anything else is typed in the row;
                # unlocked, so a pasted block (or a typed code) may replace it
                filled = any(row.values.get(c.name) not in (None, "") for c in columns[1:])
                ws.write_formula(r, j, f'=IF(COUNTA(B{r + 1}:{last_input}{r + 1})=0,"",'
                                       f'"{kabkota}")', f.input["code"],
                                 kabkota if filled else "")
                continue
            _cell(ws, r, j, value, fmt)
        for k, text in enumerate(row.info):
            ws.write_string(r, n + k, text, f.info)

    last_row = FIRST_DATA_ROW + max(2 * total, MIN_VALIDATED_ROWS) - 1
    _validations(ws, kind, columns, last_row, lists, week)
    _highlights(ws, kind, columns, last_row, f)
    ws.freeze_panes(FIRST_DATA_ROW, FROZEN_COLUMNS[kind])
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(HEADER_ROW)
    if kind in ("logistik", "keamanan"):
        ws.autofilter(HEADER_ROW, 0, FIRST_DATA_ROW + total - 1,
                      n + len(sheet.info_headers) - 1)
    ws.protect("", {
        "format_columns": True, "format_rows": True, "autofilter": True,
        "insert_rows": items, "select_locked_cells": True, "select_unlocked_cells": True,
    })


_P_WIDTHS = (26, 36, 76)  # Petunjuk columns; text lines span all three


def _lines(text: str, width: float) -> int:
    """Wrapped lines a text needs in a cell `width` characters wide (explicit row heights:
    neither Excel nor LibreOffice fits the height of a merged, wrapped cell by itself)."""
    per_line = max(int(width * 0.92), 10)
    return max(1, sum(-(-max(len(part), 1) // per_line) for part in text.split("\n")))


def _write_petunjuk(wb: xlsxwriter.Workbook, f: _Formats, desk: _Desk, week: str,
                    sheets: list[_Sheet], carried: dict[str, int], due: datetime) -> None:
    """The instructions, written for the desk's own sheets (a provincial desk's workbook holds
    only the kinds it sends, so its Petunjuk says nothing about logistik or villages)."""
    ws = wb.add_worksheet(PETUNJUK)
    for j, w in enumerate(_P_WIDTHS):
        ws.set_column(j, j, w)
    ws.hide_gridlines(2)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    r = 0

    def line(text: str, fmt: Any = f.p_text, height: float = 13.5) -> None:
        nonlocal r
        ws.merge_range(r, 0, r, 2, text, fmt)
        ws.set_row(r, height * _lines(text, sum(_P_WIDTHS)))
        r += 1

    def table(rows: list[tuple[str, str, str]], head: tuple[str, str, str]) -> None:
        nonlocal r
        for j, h in enumerate(head):
            ws.write_string(r, j, h, f.p_cell_head)
        r += 1
        for cells in rows:
            for j, c in enumerate(cells):
                ws.write_string(r, j, c, f.p_cell)
            ws.set_row(r, 13.5 * max(_lines(c, w) for c, w in zip(cells, _P_WIDTHS,
                                                                   strict=True)))
            r += 1
        r += 1

    kabkota, kinds = desk.code, set(desk.kinds)
    start, end = week_start(week), week_end(week)
    prev_week = previous_week(week)
    n_tl = carried.get("tindak_lanjut", 0)
    line(f"Templat laporan mingguan Desk Pilkada — {desk.name} ({kabkota})", f.p_title, 20)
    line(f"Minggu laporan {week}: {_hari_tanggal(start)} s.d. {_hari_tanggal(end)} (WITA).")
    line(f"Batas kirim: {_hari_tanggal(due.date())} pukul {due:%H.%M} WITA. Kiriman setelah "
         "batas tetap diterima tetapi dicatat terlambat.", f.p_head, 15)
    r += 1

    line("1. Apa yang diisi", f.p_head, 15)
    if desk.province:
        line(f"• Buku kerja desk provinsi: hanya laporan tindak lanjut lintas sektor, dikirim "
             f"dengan kode provinsi {kabkota}. Setiap baris menyebut kab/kota yang dituju di "
             f"kode_kabkota (pilih dari daftar), atau {kabkota} untuk urusan tingkat provinsi. "
             "Sel abu-abu (judul kolom, id tindak lanjut yang dibawa) terkunci. Sel putih diisi; "
             "sel biru sudah terisi dan perlu diperiksa serta diperbarui. Kolom 'INFO …' di "
             "sebelah kanan hanya keterangan dan tidak dibaca sistem.")
    else:
        line("• Sel abu-abu (kode wilayah, barang, judul kolom) terkunci: barisnya sudah "
             "disiapkan untuk Anda. Sel putih diisi; sel biru sudah terisi dan perlu diperiksa "
             "serta diperbarui. Kolom 'INFO …' di sebelah kanan hanya keterangan dan tidak dibaca "
             "sistem.")
        line("• Kebutuhan barang (jumlah_kebutuhan) dan jumlah TPS per desa/kecamatan terisi dari "
             "data referensi provinsi; perbaiki bila data Anda berbeda (kebutuhan surat suara "
             "tidak boleh kurang dari DPT + cadangan).")
        if carried["logistik"] or carried["keamanan"]:
            line(f"• Angka laporan minggu lalu ({prev_week}) yang sudah diterima provinsi sudah "
                 "diisikan (angka diterima, rusak, TPS lengkap, moda angkut, kelas TPS, "
                 "personel, posko): perbarui dengan keadaan minggu ini.")
        else:
            line(f"• Belum ada laporan minggu lalu ({prev_week}) yang diterima provinsi, jadi "
                 "kolom angka masih kosong.")
    if "tindak_lanjut" in kinds:
        line(f"• Tindak lanjut: {n_tl} tindak lanjut yang masih terbuka (baru, berjalan, "
             "terkendala) pada laporan Anda sebelumnya sudah diisikan (baris biru): perbarui "
             "status, tanggal_status dan catatan; jangan hapus barisnya sampai berstatus selesai "
             "atau dibatalkan. Keputusan baru ditambahkan di baris kosong." if n_tl else
             "• Tindak lanjut: tidak ada tindak lanjut terbuka dari laporan Anda sebelumnya. "
             "Keputusan rapat (Desk Pilkada, Rakor Forkopimda) yang perlu ditindaklanjuti "
             "ditulis satu baris per tindakan, dengan satu instansi penanggung jawab.")
    line(("• Kolom per_tanggal (tanggal keadaan) diisi pada setiap baris. " if not desk.province
          else "") + "Sel berisi daftar pilihan (panah di sisi sel) atau aturan isian; pilih sel "
         "untuk melihat keterangannya. Sel merah berarti ada aturan yang dilanggar (lihat "
         "bagian 3).")
    r += 1

    rows = []
    for s in sheets:
        what = {
            "ringkasan": "status_umum (pilih), narasi 'kondisi terkini' (wajib walau aman), "
                         "unit_pelapor, per_tanggal.",
            "logistik": f"{len(s.rows)} baris = setiap desa/kelurahan × 8 barang. Isi jumlah "
                        "diterima di gudang KPU kab/kota, PPK, PPS, TPS (kumulatif), rusak, "
                        "tps_lengkap, moda_angkut, per_tanggal; catatan bila perlu.",
            "keamanan": f"{len(s.rows)} baris = setiap kecamatan. Isi kelas TPS (kurang rawan/"
                        "rawan/sangat rawan), personel Polri/TNI/Linmas, posko, per_tanggal.",
            "insiden": (f"{len(s.rows)} kejadian yang masih terbuka dibawa dari laporan "
                        "sebelumnya: perbarui status. " if s.rows else "")
                       + "Tambahkan kejadian baru di baris kosong; kode_kabkota terisi "
                         "sendiri. Tidak ada kejadian: biarkan kosong dan tetap kirim.",
            "netralitas": (f"{len(s.rows)} kasus yang belum selesai dibawa dari laporan "
                           "sebelumnya: perbarui tahap. " if s.rows else "")
                          + "Tambahkan kasus baru di baris kosong; kode_kabkota terisi sendiri. "
                            "Tidak ada kasus: biarkan kosong dan tetap kirim.",
            "tindak_lanjut": (f"{len(s.rows)} tindak lanjut yang masih terbuka dibawa dari "
                              "laporan sebelumnya: perbarui status, tanggal_status, catatan; "
                              "WAJIB dikirim sampai semuanya selesai atau dibatalkan. "
                              if s.rows else "TIDAK WAJIB: kosong berarti tidak ada tindak "
                              "lanjut; kirim bila ada isinya. ")
                             + ("Tambahkan tindak lanjut baru di baris kosong; kode_kabkota "
                                "terisi sendiri." if not desk.province else
                                "Tambahkan tindak lanjut baru di baris kosong; pilih "
                                "kode_kabkota setiap baris."),
        }[s.kind]
        rows.append((s.kind, f"{kabkota}_{s.kind}_{week}.xlsx", what))

    line("2. Nama file dan cara kirim", f.p_head, 15)
    line(f"Buku kerja ini dikirim SATU KALI, utuh, dengan nama {kabkota}_{week}.xlsx (nama "
         f"{template_name(kabkota, week)} juga diterima). Setiap lembar yang namanya sama dengan "
         "jenis laporan dibaca sebagai laporan jenis itu dan mendapat status serta umpan "
         "baliknya sendiri. Jangan mengganti nama lembar; lembar yang dihapus berarti laporan "
         "jenis itu tidak dikirim.")
    line(f"Dua cara kirim: (1) simpan di folder {kabkota}/ pada folder kiriman, atau (2) kirim "
         "sebagai lampiran surel dari alamat desk yang terdaftar ke alamat surel Desk Pilkada "
         "provinsi; balasan berisi status setiap lembar datang di utas surel yang sama dalam "
         "beberapa menit. Cara lain tetap diterima: satu file per jenis dengan nama di tabel "
         "(atau tiap lembar disimpan sebagai 'CSV UTF-8' dengan nama "
         f"{kabkota}_<jenis>_{week}.csv).")
    table(rows, ("lembar = jenis laporan", "nama bila dikirim terpisah", "isi"))
    line("Perbaikan: kirim ulang buku kerja dengan nama yang sama atau dengan akhiran, mis. "
         f"{kabkota}_{week}_revisi.xlsx. Untuk setiap lembar, versi terbaru menggantikan yang lama "
         "(riwayat tetap disimpan); lembar yang isinya sama persis dengan kiriman sebelumnya "
         "dicatat sebagai duplikat dan tidak menggantikan apa pun.")
    if {"insiden", "netralitas"} <= kinds:
        line("Laporan insiden dan netralitas WAJIB dikirim walaupun tidak ada kejadian (lembar "
             f"hanya berisi judul kolom). Lebih dari {BLANK_ROWS} kejadian/kasus baru: lanjutkan "
             f"di bawah baris terakhir dan isi kode_kabkota {kabkota} sendiri.")
    if "tindak_lanjut" in kinds:
        line("Laporan tindak_lanjut tidak wajib: lembar kosong (atau tidak dikirim) berarti tidak "
             "ada tindak lanjut yang dicatat. Tetapi tindak lanjut yang masih terbuka (baru, "
             "berjalan, terkendala) pada laporan Anda sebelumnya harus tetap dicantumkan setiap "
             "kali Anda mengirim, dengan status terbaru, sampai berstatus selesai atau "
             "dibatalkan: tindak lanjut yang hilang dari laporan ditandai. Lebih dari "
             f"{BLANK_ROWS} tindak lanjut baru: lanjutkan di bawah baris terakhir"
             + ("." if desk.province else f" dan isi kode_kabkota {kabkota} sendiri."))
    r += 1

    line("3. Aturan pemeriksaan (temuan dikembalikan; tidak dihitung hanya isian yang salah, "
         "atau seluruh baris bila kode/identitasnya salah)", f.p_head, 15)
    ballot = f"{BALLOT_RESERVE * 100:.1f}".replace(".", ",")
    tl_dates = _date_windows("tindak_lanjut")
    tl_last = start + timedelta(days=tl_dates["tanggal_status"][1])
    region = (f"kode_kabkota hanya kab/kota di {desk.name} atau {kabkota} (tingkat provinsi); "
              "kode lain membuat file ditolak." if desk.province else
              "Kode wilayah hanya milik kab/kota sendiri; file berisi kode kab/kota lain ditolak.")
    for needs, rule in (
        ("logistik", "Urutan tahap: diterima_kabkota ≥ diterima_ppk ≥ diterima_pps ≥ "
                     "diterima_tps; rusak tidak lebih dari yang diterima; tps_lengkap ≤ "
                     "jumlah_tps."),
        ("logistik", f"Kebutuhan surat suara (ss_gubernur, ss_bupati_walikota) ≥ DPT + cadangan "
                     f"{ballot} % (dibulatkan ke atas per TPS)."),
        ("logistik", "Angka diterima bersifat kumulatif dan tidak boleh turun dari minggu lalu; "
                     "bila ada koreksi, tulis alasannya di kolom catatan."),
        ("logistik", "Setiap desa/kelurahan × setiap barang harus ada di logistik; setiap "
                     "kecamatan di keamanan. Jangan menghapus baris."),
        ("keamanan", "Keamanan: tps_kurang_rawan + tps_rawan + tps_sangat_rawan = jumlah_tps."),
        ("insiden", "Insiden: ada korban meninggal/luka berarti tingkat = tinggi; status tidak "
                    "boleh mundur dari laporan sebelumnya; id_insiden unik (mis. "
                    f"INS-{kabkota}-0001)."),
        ("netralitas", f"Netralitas: ref_subjek berisi kode samaran (mis. SBJ-{kabkota}-7F3A), "
                       "JANGAN PERNAH nama atau NIP ASN; sanksi diisi hanya (dan wajib) bila "
                       "tahap = sanksi_dijatuhkan; tahap tidak boleh mundur; tanggal_tahap tidak "
                       "sebelum tanggal_lapor; id_kasus unik."),
        ("tindak_lanjut", "Tindak lanjut: id_tindak_lanjut unik dan tetap sama dari minggu ke "
                          f"minggu (mis. TL-{kabkota}-0001); satu instansi penanggung jawab per "
                          "baris; tenggat dan tanggal_status tidak sebelum tanggal_keputusan; "
                          "tanggal_keputusan dan tanggal_status paling lambat "
                          f"{tl_last:%Y-%m-%d}; status tidak boleh mundur (baru → berjalan/"
                          "terkendala → selesai/dibatalkan) kecuali alasannya ditulis di "
                          "catatan."),
        ("", (f"Tanggal: per_tanggal di sekitar minggu laporan ({start:%Y-%m-%d} s.d. "
              f"{end:%Y-%m-%d}); tanggal ditulis TTTT-BB-HH, waktu TTTT-BB-HH JJ:MM (WITA)."
              if "ringkasan" in kinds else "Tanggal ditulis TTTT-BB-HH.")),
        ("", region),
        ("ringkasan", "Narasi wajib diisi walaupun situasi aman, paling panjang 2.000 karakter."),
        ("", "Menempel (paste) nilai dapat melewati daftar pilihan Excel; sistem tetap memeriksa "
             "dan menandai nilai yang tidak ada di daftar."),
    ):
        if not needs or needs in kinds:  # "": every workbook
            line("• " + rule)
    r += 1

    line("4. Daftar pilihan", f.p_head, 15)
    choices = [
        (f"{kind}.{column}" if i == 0 else "", value, label)
        for kind in desk.kinds for column, enum in ENUM_COLUMNS[kind].items()
        for i, (value, label) in enumerate(ENUMS[enum].items())
    ]
    if desk.province:
        choices += [("tindak_lanjut.kode_kabkota" if i == 0 else "", code, name)
                    for i, (code, name) in enumerate(desk.kabkota)]
    table(choices, ("kolom", "isi yang ditulis", "arti"))
    line("Penjelasan lengkap setiap kolom: dokumen format laporan dari tim data provinsi "
         "(docs/submission-format.md).")
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True,
                    "format_columns": True, "format_rows": True})
    ws.activate()


def _due(week: str, due: datetime | None) -> datetime:
    from tasks.config import WITA

    if due is not None:
        return due.astimezone(WITA) if due.tzinfo else due.replace(tzinfo=WITA)
    return deadline(week)


def template_name(kabkota: str, week: str) -> str:
    return f"{kabkota}_{week}_template.xlsx"


def build_template(kabkota: str, week: str, out: Path,
                   con: duckdb.DuckDBPyConnection | None = None, *,
                   fill: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
                   due: datetime | None = None) -> Path:
    """Write `<out>/<kabkota>_<week>_template.xlsx` and return its path.

    `kabkota`: a kab/kota code, or a province code (`64`) for the provincial desk, whose
    workbook holds only the kinds it sends (`PROVINCE_KINDS`). `con`: a warehouse connection
    (read-only is enough); with it the previous week's accepted figures and the still-open
    incidents, cases and follow-ups are prefilled. `fill`: kind -> rows of contract values to
    write into the sheet (matched on the kind's row key, else appended), as a desk would type
    them. `due`: the deadline shown (default Saturday 12:00 WITA of `week`).
    """
    parse_week(week)
    desk = _desk(kabkota)
    if fill and (extra := set(fill) - set(desk.kinds)):
        raise ValueError(f"templat {kabkota} tidak memuat lembar {', '.join(sorted(extra))}")
    sheets, carried = _sheets(desk, week, con)
    for s in sheets:
        if fill and s.kind in fill:
            _apply_fill(s, fill[s.kind])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / template_name(kabkota, week)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({
        "title": f"Templat laporan Desk Pilkada {kabkota} {week}",
        "author": f"Desk Pilkada Provinsi {scope_name(_province_of(kabkota))}",
        "created": datetime.combine(week_start(week), time()),  # fixed: same input, same bytes
    })
    f = _Formats(wb)
    items = _daftar_items(desk)
    _write_petunjuk(wb, f, desk, week, sheets, carried, _due(week, due))
    for s in sheets:
        _write_kind(wb, f, s, desk, week, _list_ranges(items))
    _write_daftar(wb, f, items)  # last: hidden, holds the dropdown lists
    wb.close()
    return path


def build_all(week: str, out: Path, con: duckdb.DuckDBPyConnection | None = None, *,
              due: datetime | None = None, scope: str = KALTIM) -> list[Path]:
    """One template per desk of the area (`PILKADA_PROVINCE`) into `out` (the CLI passes
    `<outbox>/templates/<week>/`): every kab/kota, and every provincial desk (its code sorts
    before its kab/kota)."""
    parse_week(week)
    kab = regions(scope)["kabkota"]
    codes = sorted({*kab["kabkota_code"].to_list(), *kab["provinsi_code"].to_list()})
    return [build_template(code, week, out, con, due=due) for code in codes]
