"""Parse: raw bytes of a CSV, XLSX or JSON submission into a frame of the contract's columns.

Two steps, kept apart so each can be tested on its own: `read_table` turns bytes into strings
with normalised headers (what a careful human would accept), and `type_columns` casts them to the
contract's types, reporting every cell it cannot read instead of guessing.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl

from tasks.contract import ALIASES, COLUMNS, Column

ROW = "_row"  # the row number as the desk sees it (spreadsheet row; JSON: object number)
HEADER_SCAN_ROWS = 30
MAX_XLSX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_XLSX_RATIO = 200


class ParseError(Exception):
    """A file that cannot be read at all; the message (Indonesian) goes back to the desk."""


@dataclass(frozen=True)
class CellIssue:
    row: int
    column: str
    value: str
    message: str


_SEPARATORS = re.compile(r"[\s\-/]+")


def normalise_header(name: object) -> str:
    text = str(name or "").replace("\ufeff", "").strip().lower()
    text = _SEPARATORS.sub("_", text)
    return ALIASES.get(text, text)


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) first; Windows-1252 is what Excel writes otherwise; UTF-16
    with its BOM is Excel's "Unicode Text"."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ParseError("File UTF-16 rusak; simpan ulang sebagai 'CSV UTF-8'.") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise ParseError(
                "File tidak dapat dibaca sebagai teks (bukan UTF-8 atau Windows-1252). "
                "Simpan ulang sebagai 'CSV UTF-8'."
            ) from exc


def _read_csv(data: bytes) -> list[list[str]]:
    text = _decode(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    if re.fullmatch(r"sep=.", first.strip()):  # Excel's delimiter hint line
        delimiter = first.strip()[4]
        text = text.split("\n", 1)[1] if "\n" in text else ""
    else:
        delimiter = max((",", ";", "\t"), key=first.count)
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ParseError(f"CSV tidak dapat dibaca: {exc}. Periksa tanda kutip dan panjang isian "
                         f"(paling banyak {csv.field_size_limit():,} karakter per sel).") from exc


def _check_zip(data: bytes) -> None:
    """Refuse an XLSX whose declared uncompressed size or ratio is a zip bomb's."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            total = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise ParseError("File XLSX rusak atau bukan file Excel yang sah.") from exc
    if total > MAX_XLSX_UNCOMPRESSED or total > MAX_XLSX_RATIO * max(len(data), 1):
        raise ParseError(
            f"Isi file XLSX terlalu besar setelah diekstrak ({total:,} byte); "
            "kirim hanya lembar laporan tanpa data tambahan."
        )


def _xlsx_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != datetime.min.time() \
            else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _read_xlsx(data: bytes, kind: str) -> tuple[list[list[str]], int]:
    import fastexcel

    _check_zip(data)
    try:
        reader = fastexcel.read_excel(data)
        names = reader.sheet_names
        sheet = names.index(kind) if kind in names else 0
        table = reader.load_sheet(sheet, header_row=None, skip_rows=[]).to_polars()
    except Exception as exc:  # calamine raises its own error types for corrupt workbooks
        raise ParseError(f"File XLSX tidak dapat dibaca: {exc}") from exc
    rows = [[_xlsx_cell(v) for v in row] for row in table.iter_rows()]
    return rows, 0


def _read_json(data: bytes) -> list[dict]:
    try:
        doc = json.loads(_decode(data))
    except json.JSONDecodeError as exc:
        raise ParseError(f"JSON tidak sah di baris {exc.lineno} kolom {exc.colno}.") from exc
    except RecursionError as exc:
        raise ParseError("JSON terlalu dalam bersarang; kirim array objek yang datar.") from exc
    if isinstance(doc, dict) and isinstance(doc.get("data"), list):
        doc = doc["data"]
    if not isinstance(doc, list) or not all(isinstance(o, dict) for o in doc):
        raise ParseError("JSON harus berupa array objek, satu objek per baris laporan.")
    return doc


def _find_header(rows: list[list[str]], kind: str) -> int:
    """The first row that names the most contract columns: title rows above it are skipped."""
    wanted = {c.name for c in COLUMNS[kind]}
    best, best_hits = 0, 0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        hits = len(wanted & {normalise_header(v) for v in row})
        if hits > best_hits:
            best, best_hits = i, hits
            if hits == len(wanted):  # no later row can name more
                break
    return best


def _frame(header: list[str], body: list[list[str]], numbers: list[int]) -> pl.DataFrame:
    """Stripped text, empty cells as nulls. The body is turned into columns in one go (short rows
    padded with empty cells) rather than indexed cell by cell, which matters at national scale."""
    first: dict[str, int] = {}  # each name's first column; a column named `_row` gives way to ours
    for j, name in enumerate(normalise_header(h) for h in header):
        if name and name != ROW and name not in first:  # unnamed or repeated: not the contract's
            first[name] = j
    width = len(header)
    padded = [row if len(row) >= width else [*row, *[""] * (width - len(row))] for row in body]
    columns = list(zip(*padded, strict=False)) or [()] * width
    data: dict[str, list] = {name: [v.strip() or None for v in columns[j]]
                             for name, j in first.items()}
    data[ROW] = numbers
    return pl.DataFrame(data, schema={**dict.fromkeys(first, pl.String), ROW: pl.Int64})


def read_table(data: bytes, file_format: str, kind: str) -> pl.DataFrame:
    """All columns as strings, headers normalised, fully blank rows dropped, `_row` added."""
    if file_format == "json":
        objs = _read_json(data)
        # An empty list is an empty report (e.g. no incidents), not one without columns.
        header = list(dict.fromkeys(k for o in objs for k in o)) or [c.name for c in COLUMNS[kind]]
        body = [["" if o.get(k) is None else str(o.get(k)) for k in header] for o in objs]
        return _frame(header, body, list(range(1, len(objs) + 1)))
    rows = _read_xlsx(data, kind)[0] if file_format == "xlsx" else _read_csv(data)
    if not rows:
        raise ParseError("File kosong: tidak ada baris judul kolom maupun data.")
    h = _find_header(rows, kind)
    body, numbers = [], []
    for i, row in enumerate(rows[h + 1 :], start=h + 2):
        if "".join(row).strip():  # some cell is not blank
            body.append(row)
            numbers.append(i)
    return _frame(rows[h], body, numbers)


_THOUSANDS = re.compile(r"^-?\d{1,3}(\.\d{3})+$")
_DECIMAL_COMMA = re.compile(r"^-?\d+,0+$")
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d")
_DATETIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S",
                     "%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M", "%d/%m/%Y %H.%M")
EXCEL_EPOCH = date(1899, 12, 30)


def parse_int(text: str) -> int:
    """Integers as desks write them: `1234`, `1.234` (dot thousands), `1234,0`, `1234.0`."""
    t = text.replace(" ", "").replace("\u00a0", "")
    if _THOUSANDS.match(t):
        t = t.replace(".", "")
    elif _DECIMAL_COMMA.match(t):
        t = t.split(",")[0]
    elif re.match(r"^-?\d+\.0+$", t):
        t = t.split(".")[0]
    value = int(t)
    if not -(2**63) <= value < 2**63:
        raise OverflowError(text)
    return value


def parse_date(text: str) -> date:
    t = text.strip()
    if re.fullmatch(r"\d{5}(\.0+)?", t):  # an Excel serial date that lost its format
        return EXCEL_EPOCH + timedelta(days=int(float(t)))
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(t[:10] if fmt == "%Y-%m-%d" else t, fmt).date()
        except ValueError:
            continue
    raise ValueError(t)


def parse_datetime(text: str) -> datetime:
    t = text.strip()
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(t, fmt)
        except ValueError:
            continue
    return datetime.combine(parse_date(t), datetime.min.time())


def _code(text: str) -> str:
    """Region codes as text: `6474.0` (a float cell) is 6474, `64.74` (dotted notation) too."""
    t = text.strip()
    if re.fullmatch(r"\d+\.0+", t):
        return t.split(".")[0]
    return t.replace(".", "") if re.fullmatch(r"[\d.]+", t) else t


_CASTERS = {
    "int": (parse_int, pl.Int64, "bukan bilangan bulat"),
    "date": (parse_date, pl.Date, "bukan tanggal (gunakan TTTT-BB-HH, mis. 2024-11-20)"),
    "datetime": (parse_datetime, pl.Datetime("us"),
                 "bukan waktu (gunakan TTTT-BB-HH JJ:MM, mis. 2024-11-20 14:30)"),
}

# The forms most cells take, read column-wise by polars. Each pattern is strict (ASCII digits,
# fixed widths, no spaces) so that a match means the value the parsers above give it; anything else
# (" 12", "1e3", "1234,0", "2024-1-2", a serial date) is left to the parsers, and so is a match
# polars still cannot read (2024-02-30, an integer beyond 64 bits), which the parsers report.
_INT_FAST = r"^-?[0-9]{1,18}$|^-?[0-9]{1,3}(\.[0-9]{3})+$"  # 18 digits always fit in 64 bits
_YMD = r"[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}"
# Times in range only: polars reads second 60 as the next minute where Python refuses the time.
_HM = "([01][0-9]|2[0-3]):[0-5][0-9]"
_S = ":[0-5][0-9]"
_TEMPORAL_FAST: dict[str, tuple[tuple[str, str], ...]] = {
    "date": ((rf"^{_YMD}$", "%Y-%m-%d"), (r"^[0-9]{2}/[0-9]{2}/[1-9][0-9]{3}$", "%d/%m/%Y")),
    "datetime": ((rf"^{_YMD} {_HM}$", "%Y-%m-%d %H:%M"),
                 (rf"^{_YMD} {_HM}{_S}$", "%Y-%m-%d %H:%M:%S"),
                 (rf"^{_YMD}T{_HM}$", "%Y-%m-%dT%H:%M"),
                 (rf"^{_YMD}T{_HM}{_S}$", "%Y-%m-%dT%H:%M:%S"),
                 (rf"^{_YMD}$", "%Y-%m-%d")),
}


def _fast_cast(col: Column) -> pl.Expr:
    """The text column cast where a strict form above allows it, null where a parser must look."""
    v = pl.col(col.name)
    if col.type == "str":
        return v
    if col.type == "code":
        return (pl.when(v.str.contains(r"^[0-9]+(\.0+)?$")).then(v.str.replace(r"\.0+$", ""))
                .when(v.str.contains(r"^[0-9.]+$")).then(v.str.replace_all(".", "", literal=True)))
    if col.type == "int":
        return pl.when(v.str.contains(_INT_FAST)).then(
            v.str.replace_all(".", "", literal=True).cast(pl.Int64, strict=False))
    dtype = _CASTERS[col.type][1]
    return pl.coalesce(
        pl.when(v.str.contains(pattern)).then(v.str.strptime(dtype, fmt, strict=False))
        for pattern, fmt in _TEMPORAL_FAST[col.type]
    )


@functools.cache
def _cast_plan(kind: str, given: tuple[bool | None, ...]) -> list[pl.Expr]:
    """The one `select` that types a frame of `kind` (each column's fast cast, then `_row`), built
    once per kind and shape rather than per file. `given` says per contract column whether the
    frame has it as text (True), as another dtype (False: all its values go to the parsers, as
    they always did; `read_table` never makes such a frame) or not at all (None: nulls)."""
    exprs = []
    for col, text in zip(COLUMNS[kind], given, strict=True):
        dtype = pl.String if col.type in ("str", "code") else _CASTERS[col.type][1]
        exprs.append((_fast_cast(col) if text else pl.lit(None, dtype)).alias(col.name))
    return [*exprs, pl.col(ROW)]


def _parse_cell(col: Column, text: str, row: int, issues: list[CellIssue]) -> object:
    """The parsers' reading of a cell the fast cast left; an unreadable one becomes an issue."""
    if col.type in ("str", "code"):
        return _code(text) if col.type == "code" else str(text)
    caster, _, problem = _CASTERS[col.type]
    try:
        return caster(text)
    except (ValueError, OverflowError):
        issues.append(CellIssue(row, col.name, text, f"nilai '{text[:40]}' {problem}"))
        return None


def missing_columns(frame: pl.DataFrame, kind: str) -> list[str]:
    return [c.name for c in COLUMNS[kind] if c.required and c.name not in frame.columns]


def type_columns(frame: pl.DataFrame, kind: str) -> tuple[pl.DataFrame, list[CellIssue]]:
    """Cast to the contract's types; optional columns that are absent become nulls.

    Column-wise in polars for the common forms, then cell by cell with the parsers for the rest,
    so the values and the issues (by column in contract order, then by row) are the parsers'."""
    schema = dict(zip(frame.columns, frame.dtypes, strict=True))
    given = tuple(None if c.name not in schema else schema[c.name] == pl.String
                  for c in COLUMNS[kind])
    cast = frame.select(_cast_plan(kind, given))
    issues: list[CellIssue] = []
    rows = cast[ROW].to_list()
    series = []
    for col in COLUMNS[kind]:
        typed = cast[col.name]
        # A fast cast is null where the text is, so more nulls mean cells left to the parsers.
        if col.name in schema and typed.null_count() > frame[col.name].null_count():
            values = typed.to_list()
            for i, text in enumerate(frame[col.name].to_list()):
                if text is not None and values[i] is None:
                    values[i] = _parse_cell(col, text, rows[i], issues)
            typed = pl.Series(col.name, values, typed.dtype)
        series.append(typed)
    return pl.DataFrame([*series, cast[ROW]]), issues
