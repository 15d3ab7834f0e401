"""`pilkada`, the command line (architecture §8). Exit codes: 0 success, 1 failed, 2 bad usage.

User mistakes (a bad week label, a missing warehouse, a refused query) end with a one-line
message that says what to do, not a traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from tasks.config import Settings

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")  # Prefect's client-side analytics

app = typer.Typer(help="Siaga Pilkada: kesiapan Pilkada mingguan (Desk Pilkada Kaltim).",
                  no_args_is_help=True, pretty_exceptions_enable=False)
out = Console()
err = Console(stderr=True)

# What each flow-running command imports while a temporary Prefect server boots (one_off_api).
INGEST_MODULES = ("great_expectations", "flows.ingest")
BULLETIN_MODULES = ("weasyprint", "matplotlib.pyplot", "flows.bulletin")

DEMO_WEEKS = "2024-W40:2024-W48"
DEMO_BULLETIN_WEEK = "2024-W47"


class Lang(StrEnum):
    id = "id"
    en = "en"


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]Gagal:[/] {message}", soft_wrap=True)  # one line, even in a log
    return typer.Exit(code)


def _settings() -> Settings:
    """The settings, checked whole before a command acts: a bad value (a word where a number
    goes, an unknown province, a week that does not exist, a bad cron) ends in one line that
    names the variable, exit code 2, not a traceback deep in a run."""
    from tasks.config import load_settings
    from tasks.contract.regions import check_scope
    from tasks.weeks import check_calendar

    try:
        settings = load_settings()
        check_scope(settings.province)
        check_calendar(settings.calendar)
    except ValueError as exc:
        raise _fail(f"konfigurasi: {exc}", 2) from None
    return settings


@contextmanager
def _user_errors(check_warehouse: bool = True) -> Iterator[None]:
    """Mistakes a user can fix, and a warehouse that cannot be used, end in one line that says
    what to do, not a traceback.

    The flow commands enter this before their Prefect server starts, so with `check_warehouse`
    a damaged, cut-short or foreign-locked warehouse is reported here, before a flow run could
    write anything (archive, inbox, outbox). The same trouble met inside a run fails the run and
    ends in the same line (`WarehouseUnavailable`, or DuckDB's error on that file translated).
    """
    import duckdb

    from flows.prefect_server import ServerError
    from tasks.ingest.feedback import FeedbackIncomplete
    from tasks.publish.recipients import RegistryError
    from tasks.warehouse.database import WarehouseUnavailable, check_usable, unavailable
    from tasks.warehouse.lock import LockBusy

    settings = _settings()
    try:
        if check_warehouse:
            check_usable(settings.warehouse, settings.lock_path)
        yield
    except (LockBusy, FileNotFoundError, LookupError, RegistryError, ServerError,
            WarehouseUnavailable, FeedbackIncomplete) as exc:
        raise _fail(str(exc)) from exc
    except duckdb.Error as exc:
        problem = unavailable(settings.warehouse, exc)
        if problem is None:
            raise
        raise _fail(str(problem)) from exc
    except RuntimeError as exc:
        if "Failed to reach API" not in str(exc):
            raise
        raise _fail(f"Prefect API {os.environ.get('PREFECT_API_URL')} tidak dapat dihubungi. "
                    "Jalankan server Prefect itu, atau hapus PREFECT_API_URL agar flow berjalan "
                    "dengan server lokal sementara.") from exc
    except Exception as exc:
        bulletin = sys.modules.get("flows.bulletin")  # loaded by whatever raised DeliveryFailed
        if bulletin is None or not isinstance(exc, bulletin.DeliveryFailed):
            raise
        raise _fail(str(exc)) from exc  # a failed delivery's message says how many, why, where


def _warehouse_exists() -> None:

    warehouse = _settings().warehouse
    if not warehouse.exists():
        raise _fail(f"Gudang data {warehouse} belum ada; jalankan `pilkada ingest` dulu.")


def _weeks(spec: str) -> list[str]:
    from tasks.weeks import week_range

    first, _, last = spec.partition(":")
    try:
        return week_range(first, last or first)
    except ValueError as exc:
        raise _fail(str(exc), 2) from exc


@app.command()
def sample(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder tujuan (menjadi inbox).")],
    weeks: Annotated[str, typer.Option(help="Rentang minggu, mis. 2024-W40:2024-W48")] = DEMO_WEEKS,
    seed: Annotated[int, typer.Option(help="Benih acak; sama = file identik.")] = 2024,
    province: Annotated[str, typer.Option(
        help="Kode provinsi, atau 'all' untuk seluruh Indonesia.")] = "64",
) -> None:
    """Buat contoh kiriman kab/kota yang realistis (deterministik).

    Kaltim (64): sepuluh desk dengan cerita dan cacat yang terdokumentasi. Provinsi lain atau
    'all': generator kolom-demi-kolom untuk skala nasional (docs/sample-data.md).
    """
    from samples import kaltim as sample
    from samples import national as sample_national
    from tasks.contract.regions import KALTIM, check_scope

    try:
        scope = check_scope(province)
        if scope == KALTIM:
            files = sample.generate(out_dir, _weeks(weeks), seed=seed)
        else:
            files = sample_national.generate(out_dir, _weeks(weeks), seed=seed, scope=scope)
    except ValueError as exc:
        raise _fail(str(exc), 2) from exc
    out.print(f"{len(files)} file contoh ditulis ke {out_dir}")


@app.command()
def ingest(
    inbox: Annotated[str | None, typer.Option(help="Folder atau URL fsspec.")] = None,
) -> None:
    """Tarik, validasi, dan muat semua kiriman baru dari inbox."""
    from flows.prefect_server import one_off_api

    with _user_errors():
        if _idle(inbox):
            return
        from flows.ingest import ingest_submissions

        with one_off_api(*INGEST_MODULES):
            counts = ingest_submissions(inbox=inbox)
    out.print(f"Ingest selesai: {counts}")


def _idle(inbox: str | None = None) -> bool:
    """Whether the ingest has nothing to do (`tasks/ingest/idle.py`), said in two lines if so:
    decided before Prefect and GX are imported, so an hourly command with nothing new takes a
    moment."""
    from dataclasses import replace

    from tasks.config import load_settings
    from tasks.ingest.idle import nothing_to_ingest

    settings = load_settings()
    why = nothing_to_ingest(replace(settings, inbox=inbox) if inbox else settings)
    if why is not None:
        out.print(why)
        out.print("Ingest selesai: {'files': 0}")
    return why is not None


@app.command()
def bulletin(
    week: Annotated[str | None, typer.Option(help="Minggu laporan, mis. 2024-W47.")] = None,
    lang: Annotated[Lang, typer.Option(help="Bahasa buletin.")] = Lang.id,
    send: Annotated[bool, typer.Option(
        "--send", help="Kirim ke daftar penerima (SMTP bila diatur, selain itu outbox).")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Buat semuanya, tampilkan siapa menerima apa, tanpa mengirim.")] = False,
    resend: Annotated[bool, typer.Option(
        "--resend", help="Kirim lagi walau penerima sudah menerima minggu ini.")] = False,
) -> None:
    """Buat buletin mingguan ke outbox; kirim ke penerima dengan --send (tepat sekali).

    Kode keluar 1 bila ada pesan yang tidak terkirim atau hasilnya tidak diketahui.
    """
    from flows.bulletin import DeliveryFailed, weekly_bulletin
    from flows.prefect_server import one_off_api

    if week:
        _weeks(week)
    _warehouse_exists()
    with _user_errors(), one_off_api(*BULLETIN_MODULES):
        try:
            result = weekly_bulletin(week=week, lang=lang.value, send=send, dry_run=dry_run,
                                     resend=resend)
        except DeliveryFailed as exc:  # reported below, once the Prefect server is stopped
            result = exc.result
    _report_bulletin(result, dry_run)


@app.command()
def run(
    week: Annotated[str | None, typer.Option(help="Minggu buletin, mis. 2024-W47.")] = None,
    lang: Annotated[Lang, typer.Option(help="Bahasa buletin.")] = Lang.id,
    send: Annotated[bool, typer.Option(
        "--send", help="Kirim ke daftar penerima (SMTP bila diatur, selain itu outbox).")] = False,
) -> None:
    """Ingest lalu buletin dalam satu proses (rutinitas Senin pagi; Prefect dimulai sekali).

    Kode keluar 1 bila ada pesan yang tidak terkirim atau hasilnya tidak diketahui.
    """
    from flows.prefect_server import one_off_api

    if week:
        _weeks(week)
    with _user_errors():
        idle = _idle()
        with one_off_api(*(() if idle else INGEST_MODULES), *BULLETIN_MODULES):
            from flows.bulletin import DeliveryFailed, weekly_bulletin

            if not idle:
                from flows.ingest import ingest_submissions

                out.print(f"Ingest selesai: {ingest_submissions()}")
            try:
                result = weekly_bulletin(week=week, lang=lang.value, send=send)
            except DeliveryFailed as exc:  # reported below, once the Prefect server is stopped
                result = exc.result
    _report_bulletin(result, dry_run=False)


def _report_bulletin(result: dict, dry_run: bool) -> None:
    """Show what was written and delivered; a failed delivery ends the command with exit 1 and
    the flow's own failure message, which says where the report went (written to the outbox,
    mailed to the data team or not), never more than what happened."""
    out.print(f"Buletin: {result['html']}\nEmail (.eml): {result['eml']}")
    if "plan" in result:
        _print_rows(f"{'Rencana' if dry_run else 'Pengiriman'} minggu {result['week']}",
                    result.get("deliveries") or result["plan"])
    if result.get("failure"):
        from rich.markup import escape

        raise _fail(escape(result["failure"]))


def _print_rows(title: str, rows: list[dict]) -> None:
    table = Table(title=title)
    for col in rows[0] if rows else []:
        table.add_column(col)
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    out.print(table)


@app.command()
def backfill(
    from_week: Annotated[str, typer.Option("--from", help="Minggu awal, mis. 2024-W40.")],
    to_week: Annotated[str, typer.Option("--to", help="Minggu akhir, mis. 2024-W48.")],
    lang: Annotated[Lang, typer.Option(help="Bahasa buletin.")] = Lang.id,
) -> None:
    """Buat ulang buletin untuk setiap minggu dalam rentang (satu run per minggu).

    Minggu yang gagal tidak menghentikan minggu berikutnya; ringkasan di akhir, kode keluar 1
    bila ada minggu yang gagal. Buletin tidak dikirim ke penerima (pakai `bulletin --send`).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from flows.bulletin import weekly_bulletin
    from flows.prefect_server import one_off_api

    weeks = _weeks(f"{from_week}:{to_week}")
    _warehouse_exists()
    done: list[tuple[str, dict | None, str]] = []  # (week, result or None, why it failed)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with _user_errors(), one_off_api(*BULLETIN_MODULES), \
            Progress(*columns, console=out) as progress:
        bar = progress.add_task("Backfill buletin", total=len(weeks))
        for w in weeks:
            progress.update(bar, description=f"Buletin {w}")
            try:
                done.append((w, weekly_bulletin(week=w, lang=lang.value), ""))
            except LookupError as exc:
                done.append((w, None, str(exc)))
            except Exception as exc:
                done.append((w, None, f"{type(exc).__name__}: {exc}"))
            progress.advance(bar)
        progress.update(bar, description="Backfill buletin")
    table = Table(title=f"Backfill {weeks[0]} – {weeks[-1]} ({lang.value})")
    for c in ("Minggu", "Hasil", "Siap", "Waspada", "Kritis", "Buletin / alasan"):
        table.add_column(c)
    for w, result, why in done:
        if result is None:
            table.add_row(w, "[red]gagal[/]", "-", "-", "-", why)
        else:
            n = result.get("counts", {})
            table.add_row(w, "[green]ok[/]", *(str(n.get(s, 0)) for s in
                                                 ("Siap", "Waspada", "Kritis")), result["html"])
    out.print(table)
    failed = [w for w, result, _ in done if result is None]
    out.print(f"{len(weeks)} minggu: {len(weeks) - len(failed)} berhasil, {len(failed)} gagal.")
    if failed:
        raise _fail(f"buletin gagal untuk {', '.join(failed)}; perbaiki penyebabnya (lihat tabel) "
                    f"lalu ulangi minggu itu saja, mis. `pilkada backfill --from {failed[0]} "
                    f"--to {failed[0]}`.")


@app.command()
def status(week: Annotated[str | None, typer.Option(help="Minggu, mis. 2024-W47.")] = None) -> None:
    """Siapa sudah mengirim, terlambat, belum mengirim, dan yang ditolak (kab/kota dan desk
    provinsi; tindak lanjut tidak wajib, tidak dihitung sebagai belum ada)."""
    import duckdb

    from tasks.warehouse.database import WarehouseUnavailable, snapshot_path, sql, unavailable
    from tasks.warehouse.query import QueryRefused, open_read_only
    from tasks.weeks import last_completed_week

    week = week or last_completed_week()
    _weeks(week)
    warehouse = _settings().warehouse
    try:
        con = open_read_only(warehouse)  # the snapshot: a status never holds up an ingest
    except (QueryRefused, WarehouseUnavailable) as exc:
        raise _fail(str(exc)) from exc
    with con:
        try:
            rows = con.execute(sql("queries/status_week.sql"), {"week": week}).fetchall()
            skipped = con.execute(sql("queries/inbox_skipped.sql")).fetchall()
        except duckdb.Error as exc:
            problem = unavailable(snapshot_path(warehouse), exc)
            raise _fail(str(problem) if problem else f"Gudang data {warehouse} belum lengkap "
                        f"({exc}); jalankan `pilkada ingest` dulu.") from exc
    table = Table(title=f"Status kiriman minggu {week}")
    for c in ("Pengirim", "Jenis", "Keadaan", "Versi", "Verdict", "Baris ditandai", "Ditolak"):
        table.add_column(c)
    # tidak_wajib: an optional kind (tindak_lanjut) not sent, which is not a missing report
    style = {"belum_ada": "red", "terlambat": "yellow", "tepat_waktu": "green",
             "tidak_wajib": "dim"}
    for code, name, kind, keadaan, version, verdict, flagged, rejected, _ in rows:
        table.add_row(f"{code} {name}", kind, f"[{style[keadaan]}]{keadaan}[/]",
                      str(version or "-"), verdict or "-", str(flagged or 0), str(rejected))
    out.print(table)
    owed = [r for r in rows if r[8]]
    n = {k: sum(1 for r in owed if r[3] == k) for k in style}
    optional = sum(1 for r in rows if not r[8] and r[3] != "tidak_wajib")
    out.print(f"Minggu {week}: {n['tepat_waktu']} tepat waktu, {n['terlambat']} terlambat, "
              f"{n['belum_ada']} belum ada (dari {len(owed)} kiriman wajib); "
              f"{sum(r[7] for r in rows)} file ditolak; {optional} kiriman tidak wajib "
              "(tindak lanjut) diterima.")
    if skipped:
        out.print(f"\n[yellow]{len(skipped)} benda di folder masuk bukan kiriman "
                  "(tidak dibaca):[/]")
        for path, kind, reason, _ in skipped:
            out.print(f"- {path} ({kind}): {reason}", markup=False, highlight=False)


@app.command()
def serve(
    port: Annotated[int, typer.Option(
        min=1, max=65535, help="Port server Prefect lokal (bila PREFECT_API_URL tidak diatur).")
    ] = 4200,
    send: Annotated[bool, typer.Option(
        "--send", help="Buletin terjadwal juga dikirim ke penerima (SMTP bila diatur, selain "
                       "itu .eml di outbox).")] = False,
) -> None:
    """Jadwal berjalan di mesin ini: ingest tiap jam 06:00–22:00 WITA, buletin Senin 07:00 WITA.

    Memakai server Prefect di PREFECT_API_URL bila diatur; bila tidak, menyalakan server lokal di
    127.0.0.1 (data di PREFECT_HOME, bawaan <folder gudang data>/prefect, database yang sama
    dengan perintah sekali jalan) dan mematikannya lagi saat berhenti. Memasang alert webhook
    (config/automations.yaml) bila PILKADA_ALERT_WEBHOOK_URL diatur.
    Berhenti dengan Ctrl-C (atau SIGTERM); jadwal dijeda sampai `serve` berikutnya.
    """
    from flows import alerts, prefect_server
    from flows import deployments as dep

    home = prefect_server.prefect_home()
    local = False
    try:
        with prefect_server.prefect_api(home, port) as api:
            local = api.local is not None
            source = f"server lokal, data dan log di {home}" if local else "PREFECT_API_URL"
            out.print(f"Prefect UI: [bold]{api.ui_url}[/]  (API {api.api_url}; {source})")
            table = Table(title=f"Deployment terjadwal (zona waktu {dep.TIMEZONE}, WITA)")
            for c in ("Deployment", "Cron", "Kapan"):
                table.add_column(c)
            table.add_row(dep.INGEST_NAME, dep.INGEST_CRON, "tiap jam 06:00–22:00 WITA")
            table.add_row(dep.BULLETIN_NAME, dep.BULLETIN_CRON,
                          "Senin 07:00 WITA, minggu yang baru berakhir"
                          + (", dikirim ke penerima" if send else ", ke outbox"))
            out.print(table)
            out.print(f"Jalankan sekarang dari shell lain: `PREFECT_API_URL={api.api_url} uv run "
                      f"prefect deployment run '{dep.BULLETIN_NAME}' -p week=2024-W47`.")
            # Alerts before the deployments: the rules match runs by flow and deployment name,
            # so they hold from the first run on. One line says whether anyone will be told.
            out.print(alerts.install(api.ui_url).line(), soft_wrap=True, highlight=False)
            out.print("Berhenti: Ctrl-C (jadwal dijeda sampai `pilkada serve` berikutnya).")
            dep.serve(send=send)
    except (prefect_server.ServerError, alerts.AlertConfigError) as exc:
        raise _fail(str(exc)) from exc
    except KeyboardInterrupt:
        pass
    except Exception as exc:
        cause: BaseException = exc
        while isinstance(cause, BaseExceptionGroup) and len(cause.exceptions) == 1:
            cause = cause.exceptions[0]
        raise _fail(f"serve berhenti karena galat: {type(cause).__name__}: {cause}. Periksa "
                    "server Prefect (dan PREFECT_API_URL), lalu jalankan `pilkada serve` lagi."
                    ) from exc
    out.print("Serve berhenti; jadwal dijeda" + (" dan server lokal dimatikan." if local else "."))


@app.command("warm-start")
def warm_start() -> None:
    """Proses hangat untuk worker Prefect: memuat pipeline sekali, lalu tiap flow run dari worker
    (perintah `pilkada-flow-run` di prefect.yaml) dimulai dari proses ini tanpa memuat ulang
    Prefect, Great Expectations, WeasyPrint dan matplotlib (~3,5 detik per run).

    Jalankan di mesin gudang data, pengguna yang sama dengan worker; socket di
    PILKADA_WARM_SOCKET (bawaan $XDG_RUNTIME_DIR atau /tmp, folder pribadi). Bila proses ini
    mati atau kode di checkout berubah, run dimulai dingin seperti biasa (tertulis di log run).
    Berhenti dengan Ctrl-C atau SIGTERM; run yang sedang berjalan dibiarkan selesai.
    """
    from flows import warm_start as ws

    ws.serve()


@app.command()
def query(
    sql_text: Annotated[str, typer.Argument(metavar="SQL", help="Kueri SQL (hanya-baca).")],
    format: Annotated[Format, typer.Option(help="table, csv, atau json.")] = Format.table,
    timeout: Annotated[float | None, typer.Option(
        "--timeout", metavar="DETIK",
        help="Batas waktu kueri (bawaan: PILKADA_QUERY_TIMEOUT, atau 60).")] = None,
    memory_limit: Annotated[str | None, typer.Option(
        "--memory-limit", metavar="UKURAN",
        help="Batas memori DuckDB, mis. 512MB atau 2GB (bawaan: PILKADA_QUERY_MEMORY, atau "
             "1GB).")] = None,
    max_rows: Annotated[int | None, typer.Option(
        "--max-rows", metavar="N",
        help="Baris hasil paling banyak (bawaan: PILKADA_QUERY_MAX_ROWS, atau 100000).")] = None,
) -> None:
    """Kueri ad hoc hanya-baca ke snapshot gudang data, dengan batas waktu, memori dan baris."""
    import duckdb

    from tasks.warehouse.database import WarehouseUnavailable
    from tasks.warehouse.query import (
        QueryLimits,
        QueryRefused,
        run_query,
        to_csv,
        to_json,
        truncation_note,
    )

    warehouse = _settings().warehouse
    try:
        limits = QueryLimits.from_env(timeout=timeout, memory=memory_limit, max_rows=max_rows)
    except ValueError as exc:
        raise _fail(str(exc), 2) from exc
    try:
        result = run_query(warehouse, sql_text, limits)
    except (QueryRefused, WarehouseUnavailable) as exc:
        raise _fail(str(exc), 1) from exc
    except duckdb.Error as exc:
        raise _fail(f"Kueri tidak valid: {exc}", 2) from exc
    cols, rows = result
    if format is Format.csv:
        typer.echo(to_csv(cols, rows), nl=False)
    elif format is Format.json:
        typer.echo(to_json(cols, rows))
    else:
        table = Table(*cols)
        for r in rows:
            table.add_row(*("" if v is None else str(v) for v in r))
        out.print(table)
    if result.truncated:  # on stderr, so a CSV or JSON on stdout stays whole
        err.print(truncation_note(limits), soft_wrap=True)


@app.command()
def template(
    week: Annotated[str, typer.Option(help="Minggu laporan, mis. 2024-W47.")],
    kabkota: Annotated[str | None, typer.Option(
        help="Kode kab/kota, mis. 6402, atau kode provinsi (64) untuk desk provinsi.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Semua kab/kota dan desk provinsi.")] = False,
) -> None:
    """Buat templat XLSX terisi untuk desk kab/kota dan desk provinsi di
    outbox/templates/<minggu>/."""
    import duckdb

    from reports.workbook_template import build_all, build_template
    from tasks.warehouse.database import WarehouseUnavailable
    from tasks.warehouse.query import QueryRefused, open_read_only
    from tasks.weeks import deadline

    _weeks(week)
    if bool(kabkota) == all_:
        raise _fail("pilih salah satu: --kabkota KODE atau --all", 2)
    s = _settings()
    out_dir = s.outbox / "templates" / week
    due = deadline(week, s.deadline_weekday, s.deadline_time)
    try:
        con = open_read_only(s.warehouse)
    except QueryRefused:
        con = None  # no warehouse yet: reference data only, nothing to carry forward
    except WarehouseUnavailable as exc:
        raise _fail(str(exc)) from exc
    try:
        paths = (build_all(week, out_dir, con, due=due, scope=s.province) if all_
                 else [build_template(kabkota, week, out_dir, con, due=due)])
    except ValueError as exc:
        raise _fail(str(exc), 2) from exc
    except duckdb.Error as exc:
        raise _fail(f"Gudang data belum lengkap ({exc}); jalankan `pilkada ingest` dulu.") from exc
    finally:
        if con is not None:
            con.close()
    for p in paths:
        out.print(str(p))


@app.command()
def demo(
    week: Annotated[str, typer.Option(help="Minggu buletin demo.")] = DEMO_BULLETIN_WEEK,
    mail: Annotated[bool, typer.Option(
        "--mail", help="Tunjukkan juga jalur surel: server IMAP lokal (Dovecot), satu desk "
                       "mengirim buku kerja sekali, balasan di utas yang sama ke outbox.")] = False,
) -> None:
    """Contoh data → ingest → buletin ke outbox; menampilkan lokasi buletin."""
    # The sample is a recorded campaign: replay it on the files' own clock, so lateness in the
    # demo tells its story (docs/operations.md, "Replaying a campaign").
    os.environ.setdefault("PILKADA_ARRIVAL", "mtime")
    from flows.bulletin import weekly_bulletin
    from flows.ingest import ingest_submissions
    from flows.prefect_server import one_off_api
    from samples.kaltim import generate

    settings = _settings()
    inbox = Path(settings.inbox)
    if not any(inbox.glob("*/*")):
        files = generate(inbox, _weeks(DEMO_WEEKS))
        out.print(f"{len(files)} file contoh ditulis ke {inbox}")
    with _user_errors(), one_off_api(*INGEST_MODULES, *BULLETIN_MODULES):
        counts = ingest_submissions(inbox=str(inbox))
        out.print(f"Ingest: {counts}")
        result = weekly_bulletin(week=week, lang="id", send=True)
    out.print(f"\n[bold green]Buletin minggu {week} siap:[/] {result['html']}")
    out.print(f"Email (.eml): {result['eml']}")
    out.print(f"Status: {result['counts']}")
    sent: dict[str, int] = {}
    for d in result.get("deliveries", []):
        sent[d["status"]] = sent.get(d["status"], 0) + 1
    out.print(f"Pengiriman ke penerima ({settings.outbox / 'mail' / week}): {sent}")
    if mail:
        _demo_mail(DEMO_WEEKS.split(":")[1])


DEMO_DESK = "6402"


def _demo_mail(after: str) -> None:
    """The mail path on a throwaway Dovecot: the desk mails its prefilled workbook for the week
    after the sample once, a stranger mails a file; one ingest files, judges and answers."""
    from email.message import EmailMessage

    from imap_tools import MailBoxUnencrypted

    from flows.ingest import ingest_submissions
    from flows.prefect_server import one_off_api
    from reports.workbook_template import build_template
    from samples.local_imap import local_imap
    from tasks.warehouse.database import connect
    from tasks.weeks import add_weeks

    week = add_weeks(after, 1)  # past the sample: nothing replaced
    settings = _settings()
    with connect(settings.warehouse) as con:
        book = build_template(DEMO_DESK, week, settings.outbox / "demo-surel", con=con)
    with _user_errors(), local_imap() as imap:
        for name, value in {"PILKADA_IMAP_HOST": imap.host, "PILKADA_IMAP_PORT": str(imap.port),
                            "PILKADA_IMAP_USER": imap.user, "PILKADA_IMAP_PASSWORD": imap.password,
                            "PILKADA_IMAP_TLS": "none"}.items():
            os.environ[name] = value
        with MailBoxUnencrypted(imap.host, imap.port).login(imap.user, imap.password) as mb:
            for sender, subject, name in (
                    (f"desk-{DEMO_DESK}@desk-pilkada.example.org", f"Laporan {DEMO_DESK} {week}",
                     f"{DEMO_DESK}_{week}.xlsx"),
                    ("orang.lain@contoh.example", "laporan", f"{DEMO_DESK}_{week}.xlsx")):
                msg = EmailMessage()
                msg["From"], msg["Subject"] = sender, subject
                msg["Message-ID"] = f"<demo-{len(subject)}-{week}@contoh.example>"
                msg.set_content("Terlampir laporan minggu ini.")
                msg.add_attachment(book.read_bytes(), maintype="application",
                                   subtype="octet-stream", filename=name)
                mb.append(bytes(msg))
        out.print(f"\n[bold]Surel:[/] Dovecot di {imap.host}:{imap.port}; desk {DEMO_DESK} "
                  f"mengirim {DEMO_DESK}_{week}.xlsx sekali, satu pengirim tak dikenal.")
        with one_off_api(*INGEST_MODULES):
            out.print(f"Ingest dengan surel: {ingest_submissions()}")
    for name in ("HOST", "PORT", "USER", "PASSWORD", "TLS"):
        os.environ.pop(f"PILKADA_IMAP_{name}", None)
    with connect(settings.warehouse) as con:
        rows = con.execute("SELECT source_path, status FROM audit.submission_status "
                           "WHERE workbook IS NOT NULL AND week = ? ORDER BY file_id",
                           [week]).fetchall()
        aside = con.execute("SELECT sender, reason FROM audit.mail_message "
                            "WHERE status = 'aside'").fetchall()
    for source, status in rows:
        out.print(f"  {source}: {status}")
    for sender, reason in aside:
        out.print(f"  disisihkan untuk tim data: {sender}: {reason}")
    for eml in sorted((settings.outbox / "mail" / week).glob("reply_*.eml")):
        out.print(f"Balasan di utas yang sama (.eml): {eml}")
