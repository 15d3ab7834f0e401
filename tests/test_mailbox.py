"""Intake by email (issue 22) against a real Dovecot IMAP server and a real SMTP server, both on
127.0.0.1: a desk mails its workbook once and gets one reply in the thread; a correction
supersedes; a crash before the message is flagged loses nothing and doubles nothing; an unknown
sender is set aside unanswered; ten attachments with one hostile cost only that one."""

from __future__ import annotations

import io
import shutil
import zipfile
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from imap_tools import AND, MailBoxUnencrypted

from reports.workbook_template import build_template
from samples.kaltim import generate
from samples.local_imap import local_imap
from tasks.config import load_settings
from tasks.contract.submission import KINDS
from tasks.ingest.mailbox import PROCESSED, Mail
from tasks.warehouse.database import connect
from tests.faultpoints import kill_at
from tests.pipeline import INGEST_SCRIPT, api_env, ingest
from tests.smtp_server import smtp_server
from tests.test_template import KAB, WEEK, _desk_rows, sample_dir  # noqa: F401

pytestmark = pytest.mark.services

DESK = f"desk-{KAB}@desk-pilkada.example.org"  # config/recipients.toml


@pytest.fixture
def imap():
    with local_imap() as server:
        yield server


@pytest.fixture
def smtp(tmp_path):
    with smtp_server(tmp_path / "smtp") as (handler, port, _):
        yield handler, port


@pytest.fixture
def mail_env(settings_env, imap, smtp, monkeypatch, prefect_harness):
    """Settings with the test mailbox and SMTP server configured, as a deployment would have."""
    _, port = smtp
    for name, value in {"PILKADA_IMAP_HOST": imap.host, "PILKADA_IMAP_PORT": str(imap.port),
                        "PILKADA_IMAP_USER": imap.user, "PILKADA_IMAP_PASSWORD": imap.password,
                        "PILKADA_IMAP_TLS": "none", "PILKADA_SMTP_HOST": "127.0.0.1",
                        "PILKADA_SMTP_PORT": str(port), "PILKADA_SMTP_TLS": "none",
                        "PILKADA_SMTP_FROM": "desk-pilkada@desk-pilkada.example.org",
                        "PILKADA_ARRIVAL": "storage"}.items():
        monkeypatch.setenv(name, value)
    return load_settings()


def _send(imap, sender: str, subject: str, files: list[tuple[str, bytes]], msgid: str) -> None:
    """A desk's message, delivered into the mailbox (IMAP APPEND, as the MTA would)."""
    msg = EmailMessage()
    msg["From"], msg["To"] = sender, "desk-pilkada@desk-pilkada.example.org"
    msg["Subject"], msg["Message-ID"] = subject, msgid
    msg.set_content("Terlampir laporan minggu ini.")
    for name, data in files:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    with MailBoxUnencrypted(imap.host, imap.port).login(imap.user, imap.password) as mb:
        mb.append(bytes(msg))


def _flags(imap) -> list[tuple[str, ...]]:
    with MailBoxUnencrypted(imap.host, imap.port).login(imap.user, imap.password) as mb:
        return [m.flags for m in mb.fetch(AND(all=True), mark_seen=False, headers_only=True)]


def _ledger(settings, sql: str) -> list[tuple]:
    with connect(settings.warehouse) as con:
        return con.execute(sql).fetchall()


def _attachments(msg) -> list[str]:
    return [p.get_filename() for p in msg.iter_attachments()]


def _bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * 300_000_000)
    return buf.getvalue()


def test_workbook_by_mail_six_rows_one_threaded_reply_then_a_correction(
        sample_dir, mail_env, imap, smtp, tmp_path):  # noqa: F811
    handler, _ = smtp
    fill = {kind: _desk_rows(sample_dir, kind) for kind in KINDS}
    book = build_template(KAB, WEEK, tmp_path / "b", fill=fill).read_bytes()
    _send(imap, DESK, "Laporan 6402 minggu 47", [(f"{KAB}_{WEEK}.xlsx", book),
                                                  ("tanda-tangan.png", b"\x89PNG")],
          "<w47@desk-6402.example.org>")
    ingest(mail_env)

    rows = _ledger(mail_env, "SELECT kind, status, version, workbook FROM "
                             "audit.submission_status ORDER BY file_id")
    assert [(k, s, v) for k, s, v, _ in rows] == [(k, "accepted", 1) for k in KINDS]
    assert {w for *_, w in rows} == {f"{KAB}/{KAB}_{WEEK}.xlsx"}
    assert len(handler.received) == 1
    reply = handler.received[0]
    assert reply.rcpt == [DESK]
    assert reply.message["In-Reply-To"] == "<w47@desk-6402.example.org>"
    assert "<w47@desk-6402.example.org>" in reply.message["References"]
    assert reply.message["Subject"] == "Re: Laporan 6402 minggu 47"
    body = reply.message.get_body(("plain",)).get_content()
    for kind in KINDS:
        assert f"- {kind}: DITERIMA, versi 1" in body, body
    assert "tanda-tangan.png" in body and "Bukan berkas laporan" in body
    assert sum(n.endswith(".umpan-balik.txt") for n in _attachments(reply.message)) == 6
    assert _flags(imap) == [("\\Seen", PROCESSED)] or set(_flags(imap)[0]) >= {"\\Seen",
                                                                                PROCESSED}

    ingest(mail_env)  # nothing new: no row, no reply
    assert len(_ledger(mail_env, "SELECT * FROM raw.file")) == 6
    assert len(handler.received) == 1

    # the correction, mailed later: only the changed sheet takes over
    fill["logistik"][0] = {**fill["logistik"][0],
                           "diterima_tps": (fill["logistik"][0]["diterima_tps"] or 0) + 1}
    fixed = build_template(KAB, WEEK, tmp_path / "c", fill=fill).read_bytes()
    _send(imap, DESK, "Re: Laporan 6402 minggu 47", [(f"{KAB}_{WEEK}_revisi.xlsx", fixed)],
          "<w47-revisi@desk-6402.example.org>")
    ingest(mail_env)
    current = _ledger(mail_env, "SELECT kind, version, workbook FROM audit.submission_status "
                                "WHERE status = 'accepted' AND kind = 'logistik'")
    assert current == [("logistik", 2, f"{KAB}/{KAB}_{WEEK}_revisi.xlsx")]
    superseded = _ledger(mail_env, "SELECT count(*) FROM audit.submission_status "
                                   "WHERE status = 'superseded'")
    assert superseded == [(1,)]
    assert len(handler.received) == 2
    second = handler.received[1].message
    assert second["In-Reply-To"] == "<w47-revisi@desk-6402.example.org>"
    assert second["Subject"] == "Re: Laporan 6402 minggu 47"
    text = second.get_body(("plain",)).get_content()
    assert "- logistik: DITERIMA, versi 2" in text and "- ringkasan: DUPLIKAT" in text


@pytest.mark.faults
def test_crash_between_archive_and_flag_loses_nothing_doubles_nothing(
        sample_dir, mail_env, imap, smtp, tmp_path):  # noqa: F811
    """SIGKILL after the attachments are archived, judged, loaded and answered, before the
    message is flagged: the rerun takes no second copy and sends no second reply, and flags it."""
    handler, _ = smtp
    csv = (sample_dir / KAB / f"{KAB}_ringkasan_{WEEK}.csv").read_bytes()
    _send(imap, DESK, "ringkasan", [(f"{KAB}_ringkasan_{WEEK}.csv", csv)], "<crash@x.example>")
    kill_at("mail-before-flag", INGEST_SCRIPT, [], tmp_path, env=api_env())
    assert _ledger(mail_env, "SELECT kind, status FROM audit.submission_status") == [
        ("ringkasan", "accepted")]
    assert len(handler.received) == 1
    assert PROCESSED not in _flags(imap)[0]

    ingest(mail_env)
    assert len(_ledger(mail_env, "SELECT * FROM raw.file")) == 1
    assert len(handler.received) == 1  # the delivery log remembers the reply
    assert PROCESSED in _flags(imap)[0]
    assert _ledger(mail_env, "SELECT status, attachments FROM audit.mail_message") == [
        ("judged", 1)]


@pytest.mark.faults
def test_crash_before_anything_is_archived_is_picked_up_again(
        sample_dir, mail_env, imap, smtp, tmp_path):  # noqa: F811
    handler, _ = smtp
    csv = (sample_dir / KAB / f"{KAB}_ringkasan_{WEEK}.csv").read_bytes()
    _send(imap, DESK, "ringkasan", [(f"{KAB}_ringkasan_{WEEK}.csv", csv)], "<early@x.example>")
    kill_at("mail-after-collect", INGEST_SCRIPT, [], tmp_path, env=api_env())
    assert not handler.received and PROCESSED not in _flags(imap)[0]
    ingest(mail_env)
    assert _ledger(mail_env, "SELECT kind, status FROM audit.submission_status") == [
        ("ringkasan", "accepted")]
    assert len(handler.received) == 1 and PROCESSED in _flags(imap)[0]


def test_unknown_sender_is_set_aside_unanswered(mail_env, imap, smtp, sample_dir):  # noqa: F811
    handler, _ = smtp
    csv = (sample_dir / KAB / f"{KAB}_ringkasan_{WEEK}.csv").read_bytes()
    _send(imap, "orang.lain@contoh.example", "laporan", [(f"{KAB}_ringkasan_{WEEK}.csv", csv)],
          "<stranger@contoh.example>")
    _send(imap, DESK, "tanpa lampiran", [], "<empty@desk-6402.example.org>")
    ingest(mail_env)
    assert _ledger(mail_env, "SELECT count(*) FROM raw.file") == [(0,)]
    assert not handler.received
    aside = dict(_ledger(mail_env, "SELECT sender, reason FROM audit.mail_message "
                                   "WHERE status = 'aside'"))
    assert "tidak terdaftar" in aside["orang.lain@contoh.example"]
    assert "tanpa lampiran" in aside[DESK]
    flags = _flags(imap)
    assert all(PROCESSED in f and "\\Seen" not in f for f in flags)  # left unread for people
    ingest(mail_env)  # and not taken again
    assert _ledger(mail_env, "SELECT count(*) FROM audit.mail_message") == [(2,)]


def test_ten_attachments_one_hostile(mail_env, imap, smtp, tmp_path):
    """Nine of the desk's CSV files and a zip bomb named as an XLSX: the bomb is rejected alone,
    every other file has its own verdict, and one reply names all ten."""
    handler, _ = smtp
    sample = tmp_path / "sample"
    generate(sample, ["2024-W46", WEEK])
    files = sorted((sample / KAB).glob("*.csv"))[:9]
    assert len(files) == 9
    attachments = [(p.name, p.read_bytes()) for p in files]
    attachments.insert(4, (f"{KAB}_logistik_2024-W48.xlsx", _bomb()))
    _send(imap, DESK, "sepuluh lampiran", attachments, "<ten@desk-6402.example.org>")
    ingest(mail_env)
    got = dict(_ledger(mail_env, "SELECT file_name, status || ': ' || reason FROM "
                                 "audit.submission_status"))
    assert len(got) == 10
    assert "rejected" in got[f"{KAB}_logistik_2024-W48.xlsx"]
    assert "diekstrak" in got[f"{KAB}_logistik_2024-W48.xlsx"]
    others = [v for k, v in got.items() if not k.endswith(".xlsx")]
    assert all("diekstrak" not in v for v in others)
    assert sum(v.startswith("accepted") for v in others) >= 7, others
    assert len(handler.received) == 1
    body = handler.received[0].message.get_body(("plain",)).get_content()
    assert all(f"{n}. " in body for n in range(1, 11))


def test_attachment_named_for_another_kabkota_is_refused(mail_env, imap, smtp,
                                                         sample_dir):  # noqa: F811
    handler, _ = smtp
    csv = (sample_dir / KAB / f"{KAB}_ringkasan_{WEEK}.csv").read_bytes()
    _send(imap, DESK, "salah kode", [(f"6401_ringkasan_{WEEK}.csv", csv),
                                     (f"{KAB}_ringkasan_{WEEK}.csv", csv)], "<mix@x.example>")
    ingest(mail_env)
    assert _ledger(mail_env, "SELECT kabkota_code, status FROM audit.submission_status") == [
        (KAB, "accepted")]
    body = handler.received[0].message.get_body(("plain",)).get_content()
    assert "menyebut kode 6401" in body


def test_reply_file_in_outbox_without_smtp(settings_env, imap, monkeypatch, prefect_harness,
                                           sample_dir):  # noqa: F811
    """No SMTP configured: the reply is written to the outbox as .eml, still threaded."""
    for name, value in {"PILKADA_IMAP_HOST": imap.host, "PILKADA_IMAP_PORT": str(imap.port),
                        "PILKADA_IMAP_USER": imap.user, "PILKADA_IMAP_PASSWORD": imap.password,
                        "PILKADA_IMAP_TLS": "none"}.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    csv = (sample_dir / KAB / f"{KAB}_ringkasan_{WEEK}.csv").read_bytes()
    _send(imap, DESK, "ringkasan", [(f"{KAB}_ringkasan_{WEEK}.csv", csv)], "<out@x.example>")
    ingest(settings)
    (eml,) = (settings.outbox / "mail" / WEEK).glob("reply_*.eml")
    msg = BytesParser(policy=policy.default).parsebytes(eml.read_bytes())
    assert msg["In-Reply-To"] == "<out@x.example>"
    shutil.rmtree(settings.outbox)


@pytest.mark.flow
def test_ingest_flow_reads_the_mailbox_before_the_folder(sample_dir, mail_env, imap, smtp,  # noqa: F811
                                                         tmp_path):
    """The scheduled flow itself: mail first (a desk's workbook, a stranger's file), the folder
    after, one reply, both messages flagged, the stranger's in the run's `mail-aside` artifact."""
    from flows.ingest import ingest_submissions, mail_aside

    handler, _ = smtp
    fill = {kind: _desk_rows(sample_dir, kind) for kind in KINDS}
    book = build_template(KAB, WEEK, tmp_path / "b", fill=fill).read_bytes()
    _send(imap, DESK, "W47", [(f"{KAB}_{WEEK}.xlsx", book)], "<flow@desk-6402.example.org>")
    _send(imap, "orang.lain@contoh.example", "x|y", [("a.csv", b"x")], "<s@contoh.example>")
    folder = Path(mail_env.inbox) / "6401"
    folder.mkdir(parents=True)
    shutil.copyfile(sample_dir / "6401" / f"6401_ringkasan_{WEEK}.csv",
                    folder / f"6401_ringkasan_{WEEK}.csv")
    counts = ingest_submissions()
    assert counts["files"] == 7
    assert len(handler.received) == 1
    assert handler.received[0].message["In-Reply-To"] == "<flow@desk-6402.example.org>"
    assert all(PROCESSED in f for f in _flags(imap))
    stranger = Mail("2", "k", None, "", "orang.lain@contoh.example", "x|y",
                    datetime.now(UTC), aside="Pengirim tidak terdaftar")
    assert r"| orang.lain@contoh.example | x\|y | Pengirim tidak terdaftar |" in mail_aside(
        [stranger])
