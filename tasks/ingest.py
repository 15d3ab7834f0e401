"""The ingestion steps between pull and load: decide what is new, parse, validate, judge.

Each function is plain (testable without Prefect); `flows/ingest.py` wraps them as tasks.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import duckdb
import polars as pl

from tasks.config import WITA, Settings
from tasks.load import Verdict
from tasks.parse import ROW, ParseError, missing_columns, read_table, type_columns
from tasks.pull import ArchivedFile, InboxFile, archive, list_inbox
from tasks.validate import FILE, Finding, policy, validate_kind
from tasks.warehouse import sql
from tasks.weeks import deadline, week_start

# Rows validated in one GX run (whole files only; a larger file is validated on its own).
VALIDATION_CHUNK_ROWS = 250_000


def known_state(con: duckdb.DuckDBPyConnection) -> tuple[set[tuple], set[tuple], dict[tuple, int]]:
    """(path, size, mtime) already seen, (path, sha) already loaded, and the first file_id of
    each (sha, kab/kota, kind, week): the same bytes for another week are a new report (an empty
    incident list is byte-identical every week), for the same week a duplicate."""
    rows = con.execute(sql("load/known_files.sql")).fetchall()
    seen = {(p, s, m) for p, s, m, *_ in rows}
    loaded = {(p, h) for p, _, _, h, *_ in rows}
    first: dict[tuple, int] = {}
    for _, _, _, h, fid, *ident in rows:
        first.setdefault((h, *ident), fid)
    return seen, loaded, first


def _dup_key(a: ArchivedFile) -> tuple:
    i = a.identity
    return (a.sha256, i.kabkota_code, i.kind, i.week)


def pull_new(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[ArchivedFile]:
    """List the inbox and archive every file not yet loaded, unchanged files skipped unread."""
    seen, loaded, _ = known_state(con)
    fresh: list[InboxFile] = [
        f for f in list_inbox(settings.inbox) if (f.source_path, f.size, f.mtime) not in seen
    ]
    archived = [archive(f, settings.archive) for f in fresh]
    return [a for a in archived if (a.source.source_path, a.sha256) not in loaded]


def _received_at(a: ArchivedFile) -> datetime:
    return a.source.mtime or datetime.now(UTC)


def _reject(a: ArchivedFile, reason: str, rule: str = "file_tidak_terbaca") -> Verdict:
    return Verdict(a, _received_at(a), "rejected", reason,
                   findings=[Finding(0, None, None, rule, "reject", reason)])


def _parse(a: ArchivedFile, settings: Settings) -> pl.DataFrame | Verdict:
    """Typed rows of one file, or its rejection."""
    ident = a.identity
    if ident.problem:
        return _reject(a, ident.problem, "nama_file")
    if a.source.size > settings.max_file_bytes:
        return _reject(a, f"File terlalu besar ({a.source.size:,} byte); batas "
                          f"{settings.max_file_bytes:,} byte.", "batas_ukuran")
    try:
        table = read_table(a.archive_path.read_bytes(), ident.file_format, ident.kind)
    except ParseError as exc:
        return _reject(a, str(exc))
    if table.height > settings.max_rows:
        return _reject(a, f"File berisi {table.height:,} baris; batas {settings.max_rows:,}.",
                       "batas_baris")
    missing = missing_columns(table, ident.kind)
    if missing:
        return _reject(a, "Kolom wajib tidak ada: " + ", ".join(missing)
                          + ". Periksa baris judul kolom (lihat format laporan).", "kolom_wajib")
    if table.height == 0 and ident.kind in policy()["reject_if_empty"]:
        return _reject(a, "File tidak berisi baris data.", "file_kosong")
    return table


def _summarise(findings: list[Finding], limit: int = 3) -> str:
    counts = Counter(f.message.split(":")[0] if f.row is None else f.rule for f in findings)
    return ", ".join(f"{rule} ({n})" for rule, n in counts.most_common(limit))


def _chunks(frames: list[pl.DataFrame], budget: int) -> list[list[pl.DataFrame]]:
    """Whole files grouped into batches of about `budget` rows: one GX run per batch keeps the
    per-file overhead small, and the bound keeps GX's list of failing rows bounded in memory."""
    out: list[list[pl.DataFrame]] = []
    size = 0
    for f in frames:
        if out and size + f.height <= budget:
            out[-1].append(f)
            size += f.height
        else:
            out.append([f])
            size = f.height
    return out


def judge(con: duckdb.DuckDBPyConnection, archived: list[ArchivedFile],
          settings: Settings) -> list[Verdict]:
    """A verdict for every archived file: duplicates first, then parse, then validate per kind."""
    _, _, first_by_sha = known_state(con)
    verdicts: list[Verdict] = []
    batches: dict[str, list[tuple[int, pl.DataFrame]]] = {}
    pending: dict[int, tuple[ArchivedFile, pl.DataFrame, list[Finding]]] = {}
    seen_now: set[tuple] = set()
    for a in sorted(archived, key=lambda x: (_received_at(x), x.source.source_path)):
        key = _dup_key(a)
        if key in first_by_sha or key in seen_now:
            verdicts.append(Verdict(
                a, _received_at(a), "duplicate",
                "Isi file sama persis dengan kiriman sebelumnya untuk kab/kota, jenis, dan minggu "
                "yang sama; tidak dihitung dua kali.",
                duplicate_of=first_by_sha.get(key)))
            continue
        seen_now.add(key)
        parsed = _parse(a, settings)
        if isinstance(parsed, Verdict):
            verdicts.append(parsed)
            continue
        typed, cell_issues = type_columns(parsed, a.identity.kind)
        idx = len(pending) + 1
        cell_findings = [Finding(idx, c.row, c.column, "format_nilai", "flag", c.message)
                         for c in cell_issues]
        pending[idx] = (a, typed, cell_findings)
        batches.setdefault(a.identity.kind, []).append((idx, typed.with_columns(
            pl.lit(idx).alias(FILE),
            pl.lit(a.identity.kabkota_code).alias("_expected_kabkota"),
            pl.lit(a.identity.week).alias("_week"),
            pl.lit(week_start(a.identity.week)).alias("_week_start"),
        )))
    findings_by_file: dict[int, list[Finding]] = {k: list(v[2]) for k, v in pending.items()}
    unreadable = {(k, c.row, c.column) for k, (_, _, cells) in pending.items() for c in cells}
    for kind, frames in batches.items():
        for chunk in _chunks([f for _, f in frames], VALIDATION_CHUNK_ROWS):
            for f in validate_kind(con, kind, pl.concat(chunk, how="vertical_relaxed")):
                if f.rule == "wajib_diisi" and (f.file_id, f.row, f.column) in unreadable:
                    continue  # the cell was unreadable; the format finding already says so
                findings_by_file[f.file_id].append(f)
    for idx, (a, typed, _) in pending.items():
        verdicts.append(_verdict(a, typed, findings_by_file[idx], settings))
    return sorted(verdicts, key=lambda v: (v.received_at, v.archived.source.source_path))


def _verdict(a: ArchivedFile, typed: pl.DataFrame, findings: list[Finding],
             settings: Settings) -> Verdict:
    received = _received_at(a)
    due = deadline(a.identity.week, settings.deadline_weekday, settings.deadline_time)
    late = received > due
    flagged_rows = {f.row for f in findings if f.row is not None}
    rows = typed.with_columns(pl.col(ROW).is_in(sorted(flagged_rows)).alias("flagged"))
    rejects = [f for f in findings if f.severity == "reject"]
    v = Verdict(a, received, "accepted", is_late=late, rows=rows, findings=findings)
    share = len(flagged_rows) / typed.height if typed.height else 0.0
    if rejects:
        v.verdict = "rejected"
        v.reason = "Ditolak: " + rejects[0].message + (
            f" (dan {len(rejects) - 1} pelanggaran serupa)" if len(rejects) > 1 else "")
    elif share > policy()["reject_if_flagged_share_above"]:
        v.verdict = "rejected"
        v.reason = (f"Ditolak: sebagian besar baris tidak sah ({len(flagged_rows)} dari "
                    f"{typed.height}): {_summarise(findings)}.")
    elif findings:
        v.verdict = "accepted_with_flags"
        whole = [f for f in findings if f.row is None]
        parts = []
        if flagged_rows:
            parts.append(f"{len(flagged_rows)} baris ditandai dan tidak dihitung")
        if whole:
            parts.append(f"{len(whole)} catatan kelengkapan")
        v.reason = "Diterima dengan catatan: " + "; ".join(parts) + f" ({_summarise(findings)})."
    if late:
        note = (f"Terlambat: diterima {received.astimezone(WITA):%d-%m-%Y %H:%M} WITA, batas "
                f"{due:%d-%m-%Y %H:%M} WITA.")
        v.reason = f"{v.reason} {note}".strip()
    return v


def run_id_now() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def ingest_inbox(con: duckdb.DuckDBPyConnection, settings: Settings,
                 run_id: str | None = None) -> list[tuple[int, Verdict]]:
    """The whole ingestion on an open connection: pull → judge → load, one transaction a file."""
    from tasks.load import load_submission

    run_id = run_id or run_id_now()
    archived = pull_new(con, settings)
    return [(load_submission(con, v, run_id), v) for v in judge(con, archived, settings)]
