"""Parse: raw bytes of a CSV, XLSX or JSON submission into a frame of the contract's columns.

Two steps, kept apart so each can be tested on its own: `read_table` turns bytes into strings
with normalised headers (what a careful human would accept), and `type_columns` casts them to the
contract's types, reporting every cell it cannot read instead of guessing.
"""

from __future__ import annotations

import csv
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


def normalise_header(name: object) -> str:
    text = str(name or "").replace("\ufeff", "").strip().lower()
    text = re.sub(r"[\s\-/]+", "_", text)
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
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and re.fullmatch(r"sep=.", lines[0].strip()):  # Excel's delimiter hint line
        delimiter = lines[0].strip()[4]
        text = text.split("\n", 1)[1] if "\n" in text else ""
    else:
        first = lines[0] if lines else ""
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
    return best


def _frame(header: list[str], body: list[list[str]], numbers: list[int]) -> pl.DataFrame:
    names = [normalise_header(h) for h in header]
    data: dict[str, list[str | None]] = {}
    for j, name in enumerate(names):
        if not name or name in data:
            continue  # unnamed or repeated columns are not part of the contract
        data[name] = [(row[j].strip() or None) if j < len(row) else None for row in body]
    data[ROW] = numbers  # type: ignore[assignment]
    return pl.DataFrame(data, schema={**{k: pl.String for k in data if k != ROW}, ROW: pl.Int64})


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
        if any(cell.strip() for cell in row):
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


def _cast_column(col: Column, values: list[str | None], rows: list[int],
                 issues: list[CellIssue]) -> pl.Series:
    if col.type in ("str", "code"):
        fn = _code if col.type == "code" else str
        return pl.Series(col.name, [None if v is None else fn(v) for v in values], pl.String)
    caster, dtype, problem = _CASTERS[col.type]
    out = []
    for v, r in zip(values, rows, strict=True):
        if v is None:
            out.append(None)
            continue
        try:
            out.append(caster(v))
        except (ValueError, OverflowError):
            out.append(None)
            issues.append(CellIssue(r, col.name, v, f"nilai '{v[:40]}' {problem}"))
    return pl.Series(col.name, out, dtype)


def missing_columns(frame: pl.DataFrame, kind: str) -> list[str]:
    return [c.name for c in COLUMNS[kind] if c.required and c.name not in frame.columns]


def type_columns(frame: pl.DataFrame, kind: str) -> tuple[pl.DataFrame, list[CellIssue]]:
    """Cast to the contract's types; optional columns that are absent become nulls."""
    issues: list[CellIssue] = []
    rows = frame[ROW].to_list()
    series = [
        _cast_column(
            c, frame[c.name].to_list() if c.name in frame.columns else [None] * frame.height,
            rows, issues,
        )
        for c in COLUMNS[kind]
    ]
    return pl.DataFrame([*series, frame[ROW]]), issues
