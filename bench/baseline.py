"""Plain DuckDB doing the same week's ingest: the floor the pipeline is measured against.

    python bench/baseline.py --inbox DIR --db WAREHOUSE.duckdb

Reads every file of the inbox with DuckDB's own readers: one `read_csv` and one `read_json` call
over the list of files of a kind, the columns given from the contract so that no file is sniffed
(the fair floor: issue 20); XLSX through fastexcel, as DuckDB's excel extension would need a
download. Casts with TRY_CAST, runs the equivalent checks in SQL (`bench/baseline.sql`, plus the
generic ones generated here from the contract: required values, types, enumerations,
non-negative numbers, completeness), and loads rows with a flag into plain tables, in one
transaction. It uses the `ref` tables of an already prepared warehouse. What it skips, and the
pipeline does not: header aliases and title rows, cp1252/UTF-16 decoding, dot-thousands numbers,
versions and supersession, per-file transactions, messages in Indonesian, feedback files, the
archive by sha256. Lines plain DuckDB cannot read (the Kaltim sample's Windows-1252 file) are
skipped (`ignore_errors`), where the pipeline reads them. Prints one JSON line of figures.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import duckdb
import polars as pl

from tasks.contract.submission import COLUMNS, ENUM_COLUMNS, ENUMS, KINDS
from tasks.weeks import week_start

_TYPES = {"int": "BIGINT", "date": "DATE", "datetime": "TIMESTAMP"}
_NAME = re.compile(
    r"(?P<kab>\d{4}|\d{2})_(?P<kind>[a-z]+(?:_[a-z]+)*)_(?P<week>\d{4}-W\d{2})"
    r"\.(?P<ext>csv|json|xlsx)$")


def _raw(con: duckdb.DuckDBPyConnection, kind: str, files: dict[str, list[str]]) -> None:
    """raw_<kind>: every cell as text, with the file it came from and its row number."""
    cols = [c.name for c in COLUMNS[kind]]
    spec = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in cols) + "}"
    con.execute(f"CREATE TABLE raw_{kind} ({', '.join(f'{c} VARCHAR' for c in cols)}, "
                "file VARCHAR, row_id BIGINT)")
    if files["csv"]:
        con.execute(f"INSERT INTO raw_{kind} BY NAME SELECT *, row_number() OVER () AS row_id "
                    f"FROM read_csv($f, columns = {spec}, auto_detect = false, "
                    "header = true, delim = ',', quote = '\"', escape = '\"', "
                    "filename = 'file', ignore_errors = true)",
                    {"f": files["csv"]})
    if files["json"]:
        con.execute(f"INSERT INTO raw_{kind} BY NAME SELECT *, row_number() OVER () + 1e9 "
                    f"AS row_id FROM read_json($f, format = 'array', columns = {spec}, "
                    "filename = 'file')", {"f": files["json"]})
    if files["xlsx"]:
        import fastexcel

        frames = []
        for path in files["xlsx"]:
            sheet = fastexcel.read_excel(path).load_sheet(0, dtypes="string").to_polars()
            frames.append(sheet.with_columns(file=pl.lit(path)))
        xl = pl.concat(frames, how="diagonal_relaxed").with_row_index("row_id", offset=2 * 10**9)
        con.register("xl", xl)
        con.execute(f"INSERT INTO raw_{kind} BY NAME SELECT * FROM xl")
        con.unregister("xl")


def _typed_and_generic_checks(con: duckdb.DuckDBPyConnection, kind: str) -> None:
    """t_<kind> with TRY_CAST types, and findings for missing values, unreadable values,
    values outside an enumeration and negative numbers."""
    casts = ", ".join(
        f"TRY_CAST(r.{c.name} AS {_TYPES[c.type]}) AS {c.name}" if c.type in _TYPES
        else f"r.{c.name}" for c in COLUMNS[kind])
    con.execute(f"CREATE TABLE t_{kind} AS SELECT {casts}, r.file, r.row_id, f.kab, "
                f"f.week_start FROM raw_{kind} r JOIN files f USING (file)")
    checks = []
    for c in COLUMNS[kind]:
        if not c.nullable:
            checks.append(f"SELECT file, row_id, 'wajib_diisi', 'flag' FROM raw_{kind} "
                          f"WHERE {c.name} IS NULL")
        if c.type in _TYPES:
            checks.append(f"SELECT file, row_id, 'format_nilai', 'flag' FROM raw_{kind} "
                          f"WHERE {c.name} IS NOT NULL AND TRY_CAST({c.name} AS "
                          f"{_TYPES[c.type]}) IS NULL")
        if c.type == "int":
            checks.append(f"SELECT file, row_id, 'tidak_negatif', 'flag' FROM t_{kind} "
                          f"WHERE {c.name} < 0")
    for column, enum in ENUM_COLUMNS[kind].items():
        values = ", ".join(f"'{v}'" for v in ENUMS[enum])
        checks.append(f"SELECT file, row_id, 'pilihan_{column}', 'flag' FROM t_{kind} "
                      f"WHERE {column} IS NOT NULL AND {column} NOT IN ({values})")
    con.execute("INSERT INTO finding " + " UNION ALL ".join(checks))


def _load(con: duckdb.DuckDBPyConnection) -> None:
    """Rows of files without a reject finding into core_<kind>, each with its flag, and one
    verdict per file."""
    con.execute("CREATE TABLE rejected AS SELECT DISTINCT file FROM finding "
                "WHERE severity = 'reject'")
    for kind in KINDS:
        con.execute(f"INSERT INTO core_{kind} SELECT t.*, f.row_id IS NOT NULL AS flagged "
                    f"FROM t_{kind} t LEFT JOIN (SELECT DISTINCT file, row_id FROM finding) f "
                    "USING (file, row_id) WHERE t.file NOT IN (SELECT file FROM rejected)")
    con.execute("""
        CREATE TABLE submission AS
        SELECT f.file, f.kab, f.kind, f.week_start,
               CASE WHEN f.file IN (SELECT file FROM rejected) THEN 'rejected'
                    WHEN f.file IN (SELECT file FROM finding) THEN 'accepted_with_flags'
                    ELSE 'accepted' END AS status
        FROM files f""")


def ingest(con: duckdb.DuckDBPyConnection, inbox: Path) -> dict[str, object]:
    paths = sorted(str(p) for p in inbox.glob("*/*") if _NAME.search(p.name))
    files = pl.DataFrame([{**_NAME.search(p).groupdict(), "file": p} for p in paths]).with_columns(
        week_start=pl.col("week").map_elements(week_start, return_dtype=pl.Date))
    con.execute("BEGIN TRANSACTION")
    con.register("files_frame", files)
    con.execute("CREATE TABLE files AS SELECT * FROM files_frame")
    con.execute("CREATE TABLE finding (file VARCHAR, row_id BIGINT, rule VARCHAR, "
                "severity VARCHAR)")
    for kind in KINDS:
        by_ext = {ext: files.filter((pl.col("kind") == kind) & (pl.col("ext") == ext))["file"]
                  .to_list() for ext in ("csv", "json", "xlsx")}
        _raw(con, kind, by_ext)
        _typed_and_generic_checks(con, kind)
        con.execute(f"CREATE TABLE core_{kind} AS SELECT *, false AS flagged FROM t_{kind} "
                    "LIMIT 0")
    con.execute((Path(__file__).parent / "baseline.sql").read_text(encoding="utf-8"))
    _load(con)
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    rows = sum(con.execute(f"SELECT count(*) FROM t_{k}").fetchone()[0] for k in KINDS)
    status = dict(con.execute("SELECT status, count(*) FROM submission GROUP BY 1").fetchall())
    return {"files": len(paths), "rows": rows, "status": status}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--inbox", type=Path, required=True)
    ap.add_argument("--db", type=Path, required=True)
    args = ap.parse_args()
    t = time.perf_counter()
    with duckdb.connect(str(args.db)) as con:
        figures = ingest(con, args.inbox)
    print(json.dumps({**figures, "seconds": round(time.perf_counter() - t, 3)}))


if __name__ == "__main__":
    main()
