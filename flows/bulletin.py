"""Flow `weekly-bulletin`: marts → render → deliver, for one reporting week.

A delivery that did not reach everyone fails the run (state Failed, with a message saying how
many and why) after its artifacts and failure report are written, so a Monday bulletin that
reached nobody never shows green. The warehouse lock is held only while the warehouse is read
or written (marts, figures, the reads behind the letters, each delivery-log write), never while
rendering or waiting on an SMTP server, so an hourly ingest is not refused during a delivery.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from threading import Lock
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.states import Failed, State

from flows import warm_start
from reports.charts import Chart
from reports.outbox import write_outbox
from reports.render import (
    ChartJob,
    Drawer,
    RenderedBulletin,
    build_message,
    draw_chart,
    draw_here,
    render_annex,
    render_bulletin,
)
from tasks.config import Settings, load_settings
from tasks.ingest.judge import run_id_now
from tasks.ingest.summary import OVERDUE_KEY, bulletin_summary, no_overdue, overdue_rows
from tasks.publish.bulletin_data import annex_context, bulletin_context
from tasks.publish.delivery import (
    RETRY_DELAYS,
    DeliveryIncomplete,
    Letter,
    OutboxTransport,
    Outcome,
    SmtpTransport,
    deliver,
    only_temporary,
    settle,
    warehouse_log,
)
from tasks.publish.letters import FAILED, compose, failure_report, failure_summary, feedback_files
from tasks.publish.recipients import load_recipients
from tasks.runlog import route_project_logs
from tasks.warehouse.database import connect, migrate, sql
from tasks.warehouse.lock import exclusive
from tasks.weeks import last_completed_week, parse_week

route_project_logs()  # the steps' own warnings reach the run's logs (tasks/runlog.py)

BULLETIN_LOCK_WAIT = 900  # seconds: an hourly ingest finishes well within this
# One pass over the letters, per Prefect attempt: a backstop above the SMTP timeouts (10 s to
# reach the server, 30 s per reply) and a lock wait behind an ingest; 23 letters take seconds.
SEND_TIMEOUT = 1200
REPORT_TIMEOUT = 120  # the failure report: a few letters, one attempt
OUTBOX_ADDRESS = "desk-pilkada@localhost"  # From/To of the data team's outbox copies
ANNEX_PROCESSES = 2  # annexes rendered at once by a warm run (the machine's two cores)


class DeliveryFailed(Exception):
    """The bulletin was rendered but not delivered to everyone; carries the flow's result (what
    was delivered, where the report is) for the command line to show."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message)
        self.result = result

    def __reduce__(self) -> tuple[Any, ...]:
        return (DeliveryFailed, (str(self), self.result))


@task(name="build-marts", cache_policy=NO_CACHE)
def build_marts(warehouse: Path, lock: Path) -> None:
    """Marts are views: (re)creating them from sql/ when it changed makes the bulletin use the
    current SQL. Waits for a running ingest (same lock) instead of failing on DuckDB's file lock."""
    with exclusive(lock, "Pembuatan buletin", wait_seconds=BULLETIN_LOCK_WAIT), \
            connect(warehouse) as con:
        migrate(con)


@task(name="gather-figures", cache_policy=NO_CACHE)
def gather(warehouse: Path, lock: Path, week: str, lang: str) -> dict:
    with exclusive(lock, "Pembuatan buletin", wait_seconds=BULLETIN_LOCK_WAIT), \
            connect(warehouse, read_only=True) as con:
        return bulletin_context(con, week, lang)


@task(name="overdue-follow-ups", cache_policy=NO_CACHE)
def overdue_follow_ups(warehouse: Path, lock: Path, week: str) -> list[dict[str, Any]]:
    """The week's overdue follow-ups (sql/queries/tindak_lanjut_terlambat.sql), as the table the
    data team reads on Monday; a warning names how many, so they show in the run's log too."""
    with exclusive(lock, "Pembuatan buletin", wait_seconds=BULLETIN_LOCK_WAIT), \
            connect(warehouse, read_only=True) as con:
        cur = con.execute(sql("queries/tindak_lanjut_terlambat.sql"), {"week": week})
        cols = [d[0] for d in cur.description]
        found = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    logger = get_run_logger()
    if found:
        logger.warning("Tindak lanjut terlambat minggu %s: %d (%d tidak lagi dicantumkan "
                       "pengirimnya); daftar di artifact %s.", week, len(found),
                       sum(r["hilang_dari_laporan"] for r in found), OVERDUE_KEY)
    else:
        logger.info("Tindak lanjut terlambat minggu %s: tidak ada.", week)
    return overdue_rows(found)


def publish_overdue(week: str, rows: list[dict[str, Any]]) -> None:
    """The `tindak-lanjut-terlambat` artifact: the table, or a note that there are none (an
    empty table would look like a step that did not run)."""
    if rows:
        create_table_artifact(key=OVERDUE_KEY, table=rows,
                              description=f"{len(rows)} tindak lanjut terlambat minggu {week} "
                                          "(terlama lebih dulu)")
    else:
        create_markdown_artifact(key=OVERDUE_KEY, markdown=no_overdue(week),
                                 description=f"Tidak ada tindak lanjut terlambat minggu {week}")


@task(name="render-bulletin", cache_policy=NO_CACHE)
def render(ctx: dict) -> RenderedBulletin:
    return render_bulletin(ctx, with_pdf=True, draw=_drawer())


def _drawer() -> Drawer:
    """How this run draws a bulletin's charts: in a run forked by `pilkada warm-start`, spread
    over processes (`_draw_in_starter`); otherwise here, one after another."""
    if not warm_start.warm_started():
        return draw_here
    logger = get_run_logger()  # the run's logger, for the drawing threads (no run context)

    def draw(jobs: dict[str, ChartJob]) -> dict[str, Chart]:
        return _draw_in_starter(jobs, logger)

    return draw


def _draw_in_starter(jobs: dict[str, ChartJob], logger: Any) -> dict[str, Chart]:
    """Every chart but the last in a child of the starter, the last here meanwhile: matplotlib
    holds the GIL, so threads would draw them one after another (Kaltim's three: 0.5 s in one
    process). A chart the starter cannot draw is drawn here, with a warning."""
    def forked(name: str) -> Chart | None:
        try:
            return warm_start.call("draw", jobs[name])[0]
        except warm_start.Unavailable as exc:
            logger.warning("Grafik %s digambar di proses flow: %s", name, exc)
            return None

    if len(jobs) < 2:
        return draw_here(jobs)
    *away, here = jobs
    with ThreadPoolExecutor(len(away)) as pool:
        futures = {name: pool.submit(forked, name) for name in away}
        drawn = {here: draw_chart(jobs[here])}
        for name, future in futures.items():
            drawn[name] = future.result() or draw_chart(jobs[name])
    return {name: drawn[name] for name in jobs}


@task(name="write-bulletin-files", cache_policy=NO_CACHE)
def write_files(bulletin: RenderedBulletin, outbox: Path, week: str) -> dict[str, str]:
    """The browsable copy for the data team: .html (+ images), .txt, .pdf and the .eml."""
    message = build_message(bulletin, OUTBOX_ADDRESS, [OUTBOX_ADDRESS])
    return {k: str(v) for k, v in write_outbox(outbox / "bulletin" / week, bulletin,
                                               message).items()}


@task(name="compose-letters", cache_policy=NO_CACHE)
def compose_letters(settings: Settings, week: str, first: tuple[dict, RenderedBulletin],
                    lang: str) -> list[Letter]:
    """Per-recipient messages: the bulletin in each recipient's language, each kab/kota desk's
    annex, and the provincial desk's feedback on the files it sent under the province code.

    Everything the letters need from the warehouse is read first, under the lock (DuckDB lets no
    reader in while an ingest writes); the rendering (a PDF takes about a second each) happens
    after the lock is released, the annexes at once in a warm run (`_render_annexes`). A
    language or annex nobody receives is neither read nor drawn.
    """
    with exclusive(settings.lock_path, "Pembuatan buletin", wait_seconds=BULLETIN_LOCK_WAIT), \
            connect(settings.warehouse, read_only=True) as con:
        codes = {c for (c,) in con.execute("SELECT kabkota_code FROM ref.kabkota").fetchall()}
        provinces = {c for (c,) in con.execute("SELECT provinsi_code FROM ref.provinsi")
                     .fetchall()}
        recipients = load_recipients(settings.recipients, codes, provinces)
        contexts = {lg: bulletin_context(con, week, lg)
                    for lg in {r.lang for r in recipients} - {lang}}
        scopes = {(code, r.lang) for r in recipients if r.role == "kabkota" for code in r.scope}
        annex_contexts = {(code, lg): annex_context(con, week, code, lg) for code, lg in scopes}
        feedback = {code: feedback_files(con, settings.outbox, week, code)
                    for code in {code for r in recipients for code in r.scope}}
    bulletins: dict[str, tuple[dict, RenderedBulletin]] = {lang: first}
    annexes: dict[tuple[str, str], tuple[dict, RenderedBulletin]] = {}
    rendered_annexes = _render_annexes(annex_contexts, get_run_logger())

    def bulletin(lg: str) -> tuple[dict, RenderedBulletin]:
        if lg not in bulletins:
            bulletins[lg] = (contexts[lg], render_bulletin(contexts[lg], with_pdf=True,
                                                           draw=_drawer()))
        return bulletins[lg]

    def annex(code: str, lg: str) -> tuple[dict, RenderedBulletin]:
        if (code, lg) not in annexes:
            actx, rendered = annex_contexts[code, lg], rendered_annexes[code, lg]
            write_outbox(settings.outbox / "annex" / week / code, rendered,
                         build_message(rendered, OUTBOX_ADDRESS, [OUTBOX_ADDRESS]))
            annexes[code, lg] = (actx, rendered)
        return annexes[code, lg]

    sender = settings.smtp.sender if settings.smtp else OUTBOX_ADDRESS
    return compose(week, recipients, sender, bulletin, annex, feedback.__getitem__)


def _render_annexes(contexts: dict[tuple[str, str], dict],
                    logger: Any) -> dict[tuple[str, str], RenderedBulletin]:
    """Every desk's annex (HTML, text, PDF: about a second each). In a run forked by `pilkada
    warm-start`, `ANNEX_PROCESSES` at a time in children of the starter (WeasyPrint holds the
    GIL: threads here would render them in turn); an annex the starter cannot render is rendered
    here, with a warning. Otherwise here, one after another."""
    if not warm_start.warm_started() or len(contexts) < 2:
        return {key: render_annex(actx, with_pdf=True) for key, actx in contexts.items()}
    here = Lock()  # a fallback renders in this process, one at a time

    def one(key: tuple[str, str]) -> RenderedBulletin:
        try:
            return warm_start.call("annex", contexts[key], True)[0]
        except warm_start.Unavailable as exc:
            logger.warning("Lampiran %s (%s) dibuat di proses flow: %s", *key, exc)
            with here:
                return render_annex(contexts[key], with_pdf=True)

    with ThreadPoolExecutor(ANNEX_PROCESSES) as pool:
        return dict(zip(contexts, pool.map(one, contexts), strict=True))


def _transport(settings: Settings) -> OutboxTransport | SmtpTransport:
    return SmtpTransport(settings.smtp) if settings.smtp else OutboxTransport(settings.outbox)


@task(name="send-letters", cache_policy=NO_CACHE, retries=len(RETRY_DELAYS),
      retry_delay_seconds=list(RETRY_DELAYS), retry_condition_fn=only_temporary,
      timeout_seconds=SEND_TIMEOUT)
def send_letters(settings: Settings, letters: list[Letter], resend: bool,
                 run_id: str) -> list[Outcome]:
    """One pass over the letters; while some failed temporarily, raise so that Prefect retries
    the pass after 5, 30 and 60 s (the log makes a retry skip what this run already sent and
    what failed permanently). Each log write takes the warehouse lock for that write only."""
    outcomes = deliver(warehouse_log(settings.warehouse, settings.lock_path, BULLETIN_LOCK_WAIT),
                       letters, _transport(settings), run_id, resend=resend,
                       logger=get_run_logger())
    temporary = [o for o in outcomes if o.status == "failed_temporary"]
    if temporary:
        raise DeliveryIncomplete.of(temporary)
    return outcomes


@task(name="settle-deliveries", cache_policy=NO_CACHE)
def settle_deliveries(settings: Settings, letters: list[Letter], resend: bool,
                      run_id: str) -> list[Outcome]:
    """The outcome of each letter as the delivery log has it once sending is over, whatever
    ended the sending task (success, retries exhausted, a timeout, a lock)."""
    return settle(warehouse_log(settings.warehouse, settings.lock_path, BULLETIN_LOCK_WAIT),
                  letters, run_id, resend)


@task(name="report-failures", cache_policy=NO_CACHE, timeout_seconds=REPORT_TIMEOUT)
def report_failures(settings: Settings, week: str, outcomes: list[Outcome],
                    run_id: str) -> tuple[Path, list[Outcome]]:
    """Write the failure report to the outbox (always), then mail it to the data team, once and
    without retries: when the server is what failed, the file is the report that arrives."""
    failed = [o for o in outcomes if o.status in FAILED]
    team = [o.letter.recipient for o in outcomes if o.letter.kind == "bulletin"
            and o.letter.recipient.role == "data_team"]
    text, reports = failure_report(week, failed, team, outcomes[0].letter.message["From"],
                                   run_id)
    folder = settings.outbox / "reports" / week
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"pengiriman-{run_id}.txt"
    path.write_text(text, encoding="utf-8")
    logger = get_run_logger()
    logger.warning("laporan kegagalan pengiriman ditulis ke %s", path)
    sent = deliver(warehouse_log(settings.warehouse, settings.lock_path, BULLETIN_LOCK_WAIT),
                   reports, _transport(settings), run_id, logger=logger)
    return path, sent


def _plan_rows(letters: list[Letter]) -> list[dict[str, Any]]:
    return [{"penerima": f"{x.recipient.name} <{x.recipient.email}>", "peran": x.recipient.role,
             "pesan": x.kind, "kab/kota": x.kabkota_code or "", "bahasa": x.lang,
             "subjek": x.message["Subject"],
             "lampiran": ", ".join(p.get_filename() for p in x.message.iter_attachments())}
            for x in letters]


def _delivery_rows(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [{"penerima": o.letter.recipient.email, "pesan": o.letter.kind,
             "kab/kota": o.letter.kabkota_code or "", "status": o.status,
             "percobaan": o.attempts, "keterangan": o.error or o.response} for o in outcomes]


@flow(name="weekly-bulletin", log_prints=True)
def weekly_bulletin(week: str | None = None, lang: str = "id", send: bool = False,
                    dry_run: bool = False, resend: bool = False) -> dict | State:
    """Render the bulletin of `week` (default: the week that has just ended, WITA) into the
    outbox; with `send`, deliver it to the recipients registry exactly once (SMTP when
    configured, else .eml files in the outbox); with `dry_run`, show who would get what.

    Any message not delivered (failed permanently, failed temporarily after Prefect's retries,
    or of unknown fate) ends the run Failed with a message saying how many and why, once the
    artifacts and the failure report are written; calling the flow then raises
    `DeliveryFailed`, which carries the result.
    """
    warm_start.note_cold_start(get_run_logger())
    week = week or last_completed_week()
    parse_week(week)
    settings = load_settings()
    build_marts(settings.warehouse, settings.lock_path)
    ctx = gather(settings.warehouse, settings.lock_path, week, lang)
    overdue = overdue_follow_ups(settings.warehouse, settings.lock_path, week)
    publish_overdue(week, overdue)  # before rendering: the list is there even if that fails
    bulletin = render(ctx)
    paths = write_files(bulletin, settings.outbox, week)
    result: dict[str, Any] = {"week": week, "counts": ctx["counts"], **paths,
                              "tindak_lanjut_terlambat": len(overdue)}
    failure = None
    if send or dry_run:
        letters = compose_letters(settings, week, (ctx, bulletin), lang)
        result["plan"] = _plan_rows(letters)
        if dry_run:
            create_table_artifact(key="bulletin-plan", table=result["plan"],
                                  description=f"Rencana pengiriman minggu {week} (tidak dikirim)")
        else:
            run_id = run_id_now()
            sending = send_letters(settings, letters, resend, run_id, return_state=True)
            outcomes = settle_deliveries(settings, letters, resend, run_id)
            stopped = None
            if sending.is_failed():
                exc = sending.result(raise_on_failure=False)
                if not isinstance(exc, DeliveryIncomplete):
                    stopped = f"{type(exc).__name__}: {exc}"
            reported: list[Outcome] = []
            if stopped or any(o.status in FAILED for o in outcomes):
                path, reported = report_failures(settings, week, outcomes, run_id)
                failure = failure_summary(week, outcomes, path, reported, stopped)
                result["failure"] = failure
                result["report"] = str(path)
            result["deliveries"] = _delivery_rows(outcomes + reported)
            create_table_artifact(key="bulletin-delivery", table=result["deliveries"],
                                  description=f"Pengiriman buletin minggu {week}")
    create_markdown_artifact(
        key="weekly-bulletin",
        markdown=(bulletin_summary(ctx, paths, result, bulletin.subject)
                  + (f"\n**Pengiriman gagal.** {failure}\n" if failure else "")),
        description=f"Buletin minggu {week}",
    )
    print(f"Buletin {week} ({lang}) ditulis ke {paths['html']}")
    if failure:
        get_run_logger().error(failure)
        return Failed(message=failure, data=DeliveryFailed(failure, result))
    return result
