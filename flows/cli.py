"""`pilkada`: the command line of DESIGN §8. Exit codes: 0 success, 1 the run failed, 2 bad usage.

User mistakes (a bad week label, a missing warehouse, a refused query) end with a one-line
message that says what to do, not a traceback.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

app = typer.Typer(help="Siaga Pilkada: kesiapan Pilkada mingguan (Desk Pilkada Kaltim).",
                  no_args_is_help=True, pretty_exceptions_enable=False)
out = Console()
err = Console(stderr=True)

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
    err.print(f"[bold red]Gagal:[/] {message}")
    return typer.Exit(code)


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
    province: Annotated[str, typer.Option(help="Kode provinsi.")] = "64",
) -> None:
    """Buat contoh kiriman kab/kota yang realistis (deterministik)."""
    from tasks.sample import generate

    try:
        files = generate(out_dir, _weeks(weeks), seed=seed, province=province)
    except ValueError as exc:
        raise _fail(str(exc), 2) from exc
    out.print(f"{len(files)} file contoh ditulis ke {out_dir}")


@app.command()
def ingest(
    inbox: Annotated[str | None, typer.Option(help="Folder atau URL fsspec.")] = None,
) -> None:
    """Tarik, validasi, dan muat semua kiriman baru dari inbox."""
    from flows.ingest import ingest_submissions
    from tasks.lock import LockBusy

    try:
        counts = ingest_submissions(inbox=inbox)
    except (LockBusy, FileNotFoundError) as exc:
        raise _fail(str(exc)) from exc
    out.print(f"Ingest selesai: {counts}")


@app.command()
def bulletin(
    week: Annotated[str | None, typer.Option(help="Minggu laporan, mis. 2024-W47.")] = None,
    lang: Annotated[Lang, typer.Option(help="Bahasa buletin.")] = Lang.id,
    send: Annotated[bool, typer.Option("--send", help="Kirim lewat SMTP.")] = False,
) -> None:
    """Buat buletin mingguan ke outbox (dan kirim bila --send)."""
    from flows.bulletin import weekly_bulletin

    if week:
        _weeks(week)
    try:
        result = weekly_bulletin(week=week, lang=lang.value, send=send)
    except LookupError as exc:
        raise _fail(str(exc)) from exc
    out.print(f"Buletin: {result['html']}\nEmail (.eml): {result['eml']}")


@app.command()
def backfill(
    from_week: Annotated[str, typer.Option("--from", help="Minggu awal.")],
    to_week: Annotated[str, typer.Option("--to", help="Minggu akhir.")],
    lang: Annotated[Lang, typer.Option()] = Lang.id,
) -> None:
    """Buat ulang buletin untuk setiap minggu dalam rentang."""
    from flows.bulletin import weekly_bulletin

    weeks = _weeks(f"{from_week}:{to_week}")
    for w in weeks:
        try:
            result = weekly_bulletin(week=w, lang=lang.value)
        except LookupError as exc:
            err.print(f"[yellow]{w}: dilewati[/] — {exc}")
            continue
        out.print(f"{w}: {result['html']}")


@app.command()
def status(week: Annotated[str | None, typer.Option(help="Minggu, mis. 2024-W47.")] = None) -> None:
    """Siapa sudah mengirim, terlambat, belum mengirim, dan yang ditolak."""
    from tasks.config import load_settings
    from tasks.query import QueryRefused, open_read_only
    from tasks.warehouse import sql
    from tasks.weeks import last_completed_week

    week = week or last_completed_week()
    _weeks(week)
    try:
        con = open_read_only(load_settings().warehouse)
    except QueryRefused as exc:
        raise _fail(str(exc)) from exc
    with con:
        rows = con.execute(sql("queries/status_week.sql"), {"week": week}).fetchall()
    table = Table(title=f"Status kiriman minggu {week}")
    for c in ("Kab/kota", "Jenis", "Keadaan", "Versi", "Verdict", "Baris ditandai", "Ditolak"):
        table.add_column(c)
    style = {"belum_ada": "red", "terlambat": "yellow", "tepat_waktu": "green"}
    for code, name, kind, keadaan, version, verdict, flagged, rejected in rows:
        table.add_row(f"{code} {name}", kind, f"[{style[keadaan]}]{keadaan}[/]",
                      str(version or "-"), verdict or "-", str(flagged or 0), str(rejected))
    out.print(table)


@app.command()
def query(
    sql_text: Annotated[str, typer.Argument(metavar="SQL", help="Kueri SQL (hanya-baca).")],
    format: Annotated[Format, typer.Option(help="table, csv, atau json.")] = Format.table,
) -> None:
    """Kueri ad hoc hanya-baca ke gudang data (snapshot terbaru)."""
    import duckdb

    from tasks.config import load_settings
    from tasks.query import QueryRefused, run_query, to_csv, to_json

    try:
        cols, rows = run_query(load_settings().warehouse, sql_text)
    except QueryRefused as exc:
        raise _fail(str(exc), 1) from exc
    except duckdb.Error as exc:
        raise _fail(f"Kueri tidak valid: {exc}", 2) from exc
    if format is Format.csv:
        typer.echo(to_csv(cols, rows), nl=False)
    elif format is Format.json:
        typer.echo(to_json(cols, rows))
    else:
        table = Table(*cols)
        for r in rows:
            table.add_row(*("" if v is None else str(v) for v in r))
        out.print(table)


@app.command()
def demo(
    week: Annotated[str, typer.Option(help="Minggu buletin demo.")] = DEMO_BULLETIN_WEEK,
) -> None:
    """Contoh data → ingest → buletin ke outbox; menampilkan lokasi buletin."""
    from flows.bulletin import weekly_bulletin
    from flows.ingest import ingest_submissions
    from tasks.config import load_settings
    from tasks.sample import generate

    settings = load_settings()
    inbox = Path(settings.inbox)
    if not any(inbox.glob("*/*")):
        files = generate(inbox, _weeks(DEMO_WEEKS))
        out.print(f"{len(files)} file contoh ditulis ke {inbox}")
    counts = ingest_submissions(inbox=str(inbox))
    out.print(f"Ingest: {counts}")
    result = weekly_bulletin(week=week, lang="id")
    out.print(f"\n[bold green]Buletin minggu {week} siap:[/] {result['html']}")
    out.print(f"Email (.eml): {result['eml']}")
    out.print(f"Status: {result['counts']}")
