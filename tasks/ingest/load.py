"""Load: one DuckDB transaction per batch of judged files (plan → record → supersede → insert).

A batch is one reporting week's files of one run (`tasks.ingest.judge.by_week`). Everything it
changes in the warehouse happens inside that transaction, so a crash at any point leaves the
warehouse as it was before those files and the next run simply picks them up again. The versions,
the supersessions and the first copy of a duplicate are planned in Python from one query, file after
file in arrival order, and then written set-based: ten statements a batch instead of eight a file
(a national week's 2,570 files: 17 s → about 1 s; docs/decisions.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import polars as pl

from tasks.contract.finding import Finding
from tasks.contract.submission import KINDS
from tasks.faults import fault_point
from tasks.ingest.pull import ArchivedFile
from tasks.warehouse.database import sql

log = logging.getLogger(__name__)


@dataclass
class Verdict:
    """What ingestion concluded about one file, ready to be written."""

    archived: ArchivedFile
    received_at: datetime
    verdict: str  # accepted | accepted_with_flags | rejected | duplicate
    reason: str = ""
    is_late: bool = False
    rows: pl.DataFrame | None = None  # typed rows with `_row`, `flagged`, `excluded(_columns)`
    findings: list[Finding] = field(default_factory=list)

    @property
    def rows_total(self) -> int:
        return 0 if self.rows is None else self.rows.height

    @property
    def rows_flagged(self) -> int:
        return 0 if self.rows is None else int(self.rows["flagged"].sum())

    @property
    def rows_excluded(self) -> int:
        """Rows that count nowhere (a wrong identity); other flagged rows count their valid
        values."""
        if self.rows is None or "excluded" not in self.rows.columns:
            return 0
        return int(self.rows["excluded"].sum())


def _issue_frame(findings: list[Finding]) -> pl.DataFrame:
    def text(f: Finding) -> str:
        where = f"Baris {f.row}" if f.row is not None else "File"
        col = f", kolom {f.column}" if f.column else ""
        return f"{where}{col}: {f.message}"

    return pl.DataFrame(
        {
            "row_number": [f.row for f in findings],
            "column": [f.column for f in findings],
            "rule": [f.rule for f in findings],
            "severity": [f.severity for f in findings],
            "effect": [f.effect for f in findings],
            "message": [text(f) for f in findings],
        },
        schema={"row_number": pl.Int32, "column": pl.String, "rule": pl.String,
                "severity": pl.String, "effect": pl.String, "message": pl.String},
    )


_FILE_SCHEMA = {
    "file_id": pl.Int64, "source_path": pl.String, "file_name": pl.String, "sha256": pl.String,
    "size_bytes": pl.Int64, "source_mtime": pl.Datetime("us", "UTC"),
    "received_at": pl.Datetime("us", "UTC"), "archive_path": pl.String,
    "kabkota_code": pl.String, "kind": pl.String, "week": pl.String, "file_format": pl.String,
    "verdict": pl.String, "reason": pl.String, "version": pl.Int32, "is_late": pl.Boolean,
    "rows_total": pl.Int32, "rows_flagged": pl.Int32, "duplicate_of": pl.Int64,
    "superseded_by": pl.Int64, "run_id": pl.String, "source_bytes": pl.Binary,
    "source_fingerprint": pl.String, "workbook": pl.String, "sheet": pl.String,
    "workbook_sha256": pl.String,
}
COUNTED = ("accepted", "accepted_with_flags")


@dataclass
class _History:
    """What the warehouse (and the batch so far) knows of one kab/kota × kind × week."""

    versions: int = 0  # non-duplicate files
    current: tuple[int, datetime] | None = None  # (file_id, received_at) of the current version
    first_copy: dict[str, int] = field(default_factory=dict)  # sha256 -> first accepted file_id


def _histories(con: duckdb.DuckDBPyConnection, verdicts: list[Verdict]) -> dict[tuple, _History]:
    keys = {(i.kabkota_code, i.kind, i.week) for v in verdicts
            if (i := v.archived.identity).kind and i.week}
    con.register("batch_keys", pl.DataFrame(sorted(keys, key=str), orient="row", schema={
        "kabkota_code": pl.String, "kind": pl.String, "week": pl.String}))
    rows = con.execute(sql("load/key_history.sql")).fetchall()
    con.unregister("batch_keys")
    out = {k: _History() for k in keys}
    for kab, kind, week, file_id, sha, received, verdict, superseded_by in rows:
        h = out[(kab, kind, week)]
        if verdict != "duplicate":
            h.versions += 1
        if verdict in COUNTED:
            h.first_copy.setdefault(sha, file_id)
            if superseded_by is None:
                h.current = (file_id, received)
    return out


def _plan(con: duckdb.DuckDBPyConnection, verdicts: list[Verdict], file_ids: list[int],
          run_id: str) -> tuple[list[dict[str, Any]], list[tuple[int, int]]]:
    """One ledger row per file, and the (old, new) supersessions, decided in arrival order
    exactly as loading the files one by one would."""
    history = _histories(con, verdicts)
    files, supersede = [], []
    for v, file_id in zip(verdicts, file_ids, strict=True):
        a, ident = v.archived, v.archived.identity
        h = history.get((ident.kabkota_code, ident.kind, ident.week))
        version = duplicate_of = superseded_by = None
        if v.verdict == "duplicate" and h is not None:
            duplicate_of = h.first_copy.get(a.sha256)
        if v.verdict != "duplicate" and h is not None:
            h.versions += 1
            version = h.versions
        if v.verdict in COUNTED and h is not None:
            h.first_copy.setdefault(a.sha256, file_id)
            if h.current and h.current[1] > v.received_at:
                superseded_by = h.current[0]  # an older file arriving late does not take over
            else:
                if h.current:
                    supersede.append((h.current[0], file_id))
                h.current = (file_id, v.received_at)
        shown = a.shown_path
        files.append({
            "file_id": file_id, "source_path": shown,
            "file_name": shown.rsplit("/", 1)[-1], "sha256": a.sha256,
            "size_bytes": a.source.size, "source_mtime": a.source.mtime,
            "received_at": v.received_at,
            "archive_path": "" if a.archive_path is None else str(a.archive_path),
            "kabkota_code": ident.kabkota_code, "kind": ident.kind, "week": ident.week,
            "file_format": ident.file_format, "verdict": v.verdict, "reason": v.reason,
            "version": version, "is_late": v.is_late, "rows_total": v.rows_total,
            "rows_flagged": v.rows_flagged, "duplicate_of": duplicate_of,
            "superseded_by": superseded_by, "run_id": run_id,
            "source_bytes": a.source.raw_path, "source_fingerprint": a.source.fingerprint,
            "workbook": a.source.display_path if a.sheet else None, "sheet": a.sheet,
            "workbook_sha256": a.workbook_sha256,
        })
    return files, supersede


def _insert(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame,
            statement: str) -> None:
    con.register(name, frame.to_arrow())
    con.execute(statement)
    con.unregister(name)


# Errors that one file's data can cause while being written (a value the column cannot hold,
# text the driver cannot encode): the batch is then loaded file by file to find that file. Errors
# of the disk or the database itself (IOException, OSError) are the run's, and end it.
DATA_ERRORS: tuple[type[BaseException], ...] = (
    duckdb.ConversionException, duckdb.OutOfRangeException, duckdb.InvalidInputException,
    duckdb.ConstraintException, duckdb.TypeMismatchException, pl.exceptions.PolarsError,
    UnicodeError, ValueError, TypeError, OverflowError)


def load_batch(con: duckdb.DuckDBPyConnection, verdicts: list[Verdict], run_id: str) -> list[int]:
    """Write the verdicts, rows and findings of a batch atomically; returns the file_ids, in
    the order of `verdicts`.

    When one file's data cannot be written, the batch is rolled back and its files are loaded
    one at a time: the file that fails alone is recorded as rejected (without rows), the others
    as judged, so one file never costs the others their load."""
    if not verdicts:
        return []
    try:
        return _load(con, verdicts, run_id)
    except DATA_ERRORS as exc:
        if len(verdicts) == 1 and verdicts[0].verdict == "rejected" and verdicts[0].rows is None:
            raise
        log.warning("batch gagal disimpan (%s: %s); dimuat file demi file", type(exc).__name__,
                    exc)
    file_ids = []
    for v in verdicts:
        try:
            file_ids += _load(con, [v], run_id)
        except DATA_ERRORS as exc:
            log.error("file %s tidak dapat disimpan: %s: %s", v.archived.source.display_path,
                      type(exc).__name__, exc)
            reason = (f"File tidak dapat disimpan ke gudang data ({type(exc).__name__}); tim data "
                      "mendapat catatan di log run. Periksa isi file lalu kirim ulang.")
            file_ids += _load(con, [Verdict(
                v.archived, v.received_at, "rejected", reason, v.is_late,
                findings=[Finding(0, None, None, "gagal_disimpan", "reject", reason)])], run_id)
    return file_ids


def _load(con: duckdb.DuckDBPyConnection, verdicts: list[Verdict], run_id: str) -> list[int]:
    """Write the verdicts, rows and findings of a batch atomically; returns the file_ids, in
    the order of `verdicts`; one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        file_ids = [i for (i,) in con.execute(sql("load/file_ids.sql"),
                                              {"n": len(verdicts)}).fetchall()]
        files, supersede = _plan(con, verdicts, file_ids, run_id)
        staged = pl.DataFrame(files, schema=_FILE_SCHEMA)
        con.register("staged_files", staged.to_arrow())
        con.execute(sql("load/insert_file.sql"))
        con.execute(sql("load/insert_submission.sql"))
        con.unregister("staged_files")
        if supersede:
            _insert(con, "staged_supersede", pl.DataFrame(
                supersede, schema={"old_file_id": pl.Int64, "new_file_id": pl.Int64},
                orient="row"), sql("load/supersede.sql"))
        by_kind: dict[str, list[pl.DataFrame]] = {}
        issues = []
        for v, file_id in zip(verdicts, file_ids, strict=True):
            kind = v.archived.identity.kind
            if v.rows is not None and v.verdict != "rejected" and v.rows.height:
                assert kind in KINDS
                by_kind.setdefault(kind, []).append(
                    v.rows.with_columns(pl.lit(file_id, pl.Int64).alias("file_id")))
            if v.findings:
                issues.append(_issue_frame(v.findings).with_columns(
                    file_id=pl.lit(file_id, pl.Int64), sha256=pl.lit(v.archived.sha256)))
        for kind, frames in by_kind.items():
            _insert(con, "staged_rows", pl.concat(frames, how="vertical_relaxed"),
                    sql("load/insert_rows.sql").format(kind=kind))
        if issues:
            _insert(con, "staged_issues", pl.concat(issues), sql("load/insert_row_issues.sql"))
        fault_point("load-before-commit")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return file_ids
