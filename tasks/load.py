"""Load: one DuckDB transaction per submission (stage → supersede → insert → record).

Everything a file changes in the warehouse happens inside that transaction, so a crash at any
point leaves the warehouse as it was before the file and the next run simply picks it up again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import polars as pl

from tasks.contract import KINDS
from tasks.faults import fault_point
from tasks.pull import ArchivedFile
from tasks.validate import Finding
from tasks.warehouse import sql


@dataclass
class Verdict:
    """What ingestion concluded about one file, ready to be written."""

    archived: ArchivedFile
    received_at: datetime
    verdict: str  # accepted | accepted_with_flags | rejected | duplicate
    reason: str = ""
    is_late: bool = False
    rows: pl.DataFrame | None = None  # typed rows with `_row` and `flagged`
    findings: list[Finding] = field(default_factory=list)

    @property
    def rows_total(self) -> int:
        return 0 if self.rows is None else self.rows.height

    @property
    def rows_flagged(self) -> int:
        return 0 if self.rows is None else int(self.rows["flagged"].sum())


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
            "message": [text(f) for f in findings],
        },
        schema={"row_number": pl.Int32, "column": pl.String, "rule": pl.String,
                "severity": pl.String, "message": pl.String},
    )


def load_submission(con: duckdb.DuckDBPyConnection, v: Verdict, run_id: str) -> int:
    """Write one file's verdict, rows and findings atomically; returns its file_id."""
    a, ident = v.archived, v.archived.identity
    key = {"kabkota_code": ident.kabkota_code, "kind": ident.kind, "week": ident.week}
    con.execute("BEGIN TRANSACTION")
    try:
        (file_id,) = con.execute(sql("load/insert_file.sql"), {
            "source_path": a.source.source_path,
            "file_name": a.source.source_path.rsplit("/", 1)[-1],
            "sha256": a.sha256,
            "size_bytes": a.source.size,
            "source_mtime": a.source.mtime,
            "received_at": v.received_at,
            "archive_path": str(a.archive_path),
            "file_format": ident.file_format,
            **key,
        }).fetchone()
        version = superseded_by = duplicate_of = None
        if v.verdict == "duplicate":
            (duplicate_of,) = con.execute(sql("load/first_copy.sql"),
                                          {"sha256": a.sha256, **key}).fetchone()
        if v.verdict != "duplicate" and ident.kind and ident.week:
            (version,) = con.execute(sql("load/next_version.sql"), key).fetchone()
        if v.verdict in ("accepted", "accepted_with_flags"):
            current = con.execute(sql("load/current_version.sql"), key).fetchone()
            if current and current[1] > v.received_at:
                superseded_by = current[0]  # an older file arriving late does not take over
            elif current:
                con.execute(sql("load/supersede.sql"),
                            {"new_file_id": file_id, "old_file_id": current[0]})
        con.execute(sql("load/insert_submission.sql"), {
            "file_id": file_id, "verdict": v.verdict, "reason": v.reason, "version": version,
            "is_late": v.is_late, "rows_total": v.rows_total, "rows_flagged": v.rows_flagged,
            "duplicate_of": duplicate_of, "superseded_by": superseded_by, "run_id": run_id,
        })
        if v.rows is not None and v.verdict != "rejected" and v.rows.height:
            assert ident.kind in KINDS
            con.register("staged_rows", v.rows.to_arrow())
            con.execute(sql("load/insert_rows.sql").format(kind=ident.kind), {"file_id": file_id})
            con.unregister("staged_rows")
        if v.findings:
            con.register("staged_issues", _issue_frame(v.findings).to_arrow())
            con.execute(sql("load/insert_row_issues.sql"), {"file_id": file_id, "sha256": a.sha256})
            con.unregister("staged_issues")
        fault_point("load-before-commit")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return file_id
