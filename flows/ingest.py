"""Flow `ingest-submissions`: pull → parse/validate → load, for everything new in the inbox."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from tasks.config import Settings, load_settings
from tasks.feedback import FeedbackIncomplete, missing_feedback, write_feedback
from tasks.ingest import by_week, judge, pull_new, run_id_now
from tasks.load import Verdict, load_batch
from tasks.lock import exclusive
from tasks.reference_load import ensure_reference
from tasks.warehouse import connect, migrate, publish_snapshot


@task(name="prepare-warehouse", cache_policy=NO_CACHE)
def prepare_warehouse(con, scope: str) -> list[str]:
    from tasks.warehouse import ensure_snapshot

    applied = migrate(con)
    ensure_reference(con, scope, reload=bool(applied))
    ensure_snapshot(con)  # analysts only read the snapshot: it exists from the first migration on
    return applied


@task(name="pull-inbox", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=5)
def pull_inbox(con, settings: Settings, run_id: str):
    return pull_new(con, settings, run_id)


@task(name="validate-submissions", cache_policy=NO_CACHE)
def validate_submissions(con, archived, settings: Settings) -> list[Verdict]:
    return judge(con, archived, settings)


@task(name="load-submissions", cache_policy=NO_CACHE)
def load_submissions(con, verdicts: list[Verdict], run_id: str) -> list[int]:
    return load_batch(con, verdicts, run_id)


@task(name="write-feedback", cache_policy=NO_CACHE)
def feedback(con, file_ids: list[int], outbox: Path) -> list[str]:
    """The batch's notes, plus any an earlier run could not write; returns the names of files
    whose feedback still could not be written (logged, retried by the next run)."""
    try:
        write_feedback(con, sorted({*file_ids, *missing_feedback(con)}), outbox)
    except FeedbackIncomplete as exc:
        get_run_logger().error(str(exc))
        return exc.files
    return []


@task(name="publish-snapshot", cache_policy=NO_CACHE)
def snapshot(warehouse: Path) -> str:
    return str(publish_snapshot(warehouse))


@flow(name="ingest-submissions", log_prints=True)
def ingest_submissions(inbox: str | None = None) -> dict[str, int]:
    """Ingest everything new in the inbox; re-running over the same inbox changes nothing."""
    settings = load_settings()
    if inbox:
        settings = replace(settings, inbox=inbox)
    run_id = run_id_now()
    with exclusive(settings.lock_path, "Proses ingest"):
        with connect(settings.warehouse) as con:
            prepare_warehouse(con, settings.province)
            verdicts: list[Verdict] = []
            unwritten: list[str] = []
            for group in by_week(pull_inbox(con, settings, run_id)):
                judged = validate_submissions(con, group, settings)
                unwritten += feedback(con, load_submissions(con, judged, run_id), settings.outbox)
                verdicts += judged
            con.execute("CHECKPOINT")
        snapshot(settings.warehouse)
    counts: dict[str, int] = {"files": len(verdicts)}
    for v in verdicts:
        counts[v.verdict] = counts.get(v.verdict, 0) + 1
    if verdicts:
        create_table_artifact(
            key="ingest-ledger",
            table=[{"file": v.archived.source.display_path, "status": v.verdict,
                    "rows": v.rows_total, "flagged": v.rows_flagged, "reason": v.reason}
                   for v in verdicts],
            description=f"Kiriman yang diproses pada run {run_id}",
        )
    print(f"Ingest selesai: {counts}")
    if unwritten:  # every week is loaded and published; the run still says what it could not do
        raise FeedbackIncomplete(unwritten)
    return counts
