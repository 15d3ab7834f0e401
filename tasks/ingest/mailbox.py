"""Intake by email (issue 22): the desks' mailbox, read before the folder inbox, answered after.

`collect` reads every message of the IMAP folder not yet flagged `$SiagaDiproses` (without
marking anything), and files each attachment of a known desk's message as
`<kabkota>/<attachment name>`: an `InboxFile` that `tasks.ingest.judge.pull_new` archives and judges
exactly like a file of the folder (size limit, names, zip checks, personal data), so a hostile
attachment costs only itself. The sender's address decides the kab/kota (the recipients
registry, `tasks.publish.recipients`); a kab/kota code in the attachment's name must be the
sender's.

`answer` runs after the week's files are loaded and their feedback written: for each message it
records the message (audit.mail_message, audit.mail_attachment), sends one reply in the same
thread through the delivery log (exactly once, `tasks.publish.delivery`), and only then flags the
message processed on the server. A crash anywhere before the flag leaves the message unflagged: the
next run reads it again, finds its attachments already in the ledger (their listing fingerprint is
the message's: `mail:<key>:<n>`, so they are not read twice), finds the reply in the delivery log,
and flags it. Mail from an unknown sender, without a usable attachment, or too large is recorded
`aside` with the reason for the data team and flagged, never answered (and left unread, so it
stands out in a mail client).
"""

from __future__ import annotations

import hashlib
import imaplib
import logging
import shutil
import ssl
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr
from pathlib import Path, PurePosixPath
from typing import Any

import duckdb
import polars as pl

from tasks.config import WITA, ImapSettings, Settings
from tasks.contract.personal import redact
from tasks.faults import fault_point
from tasks.ingest.feedback import STATUS_ID, feedback_paths
from tasks.ingest.pull import FORMATS, NAME_RE, WORKBOOK_RE, InboxFile, safe_name
from tasks.publish.delivery import (
    Letter,
    OutboxTransport,
    Outcome,
    SmtpTransport,
    deliver,
    message_id,
)
from tasks.publish.recipients import DESKS, Recipient, load_recipients
from tasks.warehouse.database import sql

log = logging.getLogger(__name__)

PROCESSED = "$SiagaDiproses"  # IMAP keyword of a message the pipeline has finished with
MAX_ATTACHMENTS = 30  # more in one message are listed as not read
REPLY_FINDINGS = 12  # distinct findings quoted per submission; all are in the attached CSV
TIMEOUT = 30.0


@dataclass
class Attachment:
    position: int
    file_name: str  # display-safe
    source_path: str | None = None  # `<kabkota>/<name>` when filed
    sha256: str | None = None
    note: str = ""  # why it was not filed (Indonesian, for the desk)


@dataclass
class Mail:
    """One message as collected: who sent it, what it carried, and what became of it."""

    uid: str
    key: str  # Message-ID and the sha256 of the bytes: a reused Message-ID is another message
    message_id: str | None  # as sent, for In-Reply-To
    references: str
    sender: str
    subject: str
    imap_date: datetime
    desk: Recipient | None = None
    kabkota_code: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    files: list[InboxFile] = field(default_factory=list)
    aside: str | None = None  # the reason it is set aside (not answered)


def _header(value: object, limit: int = 200) -> str:
    """A header as one safe line (no CR/LF or control characters), at most `limit` long."""
    text = safe_name(" ".join(str(value or "").split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextmanager
def mailbox(imap: ImapSettings) -> Iterator[Any]:
    """A logged-in imap-tools mailbox on the configured folder."""
    from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted

    if imap.tls == "ssl":
        box = MailBox(imap.host, imap.port, timeout=TIMEOUT,
                      ssl_context=ssl.create_default_context(cafile=imap.ca_file))
    elif imap.tls == "starttls":
        box = MailBoxStartTls(imap.host, imap.port, timeout=TIMEOUT,
                              ssl_context=ssl.create_default_context(cafile=imap.ca_file))
    else:
        box = MailBoxUnencrypted(imap.host, imap.port, timeout=TIMEOUT)
    with box.login(imap.user, imap.resolve_password(), initial_folder=imap.folder) as mb:
        yield mb


def _internal_date(mb: Any, uid: str) -> datetime:
    """When the mail server received the message (INTERNALDATE): the sender cannot set it."""
    typ, data = mb.client.uid("FETCH", uid, "(INTERNALDATE)")
    for item in data if typ == "OK" else []:
        raw = item if isinstance(item, bytes) else item[0] if isinstance(item, tuple) else b""
        parsed = imaplib.Internaldate2tuple(raw)  # a local-time struct_time
        if parsed is not None:
            return datetime.fromtimestamp(time.mktime(parsed), tz=UTC)
    return datetime.now(UTC)


def desks_by_address(con: duckdb.DuckDBPyConnection, registry: Path) -> dict[str, Recipient]:
    """Lower-cased address -> the desk it belongs to (kab/kota and provincial desks only)."""
    codes = {c for (c,) in con.execute("SELECT kabkota_code FROM ref.kabkota").fetchall()}
    provinces = {c for (c,) in con.execute("SELECT provinsi_code FROM ref.provinsi").fetchall()}
    return {r.email.lower(): r for r in load_recipients(registry, codes, provinces)
            if r.role in DESKS}


def _code_in_name(name: str) -> str | None:
    stem = PurePosixPath(name).stem
    m = NAME_RE.match(stem) or WORKBOOK_RE.match(stem)
    return m["kabkota"] if m else None


def _file(mail: Mail, n: int, name: str, payload: bytes, staging: Path) -> Attachment:
    """File one attachment under the desk's kab/kota, or say why it is not a submission."""
    shown = safe_name(name.replace("/", "_").replace("\\", "_")) or "(tanpa nama)"
    att = Attachment(n, shown)
    if PurePosixPath(shown).suffix.lower() not in FORMATS:
        att.note = "Bukan berkas laporan (CSV, XLSX, atau JSON); tidak dibaca."
        return att
    desk = mail.desk
    assert desk is not None
    named = _code_in_name(shown)
    if named is not None and named not in desk.scope:
        att.note = (f"Nama file menyebut kode {named}, tetapi alamat pengirim terdaftar untuk "
                    f"{', '.join(desk.scope)}; file tidak diproses. Kirim dari alamat desk "
                    f"{named} atau perbaiki kode pada nama file.")
        return att
    code = named or desk.scope[0]
    folder = staging / hashlib.sha256(mail.key.encode()).hexdigest()[:24]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{n:03d}"
    path.write_bytes(payload)
    att.source_path, att.sha256 = f"{code}/{shown}", hashlib.sha256(payload).hexdigest()
    mail.files.append(InboxFile(att.source_path, path.resolve().as_uri(), len(payload),
                                mail.imap_date, f"mail:{mail.key}:{n}", mail.imap_date))
    return att


def collect(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[Mail]:
    """Every message not yet processed, with its attachments filed; nothing is flagged here."""
    imap = settings.imap
    assert imap is not None
    desks = desks_by_address(con, settings.recipients)
    staging = mail_staging(settings)
    mails: list[Mail] = []
    from imap_tools import AND

    with mailbox(imap) as mb:
        heads = list(mb.fetch(AND(no_keyword=PROCESSED), mark_seen=False, headers_only=True))
        for head in heads:
            date = _internal_date(mb, head.uid)
            mid = head.headers.get("message-id", ("",))[0].strip() or None
            sender = (head.from_values.email if head.from_values else "").strip().lower()
            mail = Mail(head.uid, mid or "", mid, " ".join(head.headers.get("references", ())),
                        _header(sender, 120) or "(tanpa pengirim)",
                        _header(redact(head.subject)[0]),  # echoed in the reply: no name/NIP
                        date, desks.get(sender))
            if head.size_rfc822 > imap.max_message_bytes:
                mail.key = f"{mail.key}#uid:{head.uid}:{date.isoformat()}"
                mail.aside = (f"Pesan terlalu besar ({head.size_rfc822:,} byte; batas "
                              f"{imap.max_message_bytes:,}); tidak diunduh.")
                mails.append(mail)
                continue
            (msg,) = mb.fetch(uid_list=[head.uid], mark_seen=False)
            mail.key = f"{mail.key}#{hashlib.sha256(msg.obj.as_bytes()).hexdigest()[:32]}"
            mails.append(mail)
            if mail.desk is None:
                mail.aside = ("Pengirim tidak terdaftar sebagai desk kab/kota atau desk provinsi "
                              "di daftar penerima; lampiran tidak dibaca.")
                continue
            mail.kabkota_code = mail.desk.scope[0]
            named = [a for a in msg.attachments if a.filename]
            for n, part in enumerate(named[:MAX_ATTACHMENTS], start=1):
                mail.attachments.append(_file(mail, n, part.filename, part.payload, staging))
            for n, part in enumerate(named[MAX_ATTACHMENTS:], start=MAX_ATTACHMENTS + 1):
                mail.attachments.append(Attachment(
                    n, _header(part.filename, 120),
                    note=f"Lebih dari {MAX_ATTACHMENTS} lampiran dalam satu pesan; tidak dibaca."))
            if not mail.files:
                why = "; ".join(f"{a.file_name}: {a.note}" for a in mail.attachments[:5])
                mail.aside = "Tidak ada lampiran laporan yang dapat diproses" + (
                    f" ({why})" if why else " (pesan tanpa lampiran)") + "."
    fault_point("mail-after-collect")
    return mails


def mail_staging(settings: Settings) -> Path:
    """Where attachments wait between the mailbox and the archive (removed once flagged)."""
    return settings.archive.parent / "mail-masuk"


def _record(con: duckdb.DuckDBPyConnection, mail: Mail, run_id: str) -> None:
    con.execute(sql("load/mail_message.sql"), {
        "message_key": mail.key, "imap_date": mail.imap_date, "sender": mail.sender,
        "kabkota_code": mail.kabkota_code, "subject": mail.subject,
        "status": "aside" if mail.aside else "judged", "reason": mail.aside or "",
        "attachments": len(mail.attachments), "run_id": run_id})
    if mail.attachments:
        frame = pl.DataFrame(
            [(mail.key, a.position, a.file_name,
              None if a.source_path is None else a.source_path.encode(), a.sha256, a.note)
             for a in mail.attachments], orient="row",
            schema={"message_key": pl.String, "position": pl.Int32, "file_name": pl.String,
                    "source_bytes": pl.Binary, "sha256": pl.String, "note": pl.String})
        con.register("staged_attachments", frame.to_arrow())
        try:
            con.execute(sql("load/mail_attachment.sql"))
        finally:
            con.unregister("staged_attachments")


def _rows(con: duckdb.DuckDBPyConnection, mail: Mail) -> list[dict[str, Any]]:
    cur = con.execute(sql("queries/mail_reply.sql"), {"message_key": mail.key})
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def reply_body(mail: Mail, rows: list[dict[str, Any]],
               findings: dict[int, list[str]]) -> str:
    """The reply's text: every attachment, every submission it became, its verdict, reason and
    findings, in Indonesian. Only the ledger's words: no value of the desk's is echoed beyond
    what the ledger already keeps (names and NIPs are withheld there)."""
    assert mail.desk is not None
    lines = [f"Yth. {mail.desk.name},", "",
             f"Pesan Anda ({mail.subject or 'tanpa subjek'}) diterima Desk Pilkada pada "
             f"{mail.imap_date.astimezone(WITA):%d-%m-%Y %H:%M} WITA. Hasil pemeriksaan setiap "
             "lampiran:", ""]
    for position in dict.fromkeys(r["position"] for r in rows):
        mine = [r for r in rows if r["position"] == position]
        lines.append(f"{position}. {mine[0]['attachment']}")
        if mine[0]["note"]:
            lines.append(f"   {mine[0]['note']}")
        elif mine[0]["file_id"] is None:
            lines.append("   Belum tercatat; tim data sudah diberi tahu.")
        for r in (m for m in mine if m["file_id"] is not None):
            what = r["kind"] or "(jenis tidak dikenali)"
            lines.append(f"   - {what}: {STATUS_ID.get(r['status'], r['status'])}"
                         + (f", versi {r['version']}" if r["version"] else "")
                         + f", {r['rows_total']} baris ({r['rows_flagged']} ditandai)")
            if r["reason"]:
                lines.append(f"     {r['reason']}")
            found = findings.get(r["file_id"], [])
            lines += [f"     • {f}" for f in found[:REPLY_FINDINGS]]
            if len(found) > REPLY_FINDINGS:
                lines.append(f"     • … dan {len(found) - REPLY_FINDINGS} temuan lain (lihat "
                             "lampiran .temuan.csv)")
        lines.append("")
    lines += ["Umpan balik setiap laporan terlampir (.umpan-balik.txt; temuan per baris dalam "
              ".temuan.csv yang dapat dibuka di Excel). Perbaikan: kirim ulang buku kerja atau "
              "file yang sama (boleh dengan akhiran _revisi) sebagai balasan pesan ini atau pesan "
              "baru; versi terbaru menggantikan yang lama.", "",
              "Pesan ini dikirim otomatis oleh sistem Siaga Pilkada; pertanyaan ditujukan ke tim "
              "data Desk Pilkada provinsi."]
    return "\n".join(lines) + "\n"


def _reply(mail: Mail, rows: list[dict[str, Any]], findings: dict[int, list[str]],
           settings: Settings) -> Letter:
    desk = mail.desk
    assert desk is not None
    week = next((r["week"] for r in rows if r["week"]), None) or "tanpa-minggu"
    digest = hashlib.sha256(mail.key.encode()).hexdigest()
    msg = EmailMessage()
    subject = mail.subject or "Kiriman laporan"
    msg["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    msg["From"] = settings.smtp.sender if settings.smtp else "desk-pilkada@localhost"
    msg["To"] = formataddr((desk.name, desk.email))
    if mail.message_id:
        msg["In-Reply-To"] = mail.message_id
        msg["References"] = " ".join(filter(None, [mail.references, mail.message_id]))[-900:]
    msg["Message-ID"] = message_id(week, "reply", mail.kabkota_code, "id", desk.email, digest)
    msg.set_content(reply_body(mail, rows, findings))
    for r in rows:
        if r["file_id"] is None:
            continue
        for path in feedback_paths(settings.outbox, r["kabkota_code"], r["file_name"],
                                   r["file_id"]):
            if path.is_file():
                kind = ("text", "plain") if path.suffix == ".txt" else ("text", "csv")
                msg.add_attachment(path.read_bytes(), maintype=kind[0], subtype=kind[1],
                                   filename=path.name)
    return Letter(week, "reply", desk, "id", msg, digest, mail.kabkota_code)


def _findings(con: duckdb.DuckDBPyConnection, file_ids: list[int]) -> dict[int, list[str]]:
    """Each file's findings for the reply, one line per distinct finding with the rows it is on
    (a template sent with one column left empty is one line, not a thousand)."""
    grouped: dict[int, dict[str, list[int]]] = {}
    if file_ids:
        for file_id, row, _, _, _, message, *_ in con.execute(  # what each excluded: the CSV
                sql("queries/feedback_issues.sql"), {"file_ids": file_ids}).fetchall():
            what = message.split(", ", 1)[1] if row is not None and ", " in message else message
            grouped.setdefault(file_id, {}).setdefault(what, []).extend(
                [] if row is None else [row])
    out: dict[int, list[str]] = {}
    for file_id, found in grouped.items():
        for what, rows in found.items():
            shown = ", ".join(map(str, rows[:5])) + (", …" if len(rows) > 5 else "")
            out.setdefault(file_id, []).append(
                what if not rows else f"{what} — {len(rows)} baris ({shown})")
    return out


def answer(con: duckdb.DuckDBPyConnection, settings: Settings, mails: Sequence[Mail],
           run_id: str, logger: logging.Logger | logging.LoggerAdapter | None = None
           ) -> list[Outcome]:
    """Record each message, reply to each desk message once, then flag every message processed.

    A message whose reply failed temporarily stays unflagged, so the next run tries again (the
    delivery log keeps the reply to one); sent, uncertain or permanently refused replies are not
    tried again."""
    say = logger or log
    imap = settings.imap
    assert imap is not None
    letters: dict[str, Letter] = {}
    for mail in mails:
        _record(con, mail, run_id)
        if mail.aside:
            say.warning("surel disisihkan untuk tim data: dari %s, \"%s\": %s", mail.sender,
                        mail.subject, mail.aside)
            continue
        rows = _rows(con, mail)
        letters[mail.key] = _reply(mail, rows, _findings(
            con, [r["file_id"] for r in rows if r["file_id"] is not None]), settings)
    transport = SmtpTransport(settings.smtp) if settings.smtp else OutboxTransport(settings.outbox)
    outcomes = deliver(con, list(letters.values()), transport, run_id, logger=say)
    retry = {o.letter.data_hash for o in outcomes if o.status == "failed_temporary"}
    done = [m for m in mails if m.key not in letters
            or letters[m.key].data_hash not in retry]
    fault_point("mail-before-flag")
    if done:
        with mailbox(imap) as mb:
            mb.flag([m.uid for m in done], PROCESSED, True)
            desk_mail = [m.uid for m in done if not m.aside]
            if desk_mail:  # set-aside mail stays unread for the data team
                mb.flag(desk_mail, "\\Seen", True)
    staging = mail_staging(settings)
    for m in done:
        shutil.rmtree(staging / hashlib.sha256(m.key.encode()).hexdigest()[:24],
                      ignore_errors=True)
    return outcomes
