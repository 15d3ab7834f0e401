"""Delivery against a real SMTP server on 127.0.0.1: exactly once, retries, failures reported."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from reports.render import RenderedBulletin, build_message
from tasks.config import SmtpSettings
from tasks.contract.regions import regions
from tasks.publish.delivery import (
    Letter,
    OutboxTransport,
    SmtpTransport,
    address,
    data_hash,
    deliver,
    message_id,
)
from tasks.publish.letters import compose
from tasks.publish.recipients import Recipient, RegistryError, load_recipients
from tasks.warehouse.database import connect
from tests import REPO as ROOT
from tests.faultpoints import kill_at
from tests.smtp_server import PASSWORD, USER, smtp_server

WEEK = "2024-W47"


def _people(n: int) -> list[Recipient]:
    return [Recipient(f"Penerima {i}", f"orang{i}@desk.example.org", "province")
            for i in range(n)]


def _letters(people: list[Recipient], figures: str = "v1") -> list[Letter]:
    ctx = {"week": WEEK, "figures": figures}
    digest = data_hash(ctx)
    rendered = RenderedBulletin(html="<p>Buletin</p>", text="Buletin", images={},
                                subject=f"Buletin {WEEK}", name=f"buletin-{WEEK}-id")
    out = []
    for r in people:
        msg = build_message(rendered, "desk@localhost", [r.email])
        mid = message_id(WEEK, "bulletin", None, "id", r.email, digest)
        out.append(Letter(WEEK, "bulletin", r, "id", address(msg, "desk@localhost", r, mid),
                          digest))
    return out


def _smtp(port: int, tls: str = "none", ca: str | None = None, user: str | None = None,
          password: str | None = None) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, user=user, password=password, tls=tls,
                        sender="desk@localhost", ca_file=ca)


def _log(con) -> list[tuple]:
    return con.execute("SELECT recipient_email, status, attempts, error FROM audit.delivery "
                       "ORDER BY delivery_id").fetchall()


def test_starttls_and_auth_deliver_each_message_once(warehouse, tmp_path):
    people = _people(3)
    with smtp_server(tmp_path, tls=True) as (handler, port, ca):
        smtp = _smtp(port, "starttls", str(ca), USER, PASSWORD)
        first = deliver(warehouse, _letters(people), SmtpTransport(smtp), "run1")
        again = deliver(warehouse, _letters(people), SmtpTransport(smtp), "run2")
    assert [o.status for o in first] == ["sent"] * 3
    assert [o.status for o in again] == ["skipped_sent"] * 3
    assert sorted(r.rcpt[0] for r in handler.received) == sorted(p.email for p in people)
    assert all(r.message["Subject"] == f"Buletin {WEEK}" for r in handler.received)
    assert [s for _, s, _, _ in _log(warehouse)] == ["sent"] * 3


def test_wrong_password_is_a_permanent_failure_without_retries(warehouse, tmp_path):
    with smtp_server(tmp_path, tls=True) as (handler, port, ca):
        smtp = _smtp(port, "starttls", str(ca), USER, "salah")
        [outcome] = deliver(warehouse, _letters(_people(1)), SmtpTransport(smtp), "run1")
    assert outcome.status == "failed_permanent" and outcome.attempts == 1
    assert "login SMTP ditolak" in outcome.error
    assert handler.received == []


def test_untrusted_certificate_is_refused(warehouse, tmp_path):
    """Without the CA file the client will not talk to a server it cannot verify."""
    with smtp_server(tmp_path, tls=True) as (handler, port, _):
        smtp = _smtp(port, "starttls", None, USER, PASSWORD)
        [outcome] = deliver(warehouse, _letters(_people(1)), SmtpTransport(smtp), "run1")
    assert outcome.status == "failed_temporary" and handler.received == []


def test_a_retry_of_the_same_run_tries_only_temporary_failures_again(warehouse, tmp_path):
    """A pass tries each letter once; a second pass with the same run id (what a Prefect task
    retry does) keeps what was sent and what failed permanently, and tries the 4xx and the
    dropped connection again; a new run later delivers the rest without duplicates."""
    people = _people(6)
    slow, gone = people[1].email, people[2].email
    with smtp_server(tmp_path) as (handler, port, _):
        handler.refuse = {slow: "451 4.3.0 mailbox busy", gone: "550 5.1.1 no such user"}
        handler.drop_next = 1  # the very first message loses its connection mid-send
        transport = SmtpTransport(_smtp(port))
        first = {o.letter.recipient.email: o for o in
                 deliver(warehouse, _letters(people), transport, "run1")}
        assert first[people[0].email].status == "failed_temporary"  # dropped, and the pass
        assert first[people[3].email].status == "sent"  # went on to the next letters
        assert first[slow].status == "failed_temporary" and first[slow].attempts == 1
        assert first[gone].status == "failed_permanent" and "550" in first[gone].error

        retry = {o.letter.recipient.email: o for o in
                 deliver(warehouse, _letters(people), transport, "run1")}
        assert retry[people[0].email].status == "sent"
        assert retry[people[0].email].attempts == 2
        assert retry[people[3].email].status == "sent"  # sent in this run, not resent
        assert retry[slow].status == "failed_temporary" and retry[slow].attempts == 2
        assert retry[gone].status == "failed_permanent" and retry[gone].attempts == 1

        handler.refuse = {}  # the mailbox frees up; the address is fixed
        second = deliver(warehouse, _letters(people), transport, "run2")
    assert {o.letter.recipient.email: o.status for o in second} == {
        p.email: ("sent" if p.email in (slow, gone) else "skipped_sent") for p in people}
    delivered = [r.rcpt[0] for r in handler.received]
    assert sorted(delivered) == sorted(p.email for p in people)  # each exactly once
    story = _log(warehouse)
    assert [(e, s) for e, s, _, _ in story if e == gone] == [
        (gone, "failed_permanent"), (gone, "sent")]
    assert [(e, s, n) for e, s, n, _ in story if e == slow] == [
        (slow, "failed_temporary", 2), (slow, "sent", 1)]  # one row per run's attempt series


def test_a_retry_of_a_resend_does_not_send_twice(warehouse, tmp_path):
    people = _people(2)
    with smtp_server(tmp_path) as (handler, port, _):
        handler.refuse = {people[1].email: "451 4.3.0 busy"}
        transport = SmtpTransport(_smtp(port))
        deliver(warehouse, _letters(people), transport, "run1")
        deliver(warehouse, _letters(people), transport, "run2", resend=True)
        handler.refuse = {}
        again = deliver(warehouse, _letters(people), transport, "run2", resend=True)
    assert [o.status for o in again] == ["sent", "sent"]
    assert [r.rcpt[0] for r in handler.received] == [people[0].email, people[0].email,
                                                      people[1].email]


def test_resend_sends_again_and_new_figures_do_not(warehouse, tmp_path):
    people = _people(2)
    with smtp_server(tmp_path) as (handler, port, _):
        transport = SmtpTransport(_smtp(port))
        deliver(warehouse, _letters(people), transport, "run1")
        deliver(warehouse, _letters(people, "v2"), transport, "run2")
        assert len(handler.received) == 2  # once a week, even if figures changed
        deliver(warehouse, _letters(people, "v2"), transport, "run3", resend=True)
    assert len(handler.received) == 4
    ids = [r.message["Message-ID"] for r in handler.received]
    assert ids[0] != ids[2]  # new figures, new Message-ID


def test_a_message_left_sending_is_not_resent(warehouse, tmp_path):
    """A process that died mid-send leaves `sending`: the outcome is unknown, so no resend."""
    [letter] = _letters(_people(1))
    warehouse.execute(
        "INSERT INTO audit.delivery (delivery_id, week, message_kind, lang, recipient_name, "
        "recipient_email, recipient_role, transport, message_id, data_hash, status) VALUES "
        "(nextval('audit.delivery_id_seq'), ?, 'bulletin', 'id', 'x', ?, 'province', 'smtp', "
        "?, ?, 'sending')", [WEEK, letter.recipient.email, letter.message_id, letter.data_hash])
    with smtp_server(tmp_path) as (handler, port, _):
        [outcome] = deliver(warehouse, [letter], SmtpTransport(_smtp(port)), "run2")
    assert outcome.status == "skipped_uncertain" and handler.received == []


def _assert_stopped_at_once(warehouse, outcomes, reason: str, caplog) -> None:
    assert [o.status for o in outcomes] == ["failed_temporary"] * 3
    assert [o.attempts for o in outcomes] == [1, 0, 0]  # only the first letter met the server
    assert reason in outcomes[0].error
    assert all(o.error == f"tidak dicoba: {outcomes[0].error}" for o in outcomes[1:])
    assert [(s, n) for _, s, n, _ in _log(warehouse)] == [
        ("failed_temporary", 1), ("failed_temporary", 0), ("failed_temporary", 0)]
    stops = [r for r in caplog.records if "pengiriman dihentikan" in r.getMessage()]
    assert len(stops) == 1 and "2 pesan sisa" in stops[0].getMessage()


def test_refused_connection_stops_the_pass_at_once(warehouse, caplog):
    """A closed port: every letter left is recorded failed_temporary with the reason, in one
    log line, instead of each letter paying its own connection attempt and backoff."""
    from tests.smtp_server import free_port

    outcomes = deliver(warehouse, _letters(_people(3)), SmtpTransport(_smtp(free_port())),
                       "run1")
    _assert_stopped_at_once(warehouse, outcomes, "tidak dapat dihubungi", caplog)


@contextmanager
def _silent_server() -> Iterator[tuple[int, list[socket.socket]]]:
    """Accepts TCP connections and never says a word (a hung relay, a black-holing firewall)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


def test_a_server_that_never_answers_stops_the_pass_at_once(warehouse, caplog):
    with _silent_server() as (port, accepted):
        outcomes = deliver(warehouse, _letters(_people(3)),
                           SmtpTransport(_smtp(port), connect_timeout=0.3), "run1")
        assert len(accepted) == 1  # one connection attempt for the whole pass
    _assert_stopped_at_once(warehouse, outcomes, "tidak menjawab dalam 0.3 detik", caplog)


def test_a_failed_login_stops_the_pass_as_permanent(warehouse, tmp_path):
    with smtp_server(tmp_path, tls=True) as (_, port, ca):
        smtp = _smtp(port, "starttls", str(ca), USER, "salah")
        outcomes = deliver(warehouse, _letters(_people(3)), SmtpTransport(smtp), "run1")
    assert [o.status for o in outcomes] == ["failed_permanent"] * 3
    assert [o.attempts for o in outcomes] == [1, 0, 0]  # one login tried, not three


def test_outbox_transport_writes_each_message_once(warehouse, tmp_path):
    people = _people(2)
    transport = OutboxTransport(tmp_path / "outbox")
    deliver(warehouse, _letters(people), transport, "run1")
    deliver(warehouse, _letters(people), transport, "run2")
    files = sorted((tmp_path / "outbox" / "mail" / WEEK).glob("*.eml"))
    assert len(files) == 2
    assert all(b"Buletin" in f.read_bytes() for f in files)


def test_password_never_reaches_the_log(warehouse, tmp_path):
    with smtp_server(tmp_path, tls=True) as (_, port, ca):
        smtp = _smtp(port, "starttls", str(ca), USER, "salah-sekali-123")
        deliver(warehouse, _letters(_people(1)), SmtpTransport(smtp), "run1")
    dump = str(warehouse.execute("SELECT * FROM audit.delivery").fetchall())
    assert "salah-sekali-123" not in dump
    assert "salah-sekali-123" not in repr(smtp) and "salah-sekali-123" not in repr(
        replace(smtp))


@pytest.mark.parametrize("tls", ["ssl"])
def test_implicit_tls_setting_is_validated(monkeypatch, tls):
    from tasks.config import load_settings

    monkeypatch.setenv("PILKADA_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PILKADA_SMTP_TLS", tls)
    assert load_settings().smtp.port == 465
    monkeypatch.setenv("PILKADA_SMTP_TLS", "kadang")
    with pytest.raises(ValueError, match=r"PILKADA_SMTP_TLS='kadang' tidak valid.*starttls"):
        load_settings()


KILLED_SENDER = (
    "import sys\n"
    "from pathlib import Path\n"
    "from tasks.publish.delivery import OutboxTransport, deliver\n"
    "from tasks.warehouse.database import connect\n"
    "from tests.test_delivery import _letters, _people\n"
    "with connect(Path(sys.argv[1])) as con:\n"
    "    deliver(con, _letters(_people(3)), OutboxTransport(Path(sys.argv[2])), 'run1')\n"
)


@pytest.mark.faults
def test_sigkill_between_send_and_log_is_never_sent_twice(warehouse, settings_env, tmp_path):
    """Killed after the first message left but before its log row said so: the rerun does not
    resend it (its fate is unknown, and reported) and delivers the others exactly once."""
    warehouse.execute("CHECKPOINT")
    warehouse.close()
    outbox = tmp_path / "outbox"
    kill_at("delivery-after-send", KILLED_SENDER, [str(settings_env.warehouse), str(outbox)],
            tmp_path)

    with connect(settings_env.warehouse) as con:
        outcomes = deliver(con, _letters(_people(3)), OutboxTransport(outbox), "run2")
        log = con.execute("SELECT recipient_email, status FROM audit.delivery "
                          "ORDER BY delivery_id").fetchall()
    assert [o.status for o in outcomes] == ["skipped_uncertain", "sent", "sent"]
    assert len(list((outbox / "mail" / WEEK).glob("*.eml"))) == 3  # each message once
    assert log[0][1] == "sending"


def test_slow_server_times_out_and_the_rerun_does_not_duplicate(warehouse, tmp_path):
    """A server slower than the timeout: the attempt fails as temporary. Whether the server kept
    the message is unknowable from here; the log says failed_temporary and the rerun sends it."""
    [letter] = _letters(_people(1))
    with smtp_server(tmp_path) as (handler, port, _):
        handler.delay = 2
        [slow] = deliver(warehouse, [letter], SmtpTransport(_smtp(port), timeout=0.5), "run1")
        assert slow.status == "failed_temporary" and slow.attempts == 1
        assert "tidak menjawab dalam 0.5 detik" in slow.error
        handler.delay = 0
        [ok] = deliver(warehouse, [letter], SmtpTransport(_smtp(port)), "run2")
        [again] = deliver(warehouse, [letter], SmtpTransport(_smtp(port)), "run3")
    assert ok.status == "sent" and again.status == "skipped_sent"


@pytest.mark.flow
def test_password_can_come_from_a_prefect_secret_block(monkeypatch, prefect_harness):
    from prefect.blocks.system import Secret

    from tasks.config import load_settings

    Secret(value="dari-blok-rahasia").save("pilkada-smtp-password", overwrite=True)
    monkeypatch.setenv("PILKADA_SMTP_HOST", "127.0.0.1")
    monkeypatch.delenv("PILKADA_SMTP_PASSWORD", raising=False)
    monkeypatch.setenv("PILKADA_SMTP_PASSWORD_BLOCK", "pilkada-smtp-password")
    smtp = load_settings().smtp
    assert smtp.password is None  # nothing read until a login needs it
    assert smtp.resolve_password() == "dari-blok-rahasia"
    assert "dari-blok-rahasia" not in repr(smtp)


# ---------------------------------------------------------------------------------------------
# the provincial desk: registered by its province code, answered with feedback, never an annex

KABKOTA = {"6401", "6402", "6472"}
PROVINCES = {"64"}


def _registry(tmp_path, role: str, scope: list[str] | None) -> Path:
    path = tmp_path / "recipients.toml"
    line = f"scope = {scope!r}\n".replace("'", '"') if scope is not None else ""
    path.write_text(f'[[recipient]]\nname = "Desk"\nemail = "desk@desk.example.org"\n'
                    f'role = "{role}"\n{line}', encoding="utf-8")
    return path


def test_the_provincial_desk_is_registered_by_its_province_code(tmp_path):
    [desk] = load_recipients(_registry(tmp_path, "province_desk", ["64"]), KABKOTA, PROVINCES)
    assert (desk.role, desk.scope) == ("province_desk", ("64",))
    shipped = load_recipients(ROOT / "config" / "recipients.toml",
                              set(regions()["kabkota"]["kabkota_code"].to_list()), PROVINCES)
    assert [r.scope for r in shipped if r.role == "province_desk"] == [("64",)]


@pytest.mark.parametrize(("role", "scope", "says"), [
    ("kabkota", ["64"], '64 adalah kode provinsi; desk provinsi didaftarkan dengan role = '
                        '"province_desk"'),
    ("province_desk", ["6472"], "6472 adalah kode kab/kota; desk provinsi hanya menerima"),
    ("province_desk", ["63"], "kode provinsi tidak dikenal: 63"),
    ("province_desk", None, "desk provinsi harus punya scope"),
    ("province", ["64"], "hanya desk (kabkota, province_desk) yang punya scope"),
])
def test_a_scope_that_does_not_fit_the_role_stops_the_run(tmp_path, role, scope, says):
    with pytest.raises(RegistryError, match="penerima ke-1: ") as caught:
        load_recipients(_registry(tmp_path, role, scope), KABKOTA, PROVINCES)
    assert says in str(caught.value)


def _compose(tmp_path, feedback_of: dict[str, list[Path]]) -> tuple[list[Letter], list[str]]:
    """The letters of a province desk and a kab/kota desk, and the annexes that were asked for."""
    rendered = RenderedBulletin(html="<p>x</p>", text="x", images={}, subject=f"Buletin {WEEK}",
                                name="x")
    asked: list[str] = []

    def annex(code: str, lang: str) -> tuple[dict, RenderedBulletin]:
        asked.append(code)
        return {"kabkota": code}, replace(rendered, subject=f"Lampiran {code}")

    people = [Recipient("Desk Provinsi", "desk-64@desk.example.org", "province_desk", ("64",)),
              Recipient("Desk Samarinda", "desk-6472@desk.example.org", "kabkota", ("6472",))]
    letters = compose(WEEK, people, "desk@localhost", lambda lg: ({"week": WEEK}, rendered),
                      annex, lambda code: feedback_of.get(code, []))
    return letters, asked


def test_the_provincial_desk_gets_a_feedback_letter_and_never_an_annex(tmp_path):
    note = tmp_path / "64_tindak_lanjut_2024-W47.csv.7.umpan-balik.txt"
    note.write_text("Status        : DITOLAK\n", encoding="utf-8")
    table = tmp_path / "64_tindak_lanjut_2024-W47.csv.7.temuan.csv"
    table.write_text("baris;pesan\n2;x\n", encoding="utf-8")
    letters, asked = _compose(tmp_path, {"64": [note, table]})
    assert asked == ["6472"]
    assert [(x.recipient.role, x.kind, x.kabkota_code) for x in letters] == [
        ("province_desk", "bulletin", None), ("province_desk", "feedback", "64"),
        ("kabkota", "bulletin", None), ("kabkota", "annex", "6472")]
    feedback = letters[1].message
    assert feedback["Subject"] == f"Umpan Balik Kiriman Desk Pilkada Provinsi (64) — Minggu {WEEK}"
    assert "Status        : DITOLAK" in feedback.get_body(("plain",)).get_content()
    assert [p.get_filename() for p in feedback.iter_attachments()] == [note.name, table.name]
    assert not list(letters[3].message.iter_attachments())  # Samarinda: nothing of the province's


def test_no_feedback_letter_when_nothing_of_the_provincial_desk_needs_fixing(tmp_path):
    letters, _ = _compose(tmp_path, {})
    assert [x.kind for x in letters if x.recipient.role == "province_desk"] == ["bulletin"]
