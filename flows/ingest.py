"""Flow `ingest-submissions`: pull → parse/validate → load, for everything new in the inbox.

Every step says what it did in the run's logs (counts, and each rejected file with its reason),
and its task run is named for the week it worked on (`validate-2024-W47`, `load-2024-W47`,
`feedback-2024-W47`), so a run with a backlog of weeks reads as a list of weeks in the UI. The
project's own loggers (`tasks.*`) reach the same logs (`tasks.runlog`). At the end, the run's
GX results are kept and published once as Data Docs (`tasks.ingest.data_docs`), and two artifacts
say what needs doing first (`ingest-summary`) and what happened to every file (`ingest-ledger`).
"""

from __future__ import annotations

import os
import socket
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flows import warm_start
from flows.runners import at_home, dask_threads, fanned_out
from tasks.config import Settings, load_settings
from tasks.ingest.feedback import FeedbackIncomplete, missing_feedback, write_feedback
from tasks.ingest.judge import (
    WORKER_BATCH_BYTES,
    Known,
    batch_inputs,
    batches,
    by_week,
    in_arrival_order,
    judge_batches,
    known,
    parts,
    pull_new,
    run_id_now,
)
from tasks.ingest.load import COUNTED, Verdict, load_batch
from tasks.ingest.mailbox import Mail, answer, collect
from tasks.ingest.pull import ArchivedFile
from tasks.ingest.summary import VERDICT_LABEL, ingest_summary, ledger_rows
from tasks.ingest.validate import KeptResult, keeping_results
from tasks.runlog import route_project_logs
from tasks.warehouse.database import connect, migrate, publish_snapshot, sql
from tasks.warehouse.lock import exclusive
from tasks.warehouse.reference import ensure_reference
from tasks.weeks import check_calendar

route_project_logs()

NO_WEEK = "tanpa-minggu"  # the group of files whose name gave no week (rejected by name)


def week_of(group: list) -> str:
    """The reporting week of a `by_week` group, for task run names and log lines."""
    return (group[0].identity.week if group else None) or NO_WEEK


# An ingest that meets a running bulletin or another ingest waits for it (a bulletin holds the
# lock only while it reads or writes the warehouse, never while mailing) instead of failing: an
# overlap is not a red run. Past this wait the run fails with LockBusy naming the holder.
INGEST_LOCK_WAIT = 600


# The tasks take settings and plain values and open the warehouse themselves (`connect`): under
# the flow's lock and inside its own connection, DuckDB hands them the same database instance
# (same file, same configuration), so a task's connection costs no reopening and its closing no
# checkpoint. NO_CACHE: every one of them reads or writes state a cache key cannot see.


@task(name="prepare-warehouse", cache_policy=NO_CACHE)
def prepare_warehouse(warehouse: Path, scope: str) -> list[str]:
    from tasks.warehouse.database import ensure_snapshot

    with connect(warehouse) as con:
        applied = migrate(con)
        ensure_reference(con, scope, reload=bool(applied))
        ensure_snapshot(con)  # analysts read only the snapshot: it exists from the first migration
    return applied


@task(name="pull-mailbox", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def pull_mailbox(settings: Settings) -> list[Mail]:
    """The desks' unprocessed messages, attachments filed for the folder pull
    (tasks.ingest.mailbox)."""
    with connect(settings.warehouse) as con:
        mails = collect(con, settings)
    get_run_logger().info("Surel: %d pesan baru; %d lampiran laporan dari desk; %d disisihkan "
                          "untuk tim data.", len(mails), sum(len(m.files) for m in mails),
                          sum(m.aside is not None for m in mails))
    return mails


@task(name="answer-mail", cache_policy=NO_CACHE)
def answer_mail(settings: Settings, mails: list[Mail], run_id: str) -> Counter:
    """One reply per desk message in its thread, then every message flagged processed."""
    with connect(settings.warehouse) as con:
        outcomes = answer(con, settings, mails, run_id, get_run_logger())
    n = Counter(o.status for o in outcomes)
    get_run_logger().info("Balasan surel: %s.", ", ".join(f"{v} {k}" for k, v in n.items())
                          or "tidak ada")
    return n


@task(name="pull-inbox", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def pull_inbox(settings: Settings, run_id: str,
               mails: list[Mail] | None = None) -> list[ArchivedFile]:
    with connect(settings.warehouse) as con:
        archived = pull_new(con, settings, run_id, [f for m in mails or () for f in m.files])
        (skipped,) = con.execute("SELECT count(*) FROM audit.inbox_skipped "
                                 "WHERE present AND run_id = ?", [run_id]).fetchall()[0]
    get_run_logger().info("Tarik: %d berkas baru diarsipkan; %d bukan kiriman (dilewati, "
                          "audit.inbox_skipped); berkas lama yang tidak berubah tidak dibaca.",
                          len(archived), skipped)
    return archived


def judged(batches: list[list[ArchivedFile]], settings: Settings, facts: Known,
           inputs: list[dict[str, pa.Table]]) -> tuple[list[Verdict], list[KeptResult]]:
    """One part's verdicts and GX's bounded results, in the calling process: its batches one
    after another, each judged as on its own (`judge_batches`, each with its own inputs)."""
    with keeping_results() as kept:
        verdicts = judge_batches(batches, settings, facts, inputs)
    return verdicts, kept


@task(name="judge-batch", task_run_name="judge-{week}-{kinds}-{part}", cache_policy=NO_CACHE)
def judge_files(batches: list[list[ArchivedFile]], settings: Settings, facts: Known,
                inputs: list[dict[str, pa.Table]], week: str, kinds: str,
                part: int) -> tuple[list[Verdict], list[KeptResult]]:
    """Parse and validate one part of a week's files (`tasks.ingest.judge.parts`: one or more
    batches, each one kind), wherever the task runner puts it: plain values in (archive paths,
    settings, the warehouse facts and each batch's validation inputs, read by the flow),
    verdicts and GX's bounded results out.

    In a run forked by `pilkada warm-start`, the part is judged in a process forked from the
    starter too (flows/warm_start.py), so that the run's two judging threads use two cores
    instead of sharing one interpreter; if the starter cannot, it is judged here."""
    logger = get_run_logger()
    pid = os.getpid()
    if warm_start.warm_started():
        try:
            result, pid = warm_start.call("judge", batches, settings, facts, inputs)
        except warm_start.Unavailable as exc:
            logger.warning("Penilaian %s %s bagian %d di proses flow: %s", week, kinds, part, exc)
            result = judged(batches, settings, facts, inputs)
    else:
        result = judged(batches, settings, facts, inputs)
    logger.info("Nilai %s %s bagian %d: %d berkas, proses %d di %s.", week, kinds, part,
                sum(map(len, batches)), pid, socket.gethostname())
    return result


@task(name="validate-submissions", task_run_name="validate-{week}", cache_policy=NO_CACHE)
def validate_submissions(judged: list[tuple[list[Verdict], list[KeptResult]]],
                         archived: list[ArchivedFile],
                         week: str) -> tuple[list[Verdict], list[KeptResult]]:
    """The week's verdicts in arrival order, from its judged batches, and what the team reads
    first in the logs: the counts, then every rejected file with its reason."""
    verdicts = in_arrival_order([v for part, _ in judged for v in part], archived)
    kept = [k for _, results in judged for k in results]
    logger = get_run_logger()
    n = Counter(v.verdict for v in verdicts)
    logger.info("Validasi %s: %d berkas: %s; %d terlambat.", week, len(verdicts),
                ", ".join(f"{n[s]} {label}" for s, label in VERDICT_LABEL.items()),
                sum(v.is_late for v in verdicts))
    for v in verdicts:
        if v.verdict == "rejected":
            logger.warning("Ditolak %s: %s", v.archived.shown_path, v.reason)
    return verdicts, kept


# In-process, a week's batches are judged two at a time: judging is Python holding the GIL with
# polars/DuckDB stretches that release it, so a second thread overlaps those, and more threads
# buy no time but hold more batches' frames at once (national week: ~1.1-1.3 GB peak with 1-2
# threads, 1.4-1.6 GB with Prefect's default pool; bench/README.md).
JUDGE_THREADS = 2


def _as_is(value: Any) -> Any:
    return value


def judge_week(con, group: list[ArchivedFile], settings: Settings,
               week: str) -> tuple[list[Verdict], list[KeptResult]]:
    """Fan a week's batches out on the configured task runner (`flows.runners`), grouped into
    as many parts as it runs at once when the week is small (`tasks.ingest.judge.parts`). What
    the checks need from the warehouse is read here, by the one process that holds it open: per
    batch for its kab/kota (the national-size tables), once a week for the rest; the batches get
    it as values, and workers get no mail credentials (SMTP, IMAP)."""
    facts = known(con)
    weeks = [week] if week != NO_WEEK else []
    reuse: dict[tuple, pa.Table] = {}
    futures = []
    judging = replace(settings, smtp=None, imap=None)
    budget = WORKER_BATCH_BYTES if settings.dask_address else None  # bounds a worker's peak
    slots = dask_threads() or JUDGE_THREADS
    for part, grouped in enumerate(parts(batches(group, budget), slots, budget), start=1):
        # quote(): Prefect would otherwise walk every file, verdict and finding of the week
        # looking for futures, twice per task (~25 s of a national week, bench/README.md). Not
        # on Dask: prefect-dask 0.3.7 hands a quoted parameter to the task still wrapped
        # (tests/test_dask.py), and there the inputs are pickled whole anyway.
        wrap = _as_is if settings.dask_address else quote
        kinds = "+".join(dict.fromkeys(b[0].identity.kind or "tanpa-jenis" for b in grouped))
        futures.append(judge_files.submit(
            wrap(grouped), judging, wrap(facts),
            wrap([batch_inputs(con, b, weeks, reuse) for b in grouped]), week, kinds, part))
    return validate_submissions(quote([f.result() for f in futures]), quote(group), week)


@task(name="load-submissions", task_run_name="load-{week}", cache_policy=NO_CACHE)
def load_submissions(warehouse: Path, verdicts: list[Verdict], run_id: str,
                     week: str) -> list[int]:
    with connect(warehouse) as con:  # one transaction for the week (`load_batch`)
        file_ids = load_batch(con, verdicts, run_id)
    counted = [v for v in verdicts if v.verdict in COUNTED]
    get_run_logger().info("Muat %s: %d berkas dicatat; %d baris dimuat dari %d berkas "
                          "(%d baris ditandai; %d di antaranya tidak dihitung sama sekali).",
                          week, len(file_ids), sum(v.rows_total for v in counted), len(counted),
                          sum(v.rows_flagged for v in counted),
                          sum(v.rows_excluded for v in counted))
    return file_ids


@task(name="write-feedback", task_run_name="feedback-{week}", cache_policy=NO_CACHE)
def feedback(warehouse: Path, file_ids: list[int], outbox: Path, week: str) -> list[str]:
    """The batch's notes, plus any an earlier run could not write; returns the names of files
    whose feedback still could not be written (logged, retried by the next run)."""
    logger = get_run_logger()
    try:
        with connect(warehouse) as con:
            written = write_feedback(con, sorted({*file_ids, *missing_feedback(con)}), outbox)
    except FeedbackIncomplete as exc:
        logger.error(str(exc))
        return exc.files
    notes = sum(p.name.endswith(".umpan-balik.txt") for p in written)
    logger.info("Umpan balik %s: %d catatan ditulis (%d berkas temuan).", week, notes,
                len(written) - notes)
    return []


@task(name="publish-snapshot", cache_policy=NO_CACHE)
def snapshot(warehouse: Path) -> str:
    return str(publish_snapshot(warehouse))


@task(name="gx-data-docs", cache_policy=NO_CACHE)
def data_docs(kept: list[KeptResult], run_id: str, warehouse: Path,
              outbox: Path) -> Path | None:
    """Store the run's GX results and build Data Docs once, while the last week loads (GX's
    rendering is ~0.3 s of Python: in a warm run it goes to a child of the starter, so it has a
    core of its own). A failure here is logged and named in the summary, and never undoes the
    ingest: the docs are a view of what GX found, and the load does not depend on them."""
    from tasks.ingest.data_docs import publish

    logger = get_run_logger()
    try:
        try:
            index, pid = warm_start.call("docs", kept, run_id, warehouse, outbox)
        except warm_start.Unavailable as exc:
            if warm_start.warm_started():
                logger.warning("Data Docs GX di proses flow: %s", exc)
            index, pid = publish(kept, run_id, warehouse, outbox), os.getpid()
    except Exception as exc:
        logger.error("Data Docs GX tidak dapat dibuat: %s: %s", type(exc).__name__, exc,
                     exc_info=exc)
        return None
    logger.info("Data Docs GX: %d hasil validasi disimpan; %s (proses %d di %s)", len(kept), index,
                pid, socket.gethostname())
    return index


def _data_docs_meanwhile(kept: list[KeptResult], run_id: str,
                         settings: Settings) -> PrefectFuture[Path | None]:
    """Start building the run's Data Docs beside what is left (the last week's load and
    feedback), on the flow's own runner: they are written to this machine's outbox."""
    with at_home():
        return data_docs.submit(quote(kept), run_id, settings.warehouse, settings.outbox)


@flow(name="ingest-submissions", log_prints=True,
      task_runner=ThreadPoolTaskRunner(max_workers=JUDGE_THREADS))
def ingest_submissions(inbox: str | None = None) -> dict[str, int]:
    """Ingest everything new in the inbox; re-running over the same inbox changes nothing."""
    warm_start.note_cold_start(get_run_logger())
    settings = load_settings()
    check_calendar(settings.calendar)  # config cannot judge weeks: refuse a bad one before a file
    if inbox:
        settings = replace(settings, inbox=inbox)
    run_id = run_id_now()
    warehouse = settings.warehouse
    with exclusive(settings.lock_path, "Proses ingest", wait_seconds=INGEST_LOCK_WAIT):
        docs: PrefectFuture[Path | None] | None = None
        try:
            # the flow's own connection: what it reads to orchestrate (the checks' inputs, what
            # is pending), and the one database instance the tasks' connections share for the run
            with connect(warehouse) as con:
                prepare_warehouse(warehouse, settings.province)
                mails, mail_error = _mailbox(settings)
                verdicts: list[Verdict] = []
                kept: list[KeptResult] = []
                unwritten: list[str] = []
                with fanned_out(settings.dask_address):  # a local cluster starts on first use
                    groups = by_week(pull_inbox(settings, run_id, mails))
                    for n, group in enumerate(groups, start=1):
                        week = week_of(group)
                        judged, results = judge_week(con, group, settings, week)
                        kept += results
                        if n == len(groups) and kept:  # every result of the run is in
                            docs = _data_docs_meanwhile(kept, run_id, settings)
                        file_ids = load_submissions(warehouse, quote(judged), run_id, week)
                        unwritten += feedback(warehouse, file_ids, settings.outbox, week)
                        verdicts += judged
                if not verdicts and missing_feedback(con):  # nothing new: catch up on notes
                    unwritten += feedback(warehouse, [], settings.outbox, "tertunda")
                if mails:  # after the feedback: the replies attach it
                    answer_mail(settings, mails, run_id)
                con.execute("CHECKPOINT")
                skipped = _rows(con, sql("queries/inbox_skipped.sql"))
            snapshot(settings.warehouse)
        finally:  # under the lock: the next run's docs never interleave with this run's
            if docs is not None:
                docs.wait()
        index = docs.result() if docs is not None else None
    counts: dict[str, int] = {"files": len(verdicts)}
    for v in verdicts:
        counts[v.verdict] = counts.get(v.verdict, 0) + 1
    if verdicts or skipped:
        note = (f"{len(kept)} validasi GX pada run ini" if index is not None else
                "Data Docs GX tidak dapat dibuat; lihat log run." if kept else "")
        create_markdown_artifact(
            key="ingest-summary",
            markdown=ingest_summary(run_id, verdicts, skipped, index, note),
            description=f"Ringkasan ingest run {run_id}: yang ditolak dan terlambat lebih dulu",
        )
    if verdicts:
        create_table_artifact(
            key="ingest-ledger",
            table=ledger_rows(verdicts),
            description=f"Kiriman yang diproses pada run {run_id} (ditolak lebih dulu)",
        )
    aside = [m for m in mails if m.aside]
    if aside:
        create_markdown_artifact(key="mail-aside", markdown=mail_aside(aside),
                                 description="Surel yang disisihkan untuk tim data (tidak dibalas)")
    print(f"Ingest selesai: {counts}")
    if mail_error is not None:  # the folder was still ingested; the mailbox waits for the next run
        raise mail_error
    if unwritten:  # every week is loaded and published; the run still says what it could not do
        raise FeedbackIncomplete(unwritten)
    return counts


def _mailbox(settings: Settings) -> tuple[list[Mail], Exception | None]:
    """The mailbox's new messages; a mailbox that cannot be read (after the task's retries)
    does not stop the folder's intake: the run goes on and fails at the end, naming it."""
    if settings.imap is None:
        return [], None
    try:
        return pull_mailbox(settings), None
    except Exception as exc:  # IMAP down, login refused: the folder is still read this run
        get_run_logger().error("Kotak surel %s:%s tidak dapat dibaca: %s: %s",
                               settings.imap.host, settings.imap.port, type(exc).__name__, exc)
        return [], exc


def mail_aside(mails: list[Mail]) -> str:
    """The set-aside messages as a table for the data team (sender, subject, reason)."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    rows = [f"| {cell(m.sender)} | {cell(m.subject)} | {cell(m.aside or '')} |" for m in mails]
    return "\n".join(["# Surel disisihkan", "", "Tidak dibalas otomatis; periksa di kotak surel "
                      "(tetap belum dibaca) dan di `audit.mail_message`.", "",
                      "| pengirim | subjek | alasan |", "|---|---|---|", *rows])


def _rows(con, statement: str) -> list[dict[str, Any]]:
    cur = con.execute(statement)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
