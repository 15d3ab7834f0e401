"""Parse: raw bytes of a CSV, XLSX or JSON submission into a frame of the contract's columns.

Two steps, kept apart so each can be tested on its own: `read_table` turns bytes into strings
with normalised headers (what a careful human would accept), and `type_columns` casts them to the
contract's types, reporting every cell it cannot read instead of guessing.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Collection, Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import chain, islice
from typing import Any

import polars as pl

from tasks.contract.submission import ALIASES, COLUMNS, Column

ROW = "_row"  # the row number as the desk sees it (spreadsheet row; JSON: object number)
HEADER_SCAN_ROWS = 30
MAX_XLSX_UNCOMPRESSED = 200 * 1024 * 1024
MAX_XLSX_RATIO = 200


class ParseError(Exception):
    """A file that cannot be read at all; the message (Indonesian) goes back to the desk, under
    the ledger rule `rule`."""

    rule = "file_tidak_terbaca"


class RowLimitExceeded(ParseError):
    """More data rows than allowed: raised while reading, so a file of ten million one-character
    lines costs what its first `max_rows` rows cost, not a list of all of them."""

    rule = "batas_baris"

    def __init__(self, max_rows: int) -> None:
        super().__init__(f"File berisi lebih dari {max_rows:,} baris; batas {max_rows:,}.")
        self.max_rows = max_rows


@dataclass(frozen=True)
class CellIssue:
    row: int
    column: str
    value: str
    message: str


_SEPARATORS = re.compile(r"[\s\-/]+")


@functools.lru_cache(maxsize=4096)
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


def _first_line(text: str) -> str:
    """The first non-blank line, found lazily: `splitlines()` would copy every line of a file
    of ten million short lines just to look at one."""
    return next((line for line in io.StringIO(text, newline="") if line.strip()), "")


def _read_csv(data: bytes) -> Iterator[list[str]]:
    """CSV records, one at a time (the caller stops reading at the row limit)."""
    text = _decode(data)
    first = _first_line(text).strip()
    if re.fullmatch(r"sep=.", first):  # Excel's delimiter hint line
        delimiter = first[4]
        text = text.split("\n", 1)[1] if "\n" in text else ""
    else:
        delimiter = max((",", ";", "\t"), key=first.count)
    try:
        yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    except csv.Error as exc:
        raise ParseError(f"CSV tidak dapat dibaca: {exc}. Periksa tanda kutip dan panjang isian "
                         f"(paling banyak {csv.field_size_limit():,} karakter per sel).") from exc


_XLSX_TOO_BIG = ("Isi file XLSX terlalu besar setelah diekstrak ({size}); kirim hanya lembar "
                 "laporan tanpa data tambahan.")
_XLSX_BAD = "File XLSX rusak atau bukan file Excel yang sah."
_CHUNK = 1 << 20


def _expanded_size(data: bytes, info: zipfile.ZipInfo, budget: int) -> int:
    """What one member really expands to, by inflating its raw stream in bounded chunks and
    counting (stopping once past `budget`): the sizes in the zip headers are the sender's claim,
    which a crafted file understates to pass a header check, while calamine inflates the stream
    to its end regardless."""
    if info.flag_bits & 0x1:
        raise ParseError("File XLSX terkunci dengan kata sandi; simpan ulang tanpa kata sandi.")
    if data[info.header_offset : info.header_offset + 4] != b"PK\x03\x04":
        raise ParseError(_XLSX_BAD)
    name_len, extra_len = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    raw = memoryview(data)[start : start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        size = len(raw)
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflate, size = zlib.decompressobj(-zlib.MAX_WBITS), 0
        for pos in range(0, len(raw), _CHUNK):
            pending = raw[pos : pos + _CHUNK]
            while pending and not inflate.eof and size <= budget:
                size += len(inflate.decompress(pending, _CHUNK))
                pending = inflate.unconsumed_tail
            if inflate.eof or size > budget:
                break
    else:
        raise ParseError("File XLSX memakai kompresi yang tidak dikenal; simpan ulang di Excel.")
    if size <= budget and size != info.file_size:  # the headers lie: not a workbook to trust
        raise ParseError(_XLSX_BAD)
    return size


def _check_zip(data: bytes) -> None:
    """Refuse an XLSX that expands past the size or ratio caps. The declared sizes are checked
    first (cheap, no inflating); then every member is inflated, streamed and counted against the
    cap, so a workbook whose headers lie about its sheet is refused before calamine opens it."""
    cap = min(MAX_XLSX_UNCOMPRESSED, MAX_XLSX_RATIO * max(len(data), 1))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise ParseError(_XLSX_BAD) from exc
    declared = sum(i.file_size for i in infos)
    if declared > cap:
        raise ParseError(_XLSX_TOO_BIG.format(size=f"{declared:,} byte"))
    total = 0
    try:
        for info in infos:
            total += _expanded_size(data, info, cap - total)
            if total > cap:
                raise ParseError(_XLSX_TOO_BIG.format(size=f"lebih dari {cap:,} byte"))
    except (zlib.error, struct.error) as exc:
        raise ParseError(_XLSX_BAD) from exc


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


def _sheet_as_seen(reader: Any, kind: str) -> int:
    """The sheet the desk sees as its report: the visible one named for the kind, else the first
    visible sheet. A hidden sheet (a template's lists, an old copy tucked away) is never read in
    place of what is on screen."""
    names = reader.sheet_names
    visible = [i for i in range(len(names))
               if reader.load_sheet(i, header_row=None, n_rows=0).visible == "visible"]
    if not visible:
        raise ParseError("Semua lembar (sheet) di file XLSX tersembunyi; tampilkan lembar "
                         "laporan lalu kirim ulang.")
    named = [i for i in visible if names[i].strip().lower() == kind]
    return named[0] if named else visible[0]


def _read_xlsx(data: bytes, kind: str, max_rows: int | None) -> Iterator[list[str]]:
    """The sheet's rows as text. With a row limit, calamine converts at most that many rows
    (plus the title rows the header may sit under); a sheet with more is over the limit."""
    import fastexcel

    _check_zip(data)
    n_rows = None if max_rows is None else max_rows + HEADER_SCAN_ROWS + 1
    try:
        reader = fastexcel.read_excel(data)
        index = _sheet_as_seen(reader, kind)
        sheet = reader.load_sheet(index, header_row=None, skip_rows=[], n_rows=n_rows)
        table = sheet.to_polars()
    except ParseError:
        raise
    except Exception as exc:  # calamine raises its own error types for corrupt workbooks
        raise ParseError(f"File XLSX tidak dapat dibaca: {exc}") from exc
    for row in table.iter_rows():
        yield [_xlsx_cell(v) for v in row]
    if max_rows is not None and sheet.total_height > table.height:
        raise RowLimitExceeded(max_rows)


def workbook_sheets(data: bytes, kinds: Collection[str],
                    max_rows: int | None = None) -> dict[str, tuple[str, bool]]:
    """A workbook's visible sheets named for a kind: kind -> (sha256 of its filled cells, whether
    no cell is filled). The digest is of what the desk wrote, not of the workbook's bytes, so a
    sheet left as it was is recognised as the same report when the workbook is saved again with
    another sheet corrected. Hidden sheets are never a report (as in `_sheet_as_seen`)."""
    import fastexcel

    _check_zip(data)
    n_rows = None if max_rows is None else max_rows + HEADER_SCAN_ROWS + 1
    out: dict[str, tuple[str, bool]] = {}
    try:
        reader = fastexcel.read_excel(data)
        for i, name in enumerate(reader.sheet_names):
            kind = name.strip().lower()
            if kind not in kinds or kind in out:
                continue
            sheet = reader.load_sheet(i, header_row=None, skip_rows=[], n_rows=n_rows)
            if sheet.visible != "visible":
                continue
            digest, blank = hashlib.sha256(kind.encode()), True
            for row in sheet.to_polars().iter_rows():
                cells = [_xlsx_cell(v).strip() for v in row]
                if any(cells):
                    blank = False
                    digest.update(json.dumps(cells, ensure_ascii=False).encode())
            out[kind] = (digest.hexdigest(), blank)
    except ParseError:
        raise
    except Exception as exc:  # calamine raises its own error types for corrupt workbooks
        raise ParseError(f"File XLSX tidak dapat dibaca: {exc}") from exc
    return out


def empty_table(kind: str) -> pl.DataFrame:
    """A kind's table with its header and no row: a workbook sheet left blank."""
    return _frame([c.name for c in COLUMNS[kind]], [], [])


_JSON_BAD_SHAPE = "JSON harus berupa array objek, satu objek per baris laporan."
_JSON_WS = re.compile(r"[ \t\n\r]*")


def _ws(text: str, pos: int) -> int:
    return _JSON_WS.match(text, pos).end()


def _json_array(text: str, pos: int, decoder: json.JSONDecoder) -> Generator[object, None, int]:
    """The elements of the array at `text[pos] == '['`, decoded one at a time so the reader can
    stop at the row limit instead of first building a million objects; returns the position
    after the closing bracket."""
    pos = _ws(text, pos + 1)
    if text.startswith("]", pos):
        return pos + 1
    while True:
        item, pos = decoder.raw_decode(text, pos)
        yield item
        pos = _ws(text, pos)
        if text.startswith("]", pos):
            return pos + 1
        if not text.startswith(",", pos):
            raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
        pos = _ws(text, pos + 1)


def _json_rows(text: str) -> Iterator[object]:
    """The rows of `[...]` or of `{"data": [...], ...}`, streamed; what `json.loads` would call
    invalid raises `JSONDecodeError`, any other shape `ParseError`."""
    decoder = json.JSONDecoder()
    pos = _ws(text, 0)
    if text.startswith("[", pos):
        end = yield from _json_array(text, pos, decoder)
    elif text.startswith("{", pos):
        found, pos = False, _ws(text, pos + 1)
        end = pos + 1 if text.startswith("}", pos) else None
        while end is None:
            if not text.startswith('"', pos):
                raise json.JSONDecodeError("Expecting property name enclosed in double quotes",
                                           text, pos)
            key, pos = decoder.raw_decode(text, pos)
            pos = _ws(text, pos)
            if not text.startswith(":", pos):
                raise json.JSONDecodeError("Expecting ':' delimiter", text, pos)
            pos = _ws(text, pos + 1)
            if key == "data" and not found and text.startswith("[", pos):
                found = True
                pos = yield from _json_array(text, pos, decoder)
            else:
                pos = decoder.raw_decode(text, pos)[1]
            pos = _ws(text, pos)
            if text.startswith("}", pos):
                end = pos + 1
            elif text.startswith(",", pos):
                pos = _ws(text, pos + 1)
            else:
                raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
        if not found:
            raise ParseError(_JSON_BAD_SHAPE)
    else:
        end = decoder.raw_decode(text, pos)[1]  # a scalar: valid JSON perhaps, never a report
        if _ws(text, end) == len(text):
            raise ParseError(_JSON_BAD_SHAPE)
    if _ws(text, end) != len(text):
        raise json.JSONDecodeError("Extra data", text, _ws(text, end))


def _read_json(data: bytes, kind: str, max_rows: int | None) -> tuple[list[str], list[list[str]]]:
    """Header and text cells of a JSON report. Only keys naming a contract column become columns
    (the others would be dropped anyway; a million distinct keys must not make a million-wide
    table), and a cell that is not a string is its JSON text: `12`, `12.0`, `true`, `{...}`."""
    wanted = {c.name for c in COLUMNS[kind]}
    objs: list[dict] = []
    try:
        for obj in _json_rows(_decode(data)):
            if not isinstance(obj, dict):
                raise ParseError(_JSON_BAD_SHAPE)
            if max_rows is not None and len(objs) == max_rows:
                raise RowLimitExceeded(max_rows)
            objs.append(obj)
    except json.JSONDecodeError as exc:
        raise ParseError(f"JSON tidak sah di baris {exc.lineno} kolom {exc.colno}.") from exc
    except RecursionError as exc:
        raise ParseError("JSON terlalu dalam bersarang; kirim array objek yang datar.") from exc
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise ParseError(f"JSON tidak dapat dibaca: {str(exc)[:120]}") from exc
    header: dict[str, str] = {}  # normalised contract name -> the first key spelling it
    for o in objs:
        for k in o:
            name = normalise_header(k)
            if name in wanted and name not in header:
                header[name] = k
    keys = list(header.values()) if objs else [c.name for c in COLUMNS[kind]]  # empty report
    body = [[_json_cell(o.get(k)) for k in keys] for o in objs]
    return keys, body


def _json_cell(value: object) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _find_header(rows: list[list[str]], kind: str) -> int:
    """The first row that names the most contract columns: title rows above it are skipped."""
    wanted = {c.name for c in COLUMNS[kind]}
    best, best_hits = 0, 0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        hits = len(wanted & {normalise_header(v) for v in set(row)})
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
    # Cells past the header are unnamed, hence dropped: cut them before the transpose, which
    # would otherwise build one tuple per cell of a single absurdly wide row.
    padded = [row[:width] if len(row) >= width else [*row, *[""] * (width - len(row))]
              for row in body]
    columns = list(zip(*padded, strict=False)) or [()] * width
    data: dict[str, list] = {name: [v.strip() or None for v in columns[j]]
                             for name, j in first.items()}
    data[ROW] = numbers
    return pl.DataFrame(data, schema={**dict.fromkeys(first, pl.String), ROW: pl.Int64})


def _table(rows: Iterable[list[str]], kind: str, max_rows: int | None) -> pl.DataFrame:
    """Header found among the first rows, then the non-blank rows below it, numbered as the desk
    sees them. Reading stops at the first row over `max_rows`, and blank rows are counted but not
    kept, so ten million lines cost a counter, not ten million lists."""
    it = iter(rows)
    head = list(islice(it, HEADER_SCAN_ROWS))
    if not head:
        raise ParseError("File kosong: tidak ada baris judul kolom maupun data.")
    h = _find_header(head, kind)
    body, numbers = [], []
    for i, row in enumerate(chain(head[h + 1 :], it), start=h + 2):
        if "".join(row).strip():  # some cell is not blank
            if max_rows is not None and len(body) == max_rows:
                raise RowLimitExceeded(max_rows)
            body.append(row)
            numbers.append(i)
    return _frame(head[h], body, numbers)


def read_table(data: bytes, file_format: str, kind: str,
               max_rows: int | None = None) -> pl.DataFrame:
    """All columns as strings, headers normalised, fully blank rows dropped, `_row` added.

    With `max_rows`, a file with more data rows raises `RowLimitExceeded` as soon as reading
    reaches row `max_rows + 1`, whatever the format: the limit bounds the cost of reading, not
    just what is kept."""
    if file_format == "json":
        header, body = _read_json(data, kind, max_rows)
        return _frame(header, body, list(range(1, len(body) + 1)))
    rows = _read_xlsx(data, kind, max_rows) if file_format == "xlsx" else _read_csv(data)
    return _table(rows, kind, max_rows)


# The forms a cell may take (docs/submission-format.md, "Bentuk isian"); anything else is a
# cell issue with its row and column, never a guess. ASCII digits only: Python's int() and \d
# would also take Arabic-Indic or full-width digits and `1_000`.
_INT_FORMS = re.compile(
    r"-?(?P<plain>[0-9]+)"                           # 1234, 007, -5
    r"|-?(?P<dots>[0-9]{1,3}(?:\.[0-9]{3})+)"       # 1.234, 1.234.567 (dot thousands)
    r"|-?(?P<spaces>[0-9]{1,3}(?:[ \u00a0][0-9]{3})+)"  # 1 234 (space thousands)
    r"|-?(?P<zero>[0-9]+)[.,]0+"                     # 1234,0 / 1234.0 (an integer as decimal)
)
_D, _M, _Y = r"(?P<d>[0-9]{1,2})", r"(?P<m>[0-9]{1,2})", r"(?P<y>[0-9]{4})"
_CLOCK = r"(?P<H>[0-9]{1,2})[:.](?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:\.(?P<f>[0-9]{1,6}))?)?"
_DATE_FORMS = tuple(re.compile(p) for p in (
    rf"{_Y}-{_M}-{_D}(?:[ T][0-9]{{1,2}}[:.][0-9]{{2}}(?::[0-9]{{2}}(?:\.[0-9]{{1,6}})?)?)?",
    rf"{_Y}/{_M}/{_D}",
    rf"{_D}/{_M}/{_Y}",
    rf"{_D}-{_M}-{_Y}",
    rf"{_D}\.{_M}\.{_Y}",
))
_DATETIME_FORMS = tuple(re.compile(p) for p in (
    rf"{_Y}-{_M}-{_D}[ T]{_CLOCK}",
    rf"{_D}/{_M}/{_Y} {_CLOCK}",
    rf"{_D}-{_M}-{_Y} {_CLOCK}",
))
_EXCEL_SERIAL = re.compile(r"[0-9]{5}(?:\.0+)?")
EXCEL_EPOCH = date(1899, 12, 30)


def parse_int(text: str) -> int:
    """Integers as desks write them: `1234`, `1.234` or `1 234` (thousands), `1234,0` or
    `1234.0` (an integer cell formatted with decimals); `-5` is read (and later flagged as
    negative). `12.5`, `1e3`, `+5`, `1,234`, `١٢` and `true` are not integers."""
    m = _INT_FORMS.fullmatch(text.strip())
    if not m:
        raise ValueError(text)
    digits = m["plain"] or m["zero"] or re.sub(r"[^0-9]", "", m["dots"] or m["spaces"])
    value = -int(digits) if text.strip().startswith("-") else int(digits)
    if not -(2**63) <= value < 2**63:
        raise OverflowError(text)
    return value


def parse_date(text: str) -> date:
    """`2024-11-20` (a time after it, as a datetime cell gives, is ignored), `2024/11/20`,
    `20/11/2024`, `20-11-2024`, `20.11.2024` (day and month may be one digit), or an Excel
    serial (`45616`, a date cell that lost its format). An impossible date is an error."""
    t = text.strip()
    if _EXCEL_SERIAL.fullmatch(t):
        return EXCEL_EPOCH + timedelta(days=int(t.split(".")[0]))
    for form in _DATE_FORMS:
        if m := form.fullmatch(t):
            return date(int(m["y"]), int(m["m"]), int(m["d"]))
    raise ValueError(t)


def parse_datetime(text: str) -> datetime:
    """`2024-11-20 14:30` (or `T`, seconds, fractions), `20/11/2024 14:30`, `20/11/2024 14.30`,
    `20-11-2024 14:30`; a date alone is midnight. A time outside the clock (`24:00`, second 60)
    leaves the date, as before (tests/test_parse.py pins the leap second)."""
    t = text.strip()
    for form in _DATETIME_FORMS:
        if m := form.fullmatch(t):
            try:
                return datetime(int(m["y"]), int(m["m"]), int(m["d"]), int(m["H"]), int(m["M"]),
                                int(m["S"] or 0), int((m["f"] or "0").ljust(6, "0")))
            except ValueError:
                break
    return datetime.combine(parse_date(t), datetime.min.time())


def _code(text: str) -> str:
    """Region codes as text: `6474.0` (a float cell) is 6474, `64.74` (dotted notation) too."""
    t = text.strip()
    if re.fullmatch(r"[0-9]+\.0+", t):
        return t.split(".")[0]
    return t.replace(".", "") if re.fullmatch(r"[0-9.]+", t) else t


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
