"""The ingestion steps between pull and load: decide what is new, parse, validate, judge.

Each function is plain (testable without Prefect); `flows/ingest.py` wraps them as tasks.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from tasks.config import WITA, Settings
from tasks.contract.personal import scrub, unechoed, withhold
from tasks.contract.submission import IDENTITY
from tasks.ingest.load import DATA_ERRORS, Verdict
from tasks.ingest.parse import (
    ROW,
    ParseError,
    empty_table,
    missing_columns,
    read_table,
    type_columns,
)
from tasks.ingest.pull import (
    ArchivedFile,
    InboxFile,
    Skipped,
    SourceUnreadable,
    archive,
    list_inbox,
)
from tasks.ingest.validate import (
    FILE,
    Finding,
    checks_connection,
    completeness,
    exclusions,
    policy,
    validate_kind,
    validation_inputs,
)
from tasks.ingest.workbook import expand_all
from tasks.warehouse.database import sql
from tasks.weeks import deadline, parse_week, week_start

if TYPE_CHECKING:  # pyarrow costs ~0.5 s to import; an idle command needs none of it
    import pyarrow as pa

log = logging.getLogger(__name__)


# What one file's content can make a step raise (a value a rule's SQL cannot compute, a shape a
# suite cannot run on): that file is rejected and the others go on. Anything else (the database,
# the disk, a bug that every file would hit) is the run's failure and ends it, so a systematic
# fault is never disguised as every desk's bad file.
FILE_ERRORS: tuple[type[BaseException], ...] = (*DATA_ERRORS, RuntimeError, KeyError, IndexError)

# A finding that tells the desk something was changed (a name or NIP redacted from free text)
# without making the row's values wrong: the row still counts (`docs/submission-format.md`).
NOTE = "catatan"

# Rows validated in one GX run (whole files only; a larger file is validated on its own).
VALIDATION_CHUNK_ROWS = 250_000
# Files archived at once by `pull_new` (I/O: read, hash, fsync).
ARCHIVE_THREADS = 8
# Bytes of source files judged in one task (`batches`): a national week's logistik is several
# tasks a task runner can spread over processes, a province's week a few.
BATCH_BYTES = 16 * 1024 * 1024
# The same for batches judged in Dask worker processes: each worker pays the GX import (~340 MB)
# and then a batch's frames (~440 MB for 16 MB of logistik CSV, ~260 MB for 8 MB; bench/README.md),
# and a worker is to stay under 1 GB on the national week.
WORKER_BATCH_BYTES = 8 * 1024 * 1024


def known_state(con: duckdb.DuckDBPyConnection) -> tuple[set[tuple], set[tuple], set[tuple]]:
    """(name bytes, fingerprint) already seen, (name bytes, sha) already loaded, and the (sha,
    kab/kota, kind, week) of accepted files: the same bytes for another week are a new report (an
    empty incident list is byte-identical every week), for the same week a duplicate. A workbook
    is loaded under its bytes' sha, its sheets are accepted under theirs
    (`tasks.ingest.workbook`)."""
    rows = con.execute(sql("load/known_files.sql")).fetchall()
    seen = {(bytes(p), fp) for p, fp, *_ in rows if fp is not None}
    loaded = {(bytes(p), wb or h) for p, _, h, *_, wb in rows}
    accepted = {(h, kab, kind, week) for _, _, h, _, kab, kind, week, ok, _ in rows if ok}
    return seen, loaded, accepted


def _dup_key(a: ArchivedFile) -> tuple:
    i = a.identity
    return (a.sha256, i.kabkota_code, i.kind, i.week)


def arrival(f: InboxFile, clock: str, now: datetime) -> datetime:
    """When the pipeline counts a file as received: the time its storage recorded the write
    (ctime of a folder's file, LastModified of an object), or, when replaying a recorded
    campaign (`PILKADA_ARRIVAL=mtime`), the file's own modification time; never in the future,
    and now when the listing gives no time. A sender's clock is never trusted by default."""
    t = f.mtime if clock == "mtime" else f.stored_at
    return min(t, now) if t is not None else now


def _record(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame, statement: str,
            always: bool = False) -> None:
    if frame.height or always:
        con.register(name, frame.to_arrow())
        try:
            con.execute(statement)
        finally:
            con.unregister(name)


def pull_new(con: duckdb.DuckDBPyConnection, settings: Settings,
             run_id: str | None = None, mailed: Sequence[InboxFile] = ()) -> list[ArchivedFile]:
    """List the inbox and archive every file not yet loaded, unchanged files skipped unread;
    `mailed` are the attachments `tasks.ingest.mailbox` saved, taken exactly like the folder's
    files. A week's workbook comes back as one submission per kind sheet (`tasks.ingest.workbook`).

    What is not a submission (symlinks, FIFOs, hidden files, files that cannot be read) is
    recorded in `audit.inbox_skipped` instead; an unreadable file is tried again next run."""
    seen, loaded, _ = known_state(con)
    listed, skipped = list_inbox(settings.inbox)
    listed += mailed
    now = datetime.now(UTC)
    fresh: list[InboxFile] = [f for f in listed if (f.raw_path, f.fingerprint) not in seen]
    archived, touched = [], []

    def archived_or_error(f: InboxFile) -> ArchivedFile | SourceUnreadable:
        try:
            return archive(f, settings.archive, settings.max_file_bytes)
        except SourceUnreadable as exc:
            return exc

    # Reading, hashing and fsyncing wait on the disk (or the object store), not the CPU: files
    # are archived a few at a time (bench/README.md), and judged in the listing's order.
    with ThreadPoolExecutor(ARCHIVE_THREADS) as pool:
        results = list(pool.map(archived_or_error, fresh))
    for f, a in zip(fresh, results, strict=True):
        if isinstance(a, SourceUnreadable):
            skipped.append(Skipped(f.source_path, "unreadable",
                                   f"File tidak dapat dibaca dari folder masuk ({a}); "
                                   "dicoba lagi pada run berikutnya."))
            continue
        if (f.raw_path, a.sha256) in loaded:
            touched.append((f.raw_path, a.sha256, f.fingerprint))
        else:
            archived.append(replace(a, received_at=arrival(f, settings.arrival, now)))
    _record(con, "staged_skipped", pl.DataFrame(
        [(s.raw_path, s.display_path, s.object_type, s.reason, run_id) for s in skipped],
        schema={"source_bytes": pl.Binary, "source_path": pl.String, "object_type": pl.String,
                "reason": pl.String, "run_id": pl.String}, orient="row"),
        sql("load/record_skipped.sql"), always=True)
    _record(con, "staged_touched", pl.DataFrame(
        touched, schema={"source_bytes": pl.Binary, "sha256": pl.String,
                         "source_fingerprint": pl.String}, orient="row"),
        sql("load/refresh_fingerprint.sql"))
    for s in skipped:
        log.warning("bukan kiriman: %s (%s)", s.display_path, s.reason)
    return expand_all(archived, settings.max_rows)


def _received_at(a: ArchivedFile) -> datetime:
    return a.received_at or datetime.now(UTC)


def _reject(a: ArchivedFile, reason: str, rule: str = "file_tidak_terbaca") -> Verdict:
    return Verdict(a, _received_at(a), "rejected", reason,
                   findings=[Finding(0, None, None, rule, "reject", reason)])


def _parse(a: ArchivedFile, settings: Settings) -> pl.DataFrame | Verdict:
    """Typed rows of one file, or its rejection."""
    ident = a.identity  # name, size, area and calendar were judged by `_admissible`
    try:
        table = empty_table(ident.kind) if a.blank else read_table(
            a.archive_path.read_bytes(), ident.file_format, ident.kind, max_rows=settings.max_rows)
    except ParseError as exc:  # the row limit is enforced while reading: rule `batas_baris`
        return _reject(a, str(exc), exc.rule)
    except Exception as exc:  # a parser bug must cost one file its verdict, not the whole run
        log.exception("unexpected parser failure on %s", a.source.display_path)
        return _reject(a, f"File tidak dapat dibaca ({type(exc).__name__}); tim data sudah "
                          "diberi tahu. Simpan ulang sebagai CSV UTF-8 lalu kirim kembali.")
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


def _area(con: duckdb.DuckDBPyConnection) -> tuple[frozenset[str], str]:
    """The senders this warehouse serves (its kab/kota, and its provinces' desks, whose codes
    `tasks.ingest.pull.identify` admits only for the kinds a province sends), and the area's
    name."""
    codes = frozenset(c for (c,) in con.execute(
        "SELECT kabkota_code FROM ref.kabkota UNION SELECT provinsi_code FROM ref.provinsi"
    ).fetchall())
    names = con.execute("SELECT scope_name FROM ref.scope").fetchall()
    return codes, names[0][0] if names else "wilayah gudang ini"


def _admissible(a: ArchivedFile, area: tuple[frozenset[str], str],
                settings: Settings) -> Verdict | None:
    """A file's rejection for what its name and size say, before a byte of it is parsed: an
    unusable name, a size over the limit (then it was not even archived), a kab/kota outside
    the warehouse's area, a week outside the campaign's calendar."""
    ident = a.identity
    if ident.problem:
        return _reject(a, ident.problem, ident.rule)
    if a.archive_path is None or a.source.size > settings.max_file_bytes:
        return _reject(a, f"File terlalu besar ({a.source.size:,} byte); batas "
                          f"{settings.max_file_bytes:,} byte. File tidak diarsipkan.",
                       "batas_ukuran")
    codes, name = area
    if ident.kabkota_code not in codes:
        return _reject(a, f"Kode kab/kota {ident.kabkota_code} tidak dikenal atau di luar wilayah "
                          f"{name}; periksa kode pada nama file dan folder.", "wilayah")
    first, last = settings.calendar
    if not parse_week(first) <= parse_week(ident.week) <= parse_week(last):
        return _reject(a, f"Minggu {ident.week} di luar kalender pelaporan Pilkada ({first} s.d. "
                          f"{last}); periksa minggu pada nama file.", "kalender")
    return None


def _failed(a: ArchivedFile, step: str, exc: BaseException) -> Verdict:
    """A file that broke a step of the pipeline: its own verdict, and the team is told in the log
    (with the file named), so one file never costs the others theirs."""
    log.error("file %s gagal pada langkah %s: %s: %s", a.shown_path, step,
              type(exc).__name__, exc, exc_info=exc)
    return _reject(a, f"File tidak dapat diproses pada langkah {step} ({type(exc).__name__}); "
                      "tim data mendapat catatan di log run. Periksa isi file lalu kirim ulang.",
                   "gagal_diproses")


def _validate(con: duckdb.DuckDBPyConnection, kind: str, frames: list[pl.DataFrame],
              ) -> tuple[list[Finding], dict[int, BaseException]]:
    """Findings for a batch of files of one kind; when the batch fails, each file is validated
    on its own so that only the file that breaks a rule's SQL or suite loses its verdict."""
    try:
        return validate_kind(con, kind, pl.concat(frames, how="vertical_relaxed")), {}
    except FILE_ERRORS as exc:
        if len(frames) == 1:
            return [], {int(frames[0][FILE][0]): exc}
    findings: list[Finding] = []
    failed: dict[int, BaseException] = {}
    for frame in frames:
        found, broke = _validate(con, kind, [frame])
        findings += found
        failed.update(broke)
    return findings, failed


@dataclass(frozen=True)
class Known:
    """What judging a file needs to know besides its own bytes and the validation inputs: the
    accepted submissions' duplicate keys (`known_state`) and the warehouse's area (`_area`), read
    once by the flow as plain values, so a batch can be judged in any process."""

    accepted: frozenset[tuple]
    area: tuple[frozenset[str], str]


def known(con: duckdb.DuckDBPyConnection) -> Known:
    return Known(frozenset(known_state(con)[2]), _area(con))


def batches(archived: list[ArchivedFile], budget: int | None = None) -> list[list[ArchivedFile]]:
    """Files split into batches that can be judged apart: one kind each, every file of one kab/kota
    and kind in the same batch (a copy in the same run shares its first copy's fate), about
    `budget` bytes each (default `BATCH_BYTES`; a larger kab/kota is a batch of its own). Files
    without a kind (their name is rejected) form one batch."""
    budget = budget or BATCH_BYTES
    groups: dict[tuple[str, str], list[ArchivedFile]] = {}
    for a in archived:
        groups.setdefault((a.identity.kind or "", a.identity.kabkota_code or ""), []).append(a)
    out: list[list[ArchivedFile]] = []
    size, kind_of_last = 0, None
    for (kind, _), files in sorted(groups.items()):
        weight = sum(a.source.size for a in files)
        if out and kind == kind_of_last and size + weight <= budget:
            out[-1] += files
            size += weight
        else:
            out.append(list(files))
            size, kind_of_last = weight, kind
    return out


def judge(con: duckdb.DuckDBPyConnection, archived: list[ArchivedFile],
          settings: Settings) -> list[Verdict]:
    """Every verdict of one week's files, in this process, on an open warehouse: what the flow
    fans out over a task runner, in one call (for the benches in bench/ and tests of judging)."""
    facts = known(con)
    weeks = sorted({a.identity.week for a in archived if a.identity.week})
    verdicts: list[Verdict] = []
    reuse: dict[tuple, pa.Table] = {}
    for batch in batches(archived):
        verdicts += judge_batch(batch, settings, facts, batch_inputs(con, batch, weeks, reuse))
    return in_arrival_order(verdicts, archived)


def batch_inputs(con: duckdb.DuckDBPyConnection, batch: list[ArchivedFile], weeks: list[str],
                 reuse: dict[tuple, pa.Table] | None = None) -> dict[str, pa.Table]:
    """The validation inputs of one batch (`batches`: one kind): for its files' kab/kota only."""
    kind = batch[0].identity.kind
    if not kind:
        return {}
    kabkota = [a.identity.kabkota_code for a in batch if a.identity.kabkota_code]
    return validation_inputs(con, kind, weeks, kabkota, reuse)


def in_arrival_order(verdicts: list[Verdict], archived: list[ArchivedFile]) -> list[Verdict]:
    """Verdicts in arrival order, whichever batch judged them; the sheets of one workbook (same
    file, same time) in the order the pull listed them, so file ids do not depend on batching."""
    position = {a: n for n, a in enumerate(archived)}
    return sorted(verdicts, key=lambda v: (v.received_at, v.archived.source.raw_path,
                                           position.get(v.archived, 0)))


def judge_batch(archived: list[ArchivedFile], settings: Settings, facts: Known,
                inputs: dict[str, pa.Table]) -> list[Verdict]:
    """A verdict for every file of a batch (`batches`): duplicates first, then parse, then
    validate, against `inputs` (`tasks.ingest.validate.validation_inputs`) in an in-memory DuckDB.

    Takes plain values only, so it runs in any process that sees the archive. Whatever one file
    does to a step (parser, casting, a rule's SQL, the verdict) ends as that file's rejection;
    the other files of the batch keep theirs."""
    with closing(checks_connection(inputs)) as con:
        return _judge(con, archived, settings, facts)


def _judge(con: duckdb.DuckDBPyConnection, archived: list[ArchivedFile], settings: Settings,
           facts: Known) -> list[Verdict]:
    accepted, area = facts.accepted, facts.area
    verdicts: list[Verdict] = []
    by_kind: dict[str, list[pl.DataFrame]] = {}
    pending: dict[int, tuple[ArchivedFile, pl.DataFrame, list[Finding]]] = {}
    first_in_run: dict[tuple, int] = {}  # (sha, identity) -> pending index of the first copy
    copies: list[tuple[ArchivedFile, int]] = []
    empty: dict[str, list[tuple[int, str, str]]] = {}  # kind -> header-only files
    for a in sorted(archived, key=lambda x: (_received_at(x), x.source.raw_path)):
        key = _dup_key(a)
        if key in accepted:
            verdicts.append(_duplicate(a))
            continue
        if key in first_in_run:
            copies.append((a, first_in_run[key]))
            continue
        refused = _admissible(a, area, settings)
        if refused is not None:
            verdicts.append(refused)
            continue
        try:
            parsed = _parse(a, settings)
            if isinstance(parsed, Verdict):
                verdicts.append(parsed)
                continue
            typed, cell_issues = type_columns(parsed, a.identity.kind)
            typed, private = scrub(a.identity.kind, typed)  # names/NIPs gone before any echo
        except FILE_ERRORS as exc:
            verdicts.append(_failed(a, "membaca", exc))
            continue
        idx = len(pending) + 1
        first_in_run[key] = idx
        identity = IDENTITY[a.identity.kind]
        cell_findings = [Finding(idx, c.row, c.column, "format_nilai", "flag",
                                 unechoed(c.value, c.message),
                                 "row" if c.column in identity else "values")
                         for c in cell_issues]
        cell_findings += [Finding(idx, row, col, rule, NOTE, message, "nothing")
                          for row, col, rule, message in private]
        pending[idx] = (a, typed, cell_findings)
        if typed.height == 0:  # nothing to validate row by row; what it lacks is still judged
            empty.setdefault(a.identity.kind, []).append((idx, a.identity.kabkota_code,
                                                          a.identity.week))
        by_kind.setdefault(a.identity.kind, []).append(typed.with_columns(
            pl.lit(idx).alias(FILE),
            pl.lit(a.identity.kabkota_code).alias("_expected_kabkota"),
            pl.lit(a.identity.week).alias("_week"),
            pl.lit(week_start(a.identity.week)).alias("_week_start"),
        ))
    findings_by_file: dict[int, list[Finding]] = {k: list(v[2]) for k, v in pending.items()}
    unreadable = {(k, c.row, c.column) for k, (_, _, cells) in pending.items() for c in cells}
    broken: dict[int, BaseException] = {}
    for kind, frames in by_kind.items():
        for chunk in _chunks(frames, VALIDATION_CHUNK_ROWS):
            found, failed = _validate(con, kind, chunk)
            broken.update(failed)
            for f in found:
                if f.rule == "wajib_diisi" and (f.file_id, f.row, f.column) in unreadable:
                    continue  # the cell was unreadable; the format finding already says so
                findings_by_file[f.file_id].append(f)
    for kind, files in empty.items():  # e.g. a header-only follow-up report: open items owed
        ids = [idx for idx, _, _ in files]
        try:
            found = completeness(con, kind, pl.concat(
                [f for f in by_kind[kind] if f.height == 0], how="vertical_relaxed"),
                pl.DataFrame(files, orient="row", schema={
                    FILE: pl.Int64, "_expected_kabkota": pl.String, "_week": pl.String}))
        except FILE_ERRORS as exc:
            broken.update(dict.fromkeys(ids, exc))
            continue
        for f in found:
            findings_by_file[f.file_id].append(f)
    judged: dict[int, Verdict] = {}
    for idx, (a, typed, _) in pending.items():
        if idx in broken:
            judged[idx] = _failed(a, "validasi", broken[idx])
            continue
        try:
            judged[idx] = _verdict(a, typed, findings_by_file[idx], settings)
        except FILE_ERRORS as exc:
            judged[idx] = _failed(a, "penilaian", exc)
    verdicts += judged.values()
    for a, idx in copies:  # a copy in the same run shares its first copy's fate
        first = judged[idx]
        verdicts.append(_duplicate(a) if first.verdict != "rejected" else _reject(
            a, f"{first.reason} (isi sama dengan {first.archived.shown_path})",
            "sama_dengan_file_ditolak"))
    return sorted(verdicts, key=lambda v: (v.received_at, v.archived.source.raw_path))


def _duplicate(a: ArchivedFile) -> Verdict:
    return Verdict(a, _received_at(a), "duplicate",
                   "Isi file sama persis dengan kiriman sebelumnya untuk kab/kota, jenis, dan "
                   "minggu yang sama; tidak dihitung dua kali.")


def _verdict(a: ArchivedFile, typed: pl.DataFrame, findings: list[Finding],
             settings: Settings) -> Verdict:
    received = _received_at(a)
    due = deadline(a.identity.week, settings.deadline_weekday, settings.deadline_time)
    late = received > due
    flagged_rows = {f.row for f in findings if f.row is not None and f.severity != NOTE}
    excluded_rows, excluded_cells = exclusions(findings)
    notes = [f for f in findings if f.severity == NOTE]
    cells = pl.DataFrame({ROW: list(excluded_cells), "excluded_columns": list(
        excluded_cells.values())}, schema={ROW: typed.schema[ROW],
                                           "excluded_columns": pl.List(pl.String)})
    rows = typed.with_columns(
        pl.col(ROW).is_in(sorted(flagged_rows)).alias("flagged"),
        pl.col(ROW).is_in(sorted(excluded_rows)).alias("excluded"),
    ).join(cells, on=ROW, how="left", maintain_order="left").with_columns(
        pl.col("excluded_columns").fill_null(pl.lit([], pl.List(pl.String))))
    rows = withhold(a.identity.kind, rows, findings)  # a refused name/NIP is not stored
    rejects = [f for f in findings if f.severity == "reject"]
    v = Verdict(a, received, "accepted", is_late=late, rows=rows, findings=findings)
    # Only rows whose identity was rejected count toward refusing the whole file (a wrong
    # template, another kab/kota's codes): a bad column leaves the rest of each row standing.
    share = len(excluded_rows) / typed.height if typed.height else 0.0
    if rejects:
        v.verdict = "rejected"
        v.reason = "Ditolak: " + rejects[0].message + (
            f" (dan {len(rejects) - 1} pelanggaran serupa)" if len(rejects) > 1 else "")
    elif (share > policy()["reject_if_flagged_share_above"]
          and a.identity.kind not in policy().get("independent_rows", ())):
        v.verdict = "rejected"
        v.reason = (f"Ditolak: sebagian besar baris tidak sah ({len(excluded_rows)} dari "
                    f"{typed.height}): {_summarise(findings)}.")
    elif findings:
        v.verdict = "accepted_with_flags"
        whole = [f for f in findings if f.row is None]
        parts = []
        if excluded_rows:
            parts.append(f"{len(excluded_rows)} baris tidak dihitung")
        if excluded_cells:
            parts.append(f"{len(excluded_cells)} baris dihitung tanpa nilai yang ditandai")
        if kept := flagged_rows - excluded_rows - excluded_cells.keys():
            parts.append(f"{len(kept)} baris ditandai, nilainya tetap dihitung")
        if whole:
            parts.append(f"{len(whole)} catatan kelengkapan")
        if notes:
            parts.append(f"{len(notes)} isian data pribadi disamarkan (baris tetap dihitung)")
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
