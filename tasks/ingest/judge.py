"""The ingestion steps between pull and load: decide what is new, parse, validate, judge.

Each function is plain (testable without Prefect); `flows/ingest.py` wraps them as tasks.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import duckdb
import polars as pl

from tasks.config import WITA, Settings
from tasks.contract.personal import scrub, unechoed, withhold
from tasks.contract.submission import COLUMNS, IDENTITY
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
    completeness,
    exclusions,
    given,
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
# A batch's fixed cost in bytes of file judged in the same time: each batch is a GX validation of
# its kind (~0.1 s however small), and a Kaltim logistik file takes ~0.25 µs per byte
# (bench/README.md). `parts` weighs batches with it, so six small kinds are not one light part.
BATCH_COST_BYTES = 400 * 1024


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


def _chunks(spans: list[_Span], budget: int) -> list[list[_Span]]:
    """Whole files grouped into batches of about `budget` rows: one GX run per batch keeps the
    per-file overhead small, and the bound keeps GX's list of failing rows bounded in memory."""
    out: list[list[_Span]] = []
    size = 0
    for span in spans:
        if out and size + span.height <= budget:
            out[-1].append(span)
            size += span.height
        else:
            out.append([span])
            size = span.height
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


@dataclass(frozen=True)
class _Span:
    """Where one file's rows sit in its kind's typed frame (`_typed`): `idx` is the file's number
    in the batch (`FILE`), its rows are `height` rows from `start`."""

    idx: int
    start: int
    height: int


@dataclass
class _Read:
    """A parsed file waiting for its kind's typing, checks and verdict."""

    a: ArchivedFile
    idx: int
    table: pl.DataFrame | None  # text cells as read (`_row`: the desk's numbers), until typed
    height: int
    findings: list[Finding] = field(default_factory=list)


def _typed(kind: str, files: list[_Read]) -> tuple[pl.DataFrame, dict[int, list[Finding]]]:
    """Every file of a kind cast to the contract's types and scrubbed of personal data in one pass
    (not file by file: per-call overhead was ~3 s of a national week, bench/README.md), with the
    columns the checks add (`FILE`, the kab/kota and week the file's name gives); each file's rows
    contiguous, in the order of `files`. Returns the frame and each file's cell findings.

    Findings name rows by their position in the pass, mapped back to the desk's row numbers here,
    so they are exactly what typing each file on its own gives (tests/test_batching.py)."""
    tables = [f.table for f in files if f.table is not None]
    if len(tables) != len(files):  # released once typed (`_type_kind`): a bug, not a file's
        raise AssertionError("a file's text was typed twice")
    text = _stacked(kind, tables)
    desk_rows = text[ROW]
    typed, cell_issues = type_columns(text.with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias(ROW)), kind)
    del text
    typed, private = scrub(kind, typed)  # names/NIPs gone before any echo
    per_file = pl.DataFrame(
        [(f.idx, f.a.identity.kabkota_code, f.a.identity.week, week_start(f.a.identity.week))
         for f in files], orient="row",
        schema={FILE: pl.Int64, "_expected_kabkota": pl.String, "_week": pl.String,
                "_week_start": pl.Date})
    spread = per_file.select(pl.all().gather(
        pl.Series([i for i, f in enumerate(files) for _ in range(f.height)], dtype=pl.UInt32)))
    owner, rows = spread[FILE].to_list(), desk_rows.to_list()
    identity = IDENTITY[kind]
    found: dict[int, list[Finding]] = {f.idx: [] for f in files}
    for c in cell_issues:
        found[owner[c.row]].append(Finding(
            owner[c.row], rows[c.row], c.column, "format_nilai", "flag",
            unechoed(c.value, c.message), "row" if c.column in identity else "values"))
    for at, column, rule, message in private:
        found[owner[at]].append(Finding(owner[at], rows[at], column, rule, NOTE, message,
                                        "nothing"))
    return typed.with_columns(desk_rows).hstack(spread), found


def _stacked(kind: str, tables: list[pl.DataFrame]) -> pl.DataFrame:
    """The contract's columns of `tables` one under the other (a column a file lacks is empty
    for its rows; what is not the contract's is left out), assembled column by column: a
    diagonal `pl.concat` plans and collects a query per table (~0.5 s of a national week)."""
    columns = [{*t.columns} for t in tables]
    out = []
    for name in (*(c.name for c in COLUMNS[kind]), ROW):
        if any(name in have for have in columns):
            out.append(pl.concat([t.get_column(name) if name in have else
                                  pl.repeat(None, t.height, dtype=pl.String, eager=True)
                                  for t, have in zip(tables, columns, strict=True)],
                                 rechunk=True).alias(name))
    return pl.DataFrame(out)


def _type_kind(kind: str, files: list[_Read]) -> tuple[pl.DataFrame, list[_Span],
                                                       dict[int, BaseException]]:
    """`_typed`, and where each file's rows are; when the pass fails, each file is typed on its
    own, so only the file whose cells break it loses its verdict (`_failed`)."""
    try:
        frame, found = _typed(kind, files)
        ok, failed = files, {}
    except FILE_ERRORS as exc:
        if len(files) == 1:
            raise
        parts, ok, failed, found = [], [], {}, {}
        for f in files:
            try:
                part, own = _typed(kind, [f])
            except FILE_ERRORS as one:
                failed[f.idx] = one
                continue
            parts.append(part)
            ok.append(f)
            found |= own
        if not parts:
            raise exc from None
        frame = pl.concat(parts)
    spans, start = [], 0
    for f in ok:
        f.findings += found[f.idx]
        f.table = None  # typed now: the text need not stay in memory with the frame
        spans.append(_Span(f.idx, start, f.height))
        start += f.height
    return frame, spans, failed


def _validate(con: duckdb.DuckDBPyConnection, kind: str, frame: pl.DataFrame,
              spans: list[_Span]) -> tuple[list[Finding], dict[int, BaseException]]:
    """Findings for a batch of files of one kind (`frame`: their rows, `spans` where each file's
    are); when the batch fails, each file is validated on its own so that only the file that
    breaks a rule's SQL or suite loses its verdict."""
    try:
        return validate_kind(con, kind, frame), {}
    except FILE_ERRORS as exc:
        if len(spans) == 1:
            return [], {spans[0].idx: exc}
    findings: list[Finding] = []
    failed: dict[int, BaseException] = {}
    for span in spans:
        found, broke = _validate(con, kind, frame.slice(span.start, span.height),
                                 [_Span(span.idx, 0, span.height)])
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


def parts(batches: list[list[ArchivedFile]], slots: int,
          budget: int | None = None) -> list[list[list[ArchivedFile]]]:
    """`batches` grouped into parts, one task each (its batches judged one after another, each
    exactly as on its own): as many parts as the runner has `slots` when the week is small, so
    a province's six kinds cost two tasks and two processes instead of six (each ~0.1 s of
    start-up and bookkeeping on a two-core machine); about `budget` bytes each when it is large
    (default `BATCH_BYTES`), so no part holds much more than one batch's memory. Heaviest first
    into the lightest part; the heaviest part comes first, so it starts first."""
    budget = budget or BATCH_BYTES

    def weight(batch: list[ArchivedFile]) -> int:
        return sum(a.source.size for a in batch) + BATCH_COST_BYTES

    n = min(len(batches), max(slots, -(-sum(map(weight, batches)) // budget)))
    grouped: list[list[list[ArchivedFile]]] = [[] for _ in range(n)]
    load = [0] * n
    for batch in sorted(batches, key=weight, reverse=True):
        i = load.index(min(load))
        grouped[i].append(batch)
        load[i] += weight(batch)
    return [grouped[i] for i in sorted(range(n), key=lambda i: -load[i])]


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
    return judge_batches([archived], settings, facts, [inputs])


def judge_batches(batches: list[list[ArchivedFile]], settings: Settings, facts: Known,
                  inputs: list[dict[str, pa.Table]]) -> list[Verdict]:
    """`judge_batch` for each batch of a part (`parts`), one after another, each with its own
    inputs, on one in-memory DuckDB (opening one takes 15-30 ms; a Kaltim week is six batches)."""
    verdicts: list[Verdict] = []
    with closing(duckdb.connect()) as con:
        for batch, its_inputs in zip(batches, inputs, strict=True):
            with given(con, its_inputs):
                verdicts += _judge(con, batch, settings, facts)
    return verdicts


def _judge(con: duckdb.DuckDBPyConnection, archived: list[ArchivedFile], settings: Settings,
           facts: Known) -> list[Verdict]:
    accepted, area = facts.accepted, facts.area
    verdicts: list[Verdict] = []
    read: dict[str, list[_Read]] = {}  # kind -> its parsed files, in arrival order
    first_in_run: dict[tuple, int] = {}  # (sha, identity) -> number of the first copy
    copies: list[tuple[ArchivedFile, int]] = []
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
        except FILE_ERRORS as exc:
            verdicts.append(_failed(a, "membaca", exc))
            continue
        if isinstance(parsed, Verdict):
            verdicts.append(parsed)
            continue
        idx = len(first_in_run) + 1
        first_in_run[key] = idx
        read.setdefault(a.identity.kind, []).append(_Read(a, idx, parsed, parsed.height))
    judged: dict[int, Verdict] = {}
    for kind, files in read.items():
        judged |= _judge_kind(con, kind, files, settings)
    verdicts += judged.values()
    for a, idx in copies:  # a copy in the same run shares its first copy's fate
        first = judged[idx]
        verdicts.append(_duplicate(a) if first.verdict != "rejected" else _reject(
            a, f"{first.reason} (isi sama dengan {first.archived.shown_path})",
            "sama_dengan_file_ditolak"))
    return sorted(verdicts, key=lambda v: (v.received_at, v.archived.source.raw_path))


def _judge_kind(con: duckdb.DuckDBPyConnection, kind: str, files: list[_Read],
                settings: Settings) -> dict[int, Verdict]:
    """The verdicts of a batch's parsed files of one kind: typed together (`_type_kind`), checked
    in chunks of whole files (`_chunks`), marked and judged; a file that breaks a step gets its
    own rejection (`_failed`), the others keep theirs."""
    by_idx = {f.idx: f for f in files}
    try:
        frame, spans, broken_typing = _type_kind(kind, files)
    except FILE_ERRORS as exc:
        return {f.idx: _failed(f.a, "membaca", exc) for f in files}
    judged = {idx: _failed(by_idx[idx].a, "membaca", exc) for idx, exc in broken_typing.items()}
    unreadable = {(f.idx, c.row, c.column) for f in files for c in f.findings}
    broken: dict[int, BaseException] = {}
    for chunk in _chunks(spans, VALIDATION_CHUNK_ROWS):
        first, last = chunk[0], chunk[-1]
        found, failed = _validate(con, kind, frame.slice(
            first.start, last.start + last.height - first.start),
            [replace(s, start=s.start - first.start) for s in chunk])
        broken.update(failed)
        for f in found:
            if f.rule == "wajib_diisi" and (f.file_id, f.row, f.column) in unreadable:
                continue  # the cell was unreadable; the format finding already says so
            by_idx[f.file_id].findings.append(f)
    empty = [s.idx for s in spans if s.height == 0]
    if empty:  # e.g. a header-only follow-up report: open items owed
        try:
            found = completeness(con, kind, frame.clear(), pl.DataFrame(
                [(i, by_idx[i].a.identity.kabkota_code, by_idx[i].a.identity.week)
                 for i in empty], orient="row",
                schema={FILE: pl.Int64, "_expected_kabkota": pl.String, "_week": pl.String}))
        except FILE_ERRORS as exc:
            broken.update(dict.fromkeys(empty, exc))
        else:
            for f in found:
                by_idx[f.file_id].findings.append(f)
    # A file's rows are the contract's columns and its marks, without what only the checks use
    frame = frame.select(*(c.name for c in COLUMNS[kind]), ROW, FILE)
    try:
        marked = _marked(frame, [by_idx[s.idx] for s in spans])
    except FILE_ERRORS:
        marked = None  # each file is marked on its own below: only the one that breaks it fails
    for s in spans:
        f = by_idx[s.idx]
        if s.idx in broken:
            judged[s.idx] = _failed(f.a, "validasi", broken[s.idx])
            continue
        try:
            rows = (marked.slice(s.start, s.height) if marked is not None
                    else _marked(frame.slice(s.start, s.height), [f]))
            judged[s.idx] = _verdict(f.a, rows.drop(FILE), f.findings, settings)
        except FILE_ERRORS as exc:
            judged[s.idx] = _failed(f.a, "penilaian", exc)
    return judged


def _marked(frame: pl.DataFrame, files: list[_Read]) -> pl.DataFrame:
    """`frame` with each row's marks from its file's findings: flagged (any finding but a note),
    excluded (its identity is wrong), excluded_columns (cells that do not count), in one join."""
    marks: list[tuple[int, int, bool, bool, list[str]]] = []
    for f in files:
        flagged = {x.row for x in f.findings if x.row is not None and x.severity != NOTE}
        rows, cells = exclusions(f.findings)
        marks += [(f.idx, row, True, row in rows, cells.get(row, [])) for row in flagged]
    found = pl.DataFrame(marks, orient="row", schema={
        FILE: pl.Int64, ROW: pl.Int64, "flagged": pl.Boolean, "excluded": pl.Boolean,
        "excluded_columns": pl.List(pl.String)})
    marks = frame.select(FILE, ROW).join(found, on=[FILE, ROW], how="left",
                                         maintain_order="left").select(
        pl.col("flagged", "excluded").fill_null(False),
        pl.col("excluded_columns").fill_null(pl.lit([], pl.List(pl.String))))
    return frame.hstack(marks)  # the rows' columns shared, not copied


def _duplicate(a: ArchivedFile) -> Verdict:
    return Verdict(a, _received_at(a), "duplicate",
                   "Isi file sama persis dengan kiriman sebelumnya untuk kab/kota, jenis, dan "
                   "minggu yang sama; tidak dihitung dua kali.")


def _verdict(a: ArchivedFile, rows: pl.DataFrame, findings: list[Finding],
             settings: Settings) -> Verdict:
    """A file's verdict and reason from its findings; `rows` are its typed rows already marked
    (`_marked`)."""
    received = _received_at(a)
    due = deadline(a.identity.week, settings.deadline_weekday, settings.deadline_time)
    late = received > due
    flagged_rows = {f.row for f in findings if f.row is not None and f.severity != NOTE}
    excluded_rows, excluded_cells = exclusions(findings)
    notes = [f for f in findings if f.severity == NOTE]
    height = rows.height
    rows = withhold(a.identity.kind, rows, findings)  # a refused name/NIP is not stored
    rejects = [f for f in findings if f.severity == "reject"]
    v = Verdict(a, received, "accepted", is_late=late, rows=rows, findings=findings)
    # Only rows whose identity was rejected count toward refusing the whole file (a wrong
    # template, another kab/kota's codes): a bad column leaves the rest of each row standing.
    share = len(excluded_rows) / height if height else 0.0
    if rejects:
        v.verdict = "rejected"
        v.reason = "Ditolak: " + rejects[0].message + (
            f" (dan {len(rejects) - 1} pelanggaran serupa)" if len(rejects) > 1 else "")
    elif (share > policy()["reject_if_flagged_share_above"]
          and a.identity.kind not in policy().get("independent_rows", ())):
        v.verdict = "rejected"
        v.reason = (f"Ditolak: sebagian besar baris tidak sah ({len(excluded_rows)} dari "
                    f"{height}): {_summarise(findings)}.")
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
