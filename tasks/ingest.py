"""The ingestion steps between pull and load: decide what is new, parse, validate, judge.

Each function is plain (testable without Prefect); `flows/ingest.py` wraps them as tasks.
"""

from __future__ import annotations

import logging
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

log = logging.getLogger(__name__)

# Rules that detect personal data (a civil servant's name or NIP) and the column that holds it:
# the warehouse must never keep such a value (the raw archive keeps what was sent, as evidence).
PERSONAL_DATA: dict[str, dict[str, frozenset[str]]] = {
    "netralitas": {"ref_subjek": frozenset({"bukan_nip", "bukan_nama"})},
}

# Rows validated in one GX run (whole files only; a larger file is validated on its own).
VALIDATION_CHUNK_ROWS = 250_000


def known_state(con: duckdb.DuckDBPyConnection) -> tuple[set[tuple], set[tuple], set[tuple]]:
    """(path, size, mtime) already seen, (path, sha) already loaded, and the (sha, kab/kota,
    kind, week) of accepted files: the same bytes for another week are a new report (an empty
    incident list is byte-identical every week), for the same week a duplicate."""
    rows = con.execute(sql("load/known_files.sql")).fetchall()
    seen = {(p, s, m) for p, s, m, *_ in rows}
    loaded = {(p, h) for p, _, _, h, *_ in rows}
    accepted = {(h, kab, kind, week) for _, _, _, h, _, kab, kind, week, ok in rows if ok}
    return seen, loaded, accepted


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
    except Exception as exc:  # a parser bug must cost one file its verdict, not the whole run
        log.exception("unexpected parser failure on %s", a.source.source_path)
        return _reject(a, f"File tidak dapat dibaca ({type(exc).__name__}); tim data sudah "
                          "diberi tahu. Simpan ulang sebagai CSV UTF-8 lalu kirim kembali.")
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
    _, _, accepted = known_state(con)
    verdicts: list[Verdict] = []
    batches: dict[str, list[tuple[int, pl.DataFrame]]] = {}
    pending: dict[int, tuple[ArchivedFile, pl.DataFrame, list[Finding]]] = {}
    first_in_run: dict[tuple, int] = {}  # (sha, identity) -> pending index of the first copy
    copies: list[tuple[ArchivedFile, int]] = []
    for a in sorted(archived, key=lambda x: (_received_at(x), x.source.source_path)):
        key = _dup_key(a)
        if key in accepted:
            verdicts.append(_duplicate(a))
            continue
        if key in first_in_run:
            copies.append((a, first_in_run[key]))
            continue
        parsed = _parse(a, settings)
        if isinstance(parsed, Verdict):
            verdicts.append(parsed)
            continue
        idx = len(pending) + 1
        first_in_run[key] = idx
        typed, cell_issues = type_columns(parsed, a.identity.kind)
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
    judged = {idx: _verdict(a, typed, findings_by_file[idx], settings)
              for idx, (a, typed, _) in pending.items()}
    verdicts += judged.values()
    for a, idx in copies:  # a copy in the same run shares its first copy's fate
        first = judged[idx]
        verdicts.append(_duplicate(a) if first.verdict != "rejected" else _reject(
            a, f"{first.reason} (isi sama dengan {first.archived.source.source_path})",
            "sama_dengan_file_ditolak"))
    return sorted(verdicts, key=lambda v: (v.received_at, v.archived.source.source_path))


def _duplicate(a: ArchivedFile) -> Verdict:
    return Verdict(a, _received_at(a), "duplicate",
                   "Isi file sama persis dengan kiriman sebelumnya untuk kab/kota, jenis, dan "
                   "minggu yang sama; tidak dihitung dua kali.")


def _verdict(a: ArchivedFile, typed: pl.DataFrame, findings: list[Finding],
             settings: Settings) -> Verdict:
    received = _received_at(a)
    due = deadline(a.identity.week, settings.deadline_weekday, settings.deadline_time)
    late = received > due
    flagged_rows = {f.row for f in findings if f.row is not None}
    rows = typed.with_columns(pl.col(ROW).is_in(sorted(flagged_rows)).alias("flagged"))
    for column, rules in PERSONAL_DATA.get(a.identity.kind, {}).items():
        leaked = sorted({f.row for f in findings if f.rule in rules and f.row is not None})
        if leaked:  # a name or NIP is refused: the row is kept, the value is not stored
            rows = rows.with_columns(pl.when(pl.col(ROW).is_in(leaked)).then(None)
                                     .otherwise(pl.col(column)).alias(column))
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


def by_week(archived: list[ArchivedFile]) -> list[list[ArchivedFile]]:
    """Files grouped by reporting week, oldest first (unidentifiable files first of all).

    Each group is judged and loaded before the next, so a week's cross-week rules (quantities
    that must not fall, statuses that must not move back) see the week before it even when a
    backlog of several weeks arrives in one run.
    """
    groups: dict[str, list[ArchivedFile]] = {}
    for a in archived:
        groups.setdefault(a.identity.week or "", []).append(a)
    return [groups[w] for w in sorted(groups)]


def ingest_inbox(con: duckdb.DuckDBPyConnection, settings: Settings,
                 run_id: str | None = None) -> list[tuple[int, Verdict]]:
    """The whole ingestion on an open connection: pull → judge → load, one transaction a week."""
    from tasks.load import load_batch

    run_id = run_id or run_id_now()
    loaded: list[tuple[int, Verdict]] = []
    for group in by_week(pull_new(con, settings)):
        verdicts = judge(con, group, settings)
        loaded += zip(load_batch(con, verdicts, run_id), verdicts, strict=True)
    return loaded
