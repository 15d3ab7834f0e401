"""Compose the week's messages: who gets what, in which language, with which attachments.

Scoping lives here: province officials and the data team get the provincial bulletin; a kab/kota
desk gets the bulletin and, in a second message, the annex and feedback of the kab/kota in its
scope only; the provincial desk gets the bulletin and, when a file it sent under the province's
code needs fixing, a feedback message (no annex: a province has no kab/kota detail). ASN case
detail never leaves the warehouse (the annex carries stage counts only).
"""

from __future__ import annotations

import copy
import html
import logging
from collections import Counter
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import duckdb

from reports.render import RenderedBulletin, build_message
from tasks.ingest.feedback import feedback_paths
from tasks.publish.delivery import NOT_TRIED, Letter, Outcome, address, data_hash, message_id
from tasks.publish.recipients import Recipient
from tasks.warehouse.database import sql

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


_FEEDBACK_TEXT = {
    "id": ("Umpan Balik Kiriman Desk Pilkada Provinsi ({code}) — Minggu {week}",
           "Berikut umpan balik atas berkas yang dikirim desk provinsi dengan kode {code} untuk "
           "minggu {week} dan perlu diperbaiki (ditolak, atau diterima dengan catatan). Catatan "
           "dan tabel temuannya juga terlampir."),
    "en": ("Feedback on the Provincial Desk's Submissions ({code}) — Week {week}",
           "Below is the feedback (in Indonesian) on the files the provincial desk sent under "
           "code {code} for week {week} that need fixing (rejected, or accepted with flags). The "
           "notes and their findings tables are also attached."),
}


def _feedback_letter(week: str, r: Recipient, code: str, files: list[Path],
                     sender: str) -> Letter:
    """The provincial desk's message: the notes of its files to fix, in the body (so any mail
    client shows them) and attached with their findings tables, as a kab/kota desk gets them
    with its annex. Identified in the delivery log by kind `feedback` and the sender's code."""
    subject, intro = _FEEDBACK_TEXT[r.lang]
    notes = []
    for path in files:
        if path.name.endswith(".umpan-balik.txt"):
            try:
                notes.append(path.read_text(encoding="utf-8"))
            except OSError as exc:  # _letter logs it again when it tries to attach it
                log.error("umpan balik %s tidak dapat dibaca: %s", path.name, exc)
    text = intro.format(code=code, week=week) + "\n\n" + "\n\n".join(notes)
    page = f'<pre style="white-space: pre-wrap">{html.escape(text)}</pre>'
    rendered = RenderedBulletin(html=page, text=text, images={},
                                subject=subject.format(code=code, week=week),
                                name=f"umpan-balik-{code}-{week}")
    ctx = {"week": week, "pengirim": code, "notes": notes}
    return _letter(week, "feedback", r, r.lang, rendered, ctx, sender, code, files)


def compose(week: str, recipients: list[Recipient], sender: str,
            bulletin: Callable[[str], tuple[dict[str, Any], RenderedBulletin]],
            annex: Callable[[str, str], tuple[dict[str, Any], RenderedBulletin]],
            feedback: Callable[[str], list[Path]]) -> list[Letter]:
    """One bulletin letter per recipient, plus an annex letter per kab/kota in a kab/kota desk's
    scope, and a feedback letter per province code in the provincial desk's scope whose files
    of the week need fixing (none when nothing does: there is no annex to carry).

    `bulletin(lang)` and `annex(kabkota, lang)` render (and may cache) what a letter needs, so a
    language or annex nobody receives is never rendered.
    """
    letters: list[Letter] = []
    for r in recipients:
        ctx, rendered = bulletin(r.lang)
        letters.append(_letter(week, "bulletin", r, r.lang, rendered, ctx, sender))
        for code in r.scope:
            if r.role == "province_desk":
                files = feedback(code)
                if files:
                    letters.append(_feedback_letter(week, r, code, files, sender))
                continue
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
    lines += ["", "Gagal sementara sudah dicoba ulang otomatis; jalankan ulang perintah yang "
                  "sama untuk mencoba lagi (yang sudah terkirim tidak dikirim dua kali). Gagal "
                  "permanen tidak dicoba ulang otomatis; periksa alamat atau konfigurasi SMTP, "
                  "lalu jalankan ulang (dengan --resend untuk pesan yang hasilnya tidak "
                  "diketahui)."]
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


FAILED = ("failed_permanent", "failed_temporary", "skipped_uncertain")
UNKNOWN = "hasil tidak diketahui (proses terhenti saat mengirim)"


def failure_summary(week: str, outcomes: list[Outcome], report: Path,
                    reported: list[Outcome], stopped: str | None = None) -> str:
    """One paragraph for the flow run's state message and the command's last line: how many
    messages failed and why, where the report was written, and exactly what became of its
    emails to the data team (sent, written to the outbox, failed, or none to send)."""
    failed = [o for o in outcomes if o.status in FAILED]
    kinds = Counter(o.status for o in failed)
    parts = [f"{kinds[s]} {label}" for s, label in (
        ("failed_permanent", "gagal permanen"), ("failed_temporary", "gagal sementara"),
        ("skipped_uncertain", "hasil tidak diketahui, tidak dikirim ulang")) if kinds[s]]
    causes = Counter(o.error.removeprefix(NOT_TRIED) if o.error else UNKNOWN for o in failed)
    why = "; ".join(f"{c} ({n}×)" for c, n in causes.most_common(3))
    text = (f"Pengiriman buletin {week} gagal: {len(failed)} dari {len(outcomes)} pesan tidak "
            f"terkirim ({', '.join(parts)}). Penyebab: {why}.")
    if stopped:
        text += f" Pengiriman terhenti: {stopped}."
    return f"{text} Laporan ditulis ke {report}; {_reported(reported)}."


def _reported(reported: list[Outcome]) -> str:
    if not reported:
        return "tidak dikirim ke tim data: tidak ada penerima data_team di daftar penerima"
    said = []
    sent = [o for o in reported if o.status == "sent"]
    if sent and all(o.outbox_path for o in sent):
        folder = Path(sent[0].outbox_path or "").parent
        said.append(f"email untuk tim data ({', '.join(o.letter.recipient.email for o in sent)}) "
                    f"ditulis ke {folder} (SMTP tidak diatur)")
    elif sent:
        said.append(f"dikirim ke tim data: {', '.join(o.letter.recipient.email for o in sent)}")
    before = [o.letter.recipient.email for o in reported if o.status == "skipped_sent"]
    if before:
        said.append(f"laporan yang sama sudah dikirim ke {', '.join(before)} sebelumnya")
    failed = [o for o in reported if o.status in FAILED]
    if failed:
        errors = Counter(o.error.removeprefix(NOT_TRIED) if o.error else UNKNOWN for o in failed)
        who = ", ".join(o.letter.recipient.email for o in failed)
        said.append(f"TIDAK terkirim ke tim data ({who}): {errors.most_common(1)[0][0]}")
    return "; ".join(said)
