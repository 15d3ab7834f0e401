"""Flow `weekly-bulletin`: marts → render → deliver, for one reporting week."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from tasks.bulletin_data import bulletin_context
from tasks.config import load_settings
from tasks.deliver import send_smtp, write_outbox
from tasks.lock import exclusive
from tasks.render import RenderedBulletin, build_message, render_bulletin
from tasks.warehouse import connect, migrate
from tasks.weeks import last_completed_week, parse_week

BULLETIN_LOCK_WAIT = 900  # seconds: an hourly ingest finishes well within this


@task(name="build-marts", cache_policy=NO_CACHE)
def build_marts(warehouse: Path, lock: Path) -> None:
    """Marts are views: (re)creating them from sql/ makes the bulletin use the current SQL.
    Waits for a running ingest (same lock) instead of failing on DuckDB's file lock."""
    with exclusive(lock, "Pembuatan buletin", wait_seconds=BULLETIN_LOCK_WAIT), \
            connect(warehouse) as con:
        migrate(con)


@task(name="gather-figures", cache_policy=NO_CACHE)
def gather(warehouse: Path, lock: Path, week: str, lang: str) -> dict:
    with exclusive(lock, "Pembuatan buletin", wait_seconds=BULLETIN_LOCK_WAIT), \
            connect(warehouse, read_only=True) as con:
        return bulletin_context(con, week, lang)


@task(name="render-bulletin", cache_policy=NO_CACHE)
def render(ctx: dict) -> RenderedBulletin:
    return render_bulletin(ctx)


@task(name="deliver-bulletin", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[10, 60, 300])
def deliver(bulletin: RenderedBulletin, week: str, lang: str, send: bool) -> dict[str, str]:
    settings = load_settings()
    sender = settings.smtp.sender if settings.smtp else "desk-pilkada@localhost"
    message = build_message(bulletin, sender, settings.bulletin_to)
    paths = write_outbox(settings.outbox / "bulletin" / week, f"buletin-{week}-{lang}", message,
                         bulletin.html, bulletin.text, bulletin.images)
    if send:
        if settings.smtp is None:
            raise RuntimeError("--send diminta tetapi PILKADA_SMTP_HOST belum diatur; "
                               "buletin hanya ditulis ke outbox.")
        send_smtp(message, settings.smtp)
    return {k: str(v) for k, v in paths.items()}


@flow(name="weekly-bulletin", log_prints=True)
def weekly_bulletin(week: str | None = None, lang: str = "id", send: bool = False) -> dict:
    """Render and deliver the bulletin of `week` (default: the week that has just ended, WITA)."""
    week = week or last_completed_week()
    parse_week(week)
    settings = load_settings()
    build_marts(settings.warehouse, settings.lock_path)
    ctx = gather(settings.warehouse, settings.lock_path, week, lang)
    bulletin = render(ctx)
    paths = deliver(bulletin, week, lang, send)
    create_markdown_artifact(
        key="weekly-bulletin",
        markdown=(f"# {bulletin.subject}\n\n"
                  + "\n".join(f"- {s}: {n}" for s, n in ctx["counts"].items())
                  + f"\n\nBuletin: `{paths['html']}`\n\nEML: `{paths['eml']}`"),
        description=f"Buletin minggu {week}",
    )
    print(f"Buletin {week} ({lang}) ditulis ke {paths['html']}")
    return {"week": week, "counts": ctx["counts"], **paths}
