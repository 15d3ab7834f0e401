"""Compose the week's messages: who gets what, in which language, with which attachments.

Scoping lives here: province officials and the data team get the provincial bulletin; a kab/kota
desk gets the bulletin and, in a second message, the annex and feedback of the kab/kota in its
scope only. ASN case detail never leaves the warehouse (the annex carries stage counts only).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import duckdb

from tasks.delivery import Letter, address, data_hash, message_id
from tasks.feedback import feedback_paths
from tasks.recipients import Recipient
from tasks.render import RenderedBulletin, build_message
from tasks.warehouse import sql

log = logging.getLogger(__name__)


def _letter(week: str, kind: str, r: Recipient, lang: str, rendered: RenderedBulletin,
            ctx: dict[str, Any], sender: str, kabkota: str | None = None,
            attachments: list[Path] | None = None) -> Letter:
    digest = data_hash(ctx)
    msg = build_message(rendered, sender, [r.email])
    for path in attachments or []:
        try:
            data = path.read_bytes()
        except OSError as exc:  # a missing note costs the desk that attachment, not the letter
            log.error("lampiran %s tidak dapat dibaca: %s", path.name, exc)
            continue
        msg.add_attachment(data, maintype="text",
                           subtype="csv" if path.suffix == ".csv" else "plain",
                           filename=path.name)
    mid = message_id(week, kind, kabkota, lang, r.email, digest)
    return Letter(week, kind, r, lang, address(msg, sender, r, mid), digest, kabkota)


def feedback_files(con: duckdb.DuckDBPyConnection, outbox: Path, week: str,
                   kabkota: str) -> list[Path]:
    """The feedback notes (and findings tables) of the kab/kota's files this week that were
    rejected or accepted with flags: what the desk has to fix."""
    rows = con.execute(sql("queries/feedback_to_send.sql"),
                       {"week": week, "kabkota_code": kabkota}).fetchall()
    return [path for file_name, file_id in rows
            for path in feedback_paths(outbox, kabkota, file_name, file_id) if path.exists()]


def compose(week: str, recipients: list[Recipient], sender: str,
            bulletin: Callable[[str], tuple[dict[str, Any], RenderedBulletin]],
            annex: Callable[[str, str], tuple[dict[str, Any], RenderedBulletin]],
            feedback: Callable[[str], list[Path]]) -> list[Letter]:
    """One bulletin letter per recipient, plus an annex letter per kab/kota in a desk's scope.

    `bulletin(lang)` and `annex(kabkota, lang)` render (and may cache) what a letter needs, so a
    language or annex nobody receives is never rendered.
    """
    letters: list[Letter] = []
    for r in recipients:
        ctx, rendered = bulletin(r.lang)
        letters.append(_letter(week, "bulletin", r, r.lang, rendered, ctx, sender))
        for code in r.scope:
            actx, arendered = annex(code, r.lang)
            letters.append(_letter(week, "annex", r, r.lang, arendered, actx, sender, code,
                                   feedback(code)))
    return letters


def failure_report(week: str, outcomes: list[Any], data_team: list[Recipient], sender: str,
                   run_id: str) -> tuple[str, list[Letter]]:
    """A plain report of what could not be delivered, and a letter to each data-team member."""
    lines = [f"Laporan pengiriman buletin minggu {week} (run {run_id})", ""]
    unknown = ("hasil tidak diketahui (proses terhenti saat mengirim); kirim ulang dengan "
               "--resend bila perlu")
    for o in outcomes:
        lines.append(f"- {o.status}: {o.letter.kind} {o.letter.kabkota_code or ''} untuk "
                     f"{o.letter.recipient.name} <{o.letter.recipient.email}>; percobaan "
                     f"{o.attempts}; {o.error or unknown}")
    lines += ["", "Gagal permanen tidak dicoba ulang otomatis; periksa alamat atau konfigurasi "
                  "SMTP, lalu jalankan ulang dengan --resend untuk penerima tersebut."]
    text = "\n".join(lines) + "\n"
    digest = data_hash({"report": text.replace(run_id, "")})
    letters = []
    for r in data_team:
        msg = EmailMessage()
        msg["Subject"] = f"[Siaga Pilkada] Gagal kirim buletin minggu {week}"
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(text)
        mid = message_id(week, "failure_report", None, "id", r.email, digest)
        letters.append(Letter(week, "failure_report", r, "id",
                              address(copy.deepcopy(msg), sender, r, mid), digest))
    return text, letters
