"""Flow `weekly-bulletin`: marts → render → deliver, for one reporting week."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from tasks.bulletin_data import annex_context, bulletin_context
from tasks.config import Settings, load_settings
from tasks.delivery import Letter, OutboxTransport, Outcome, SmtpTransport, deliver
from tasks.ingest import run_id_now
from tasks.letters import compose, failure_report, feedback_files
from tasks.lock import exclusive
from tasks.outbox import write_outbox
from tasks.recipients import load_recipients
from tasks.render import RenderedBulletin, build_message, render_annex, render_bulletin
from tasks.warehouse import connect, migrate
from tasks.weeks import last_completed_week, parse_week

BULLETIN_LOCK_WAIT = 900  # seconds: an hourly ingest finishes well within this
FAILED = ("failed_permanent", "failed_temporary", "skipped_uncertain")
OUTBOX_ADDRESS = "desk-pilkada@localhost"  # From/To of the data team's outbox copies


@dataclass
class Rendered:
    """Everything rendered for one week, by language and kab/kota, rendered on demand."""

    bulletins: dict[str, tuple[dict, RenderedBulletin]]
    annexes: dict[tuple[str, str], tuple[dict, RenderedBulletin]]


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
    return render_bulletin(ctx, with_pdf=True)


@task(name="write-bulletin-files", cache_policy=NO_CACHE)
def write_files(bulletin: RenderedBulletin, outbox: Path, week: str) -> dict[str, str]:
    """The browsable copy for the data team: .html (+ images), .txt, .pdf and the .eml."""
    message = build_message(bulletin, OUTBOX_ADDRESS, [OUTBOX_ADDRESS])
    return {k: str(v) for k, v in write_outbox(outbox / "bulletin" / week, bulletin,
                                               message).items()}


@task(name="compose-letters", cache_policy=NO_CACHE)
def compose_letters(settings: Settings, week: str, first: tuple[dict, RenderedBulletin],
                    lang: str) -> list[Letter]:
    """Per-recipient messages: the bulletin in each recipient's language and each desk's annex."""
    with connect(settings.warehouse, read_only=True) as con:
        codes = {c for (c,) in con.execute("SELECT kabkota_code FROM ref.kabkota").fetchall()}
        recipients = load_recipients(settings.recipients, codes)
        cache = Rendered({lang: first}, {})

        def bulletin(lg: str) -> tuple[dict, RenderedBulletin]:
            if lg not in cache.bulletins:
                ctx = bulletin_context(con, week, lg)
                cache.bulletins[lg] = (ctx, render_bulletin(ctx, with_pdf=True))
            return cache.bulletins[lg]

        def annex(code: str, lg: str) -> tuple[dict, RenderedBulletin]:
            if (code, lg) not in cache.annexes:
                actx = annex_context(con, week, code, lg)
                rendered = render_annex(actx, with_pdf=True)
                write_outbox(settings.outbox / "annex" / week / code, rendered,
                             build_message(rendered, OUTBOX_ADDRESS, [OUTBOX_ADDRESS]))
                cache.annexes[code, lg] = (actx, rendered)
            return cache.annexes[code, lg]

        sender = settings.smtp.sender if settings.smtp else OUTBOX_ADDRESS
        return compose(week, recipients, sender, bulletin, annex,
                       lambda code: feedback_files(con, settings.outbox, week, code))


def _transport(settings: Settings) -> OutboxTransport | SmtpTransport:
    return SmtpTransport(settings.smtp) if settings.smtp else OutboxTransport(settings.outbox)


@task(name="send-letters", cache_policy=NO_CACHE)
def send_letters(settings: Settings, letters: list[Letter], resend: bool,
                 run_id: str) -> list[Outcome]:
    """Deliver under the warehouse lock, since every attempt is written to the delivery log."""
    with exclusive(settings.lock_path, "Pengiriman buletin", wait_seconds=BULLETIN_LOCK_WAIT), \
            connect(settings.warehouse) as con:
        outcomes = deliver(con, letters, _transport(settings), run_id, resend=resend)
        failed = [o for o in outcomes if o.status in FAILED]
        if failed:
            team = [o.letter.recipient for o in outcomes if o.letter.kind == "bulletin"
                    and o.letter.recipient.role == "data_team"]
            text, reports = failure_report(letters[0].week, failed, team,
                                           letters[0].message["From"], run_id)
            folder = settings.outbox / "reports" / letters[0].week
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"pengiriman-{run_id}.txt").write_text(text, encoding="utf-8")
            outcomes += deliver(con, reports, _transport(settings), run_id)
    return outcomes


def _plan_rows(letters: list[Letter]) -> list[dict[str, Any]]:
    return [{"penerima": f"{x.recipient.name} <{x.recipient.email}>", "peran": x.recipient.role,
             "pesan": x.kind, "kab/kota": x.kabkota_code or "", "bahasa": x.lang,
             "subjek": x.message["Subject"],
             "lampiran": ", ".join(p.get_filename() for p in x.message.iter_attachments())}
            for x in letters]


@flow(name="weekly-bulletin", log_prints=True)
def weekly_bulletin(week: str | None = None, lang: str = "id", send: bool = False,
                    dry_run: bool = False, resend: bool = False) -> dict:
    """Render the bulletin of `week` (default: the week that has just ended, WITA) into the
    outbox; with `send`, deliver it to the recipients registry exactly once (SMTP when
    configured, else .eml files in the outbox); with `dry_run`, show who would get what."""
    week = week or last_completed_week()
    parse_week(week)
    settings = load_settings()
    build_marts(settings.warehouse, settings.lock_path)
    ctx = gather(settings.warehouse, settings.lock_path, week, lang)
    bulletin = render(ctx)
    paths = write_files(bulletin, settings.outbox, week)
    result: dict[str, Any] = {"week": week, "counts": ctx["counts"], **paths}
    if send or dry_run:
        letters = compose_letters(settings, week, (ctx, bulletin), lang)
        result["plan"] = _plan_rows(letters)
        if dry_run:
            create_table_artifact(key="bulletin-plan", table=result["plan"],
                                  description=f"Rencana pengiriman minggu {week} (tidak dikirim)")
        else:
            outcomes = send_letters(settings, letters, resend, run_id_now())
            result["deliveries"] = [
                {"penerima": o.letter.recipient.email, "pesan": o.letter.kind,
                 "kab/kota": o.letter.kabkota_code or "", "status": o.status,
                 "percobaan": o.attempts, "keterangan": o.error or o.response}
                for o in outcomes]
            create_table_artifact(key="bulletin-delivery", table=result["deliveries"],
                                  description=f"Pengiriman buletin minggu {week}")
    from tasks.artifacts import bulletin_summary  # the note's wording lives with the others

    create_markdown_artifact(
        key="weekly-bulletin",
        markdown=bulletin_summary(ctx, paths, result, bulletin.subject),
        description=f"Buletin minggu {week}",
    )
    print(f"Buletin {week} ({lang}) ditulis ke {paths['html']}")
    return result
