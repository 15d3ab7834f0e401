"""A delivery that did not reach everyone fails the run, and waiting on SMTP never holds the
warehouse (issue 16): real Prefect runs, a real aiosmtpd server, a closed port and a server that
accepts connections but never answers, with a small recipients registry (4 messages)."""

from __future__ import annotations

import contextvars
import threading
import time
from pathlib import Path

import duckdb
import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from prefect.states import Failed
from typer.testing import CliRunner

import flows.bulletin as bulletin_flow
import tasks.publish.delivery as delivery
from flows.bulletin import DeliveryFailed, weekly_bulletin
from flows.cli import app
from flows.ingest import ingest_submissions
from samples.kaltim import generate
from tasks.config import load_settings
from tasks.publish.delivery import DeliveryIncomplete, PermanentFailure, only_temporary
from tests import pipeline
from tests.smtp_server import smtp_server
from tests.test_delivery import _letters, _people, _silent_server

pytestmark = pytest.mark.flow

WEEK = "2024-W46"  # the one week of the sample loaded; each test has its own recipients
REGISTRY = """
[[recipient]]
name = "Sekretaris Daerah"
email = "sekda-{tag}@desk.example.org"
role = "province"

[[recipient]]
name = "Tim Data"
email = "tim-data-{tag}@desk.example.org"
role = "data_team"

[[recipient]]
name = "Desk Pilkada Kab. Paser"
email = "desk-6401-{tag}@desk.example.org"
role = "kabkota"
scope = ["6401"]
"""
REFUSED = "554 5.7.1 Relay access denied"


@pytest.fixture(scope="module")
def site(tmp_path_factory, prefect_harness):
    """A warehouse holding one sample week, the session's Prefect test server, Prefect's retries
    without their delays, a 1 s connect timeout."""
    root = tmp_path_factory.mktemp("outcome")
    generate(root / "inbox", [WEEK])
    mp = pytest.MonkeyPatch()
    pipeline.site(root, mp, warehouse=root / "w.duckdb", recipients=root / "recipients.toml",
                  smtp_host="127.0.0.1", smtp_tls="none")
    mp.setattr(bulletin_flow, "send_letters",
               bulletin_flow.send_letters.with_options(retry_delay_seconds=[0, 0, 0]))
    mp.setattr(delivery, "CONNECT_TIMEOUT", 1.0)
    ingest_submissions()
    yield root, mp
    mp.undo()


def _smtp_port(mp: pytest.MonkeyPatch, port: int) -> None:
    mp.setenv("PILKADA_SMTP_PORT", str(port))


def _recipients(root: Path, tag: str) -> tuple[str, str, str]:
    """A registry of three (province, data team, one desk: four messages) only this test uses,
    so its delivery log starts empty; returns their addresses."""
    (root / "recipients.toml").write_text(REGISTRY.format(tag=tag), encoding="utf-8")
    return tuple(f"{who}-{tag}@desk.example.org"  # type: ignore[return-value]
                 for who in ("sekda", "tim-data", "desk-6401"))


def _log(root: Path, week: str) -> list[tuple]:
    with duckdb.connect(str(root / "w.duckdb"), read_only=True) as con:
        return con.execute("SELECT recipient_email, message_kind, status, attempts, error "
                           "FROM audit.delivery WHERE week = ? ORDER BY delivery_id",
                           [week]).fetchall()


def _cli(*args: str):
    res = CliRunner().invoke(app, list(args))
    return res.exit_code, res.output + (getattr(res, "stderr", "") or "")


def _kind(subject: str) -> str:
    return ("report" if "Gagal kirim" in subject else "annex" if "Lampiran" in subject
            else "bulletin")


def _flow_run_state(state):
    with get_client(sync_client=True) as client:
        return client.read_flow_run(state.state_details.flow_run_id).state


def test_retry_condition_retries_temporary_failures_only():
    assert only_temporary(None, None, Failed(data=DeliveryIncomplete("451 busy")))
    assert not only_temporary(None, None, Failed(data=PermanentFailure("550 no such user")))
    assert not only_temporary(None, None, Failed(data=TimeoutError("task timed out")))


def test_prefect_retries_a_4xx_and_not_a_5xx(site, tmp_path):
    root, mp = site
    people = _people(3)
    with smtp_server(tmp_path) as (handler, port, _):
        _smtp_port(mp, port)
        handler.refuse = {people[0].email: "451 4.3.0 mailbox busy",
                          people[1].email: "550 5.1.1 no such user"}

        @flow
        def deliver_three() -> tuple[bool, str | None]:
            state = bulletin_flow.send_letters(load_settings(), _letters(people), False,
                                               "retry-run", return_state=True)
            return state.is_failed(), state.message

        failed, message = deliver_three()
    attempts = {e: (s, n) for e, _, s, n, _ in _log(root, "2024-W47")}
    assert attempts == {people[0].email: ("failed_temporary", 4),  # 1 + Prefect's 3 retries
                        people[1].email: ("failed_permanent", 1),  # never retried
                        people[2].email: ("sent", 1)}
    assert [r.rcpt for r in handler.received] == [[people[2].email]]  # sent once, not per retry
    assert failed and "1 pesan gagal sementara: 451 4.3.0 mailbox busy" in message


def test_a_server_refusing_everything_fails_the_run_and_the_command(site, tmp_path):
    root, mp = site
    week = WEEK
    province, team, _ = everyone = _recipients(root, "554")
    with smtp_server(tmp_path) as (handler, port, _):
        _smtp_port(mp, port)
        handler.refuse = dict.fromkeys(everyone, REFUSED)
        state = weekly_bulletin(week=week, send=True, return_state=True)

        assert state.is_failed()
        message = state.message
        assert message.startswith(f"Pengiriman buletin {week} gagal: 4 dari 4 pesan tidak "
                                  "terkirim (4 gagal permanen)")
        assert "554 5.7.1 Relay access denied (4×)" in message
        report = Path(message.split("Laporan ditulis ke ", 1)[1].split(";", 1)[0])
        assert report.parent == root / "outbox" / "reports" / week and report.exists()
        assert f"TIDAK terkirim ke tim data ({team}): 554" in message
        assert "diberi tahu" not in message
        server_side = _flow_run_state(state)
        assert server_side.type == StateType.FAILED and server_side.message == message
        failed = state.result(raise_on_failure=False)
        assert isinstance(failed, DeliveryFailed) and failed.result["report"] == str(report)
        assert (root / "outbox" / "bulletin" / week).is_dir()  # rendered before failing

        handler.refuse = {province: REFUSED}  # the relay works again, but not for the Sekda
        code, output = _cli("bulletin", "--week", week, "--send")
    assert code == 1
    assert "1 dari 4 pesan tidak terkirim (1 gagal permanen)" in output
    assert "Laporan ditulis ke" in output and "diberi tahu" not in output
    assert f"dikirim ke tim data: {team}" in output
    reports = [r for r in handler.received if "Gagal kirim" in r.message["Subject"]]
    assert [r.rcpt for r in reports] == [[team]]
    assert province in reports[0].message.get_content()


def test_an_uncertain_delivery_fails_the_command(site, tmp_path):
    """A `sending` row left by an earlier run (a SIGKILL mid-send: tests/test_delivery.py) is not
    resent, and the command says so with exit 1."""
    root, mp = site
    province, team, desk = _recipients(root, "uncertain")
    with duckdb.connect(str(root / "w.duckdb")) as con:
        con.execute(
            "INSERT INTO audit.delivery (delivery_id, week, message_kind, lang, recipient_name, "
            "recipient_email, recipient_role, transport, message_id, data_hash, status, run_id) "
            "VALUES (nextval('audit.delivery_id_seq'), ?, 'bulletin', 'id', 'Desk', ?, "
            "'kabkota', 'smtp', '<x@y>', 'h', 'sending', 'killed-run')", [WEEK, desk])
    with smtp_server(tmp_path) as (handler, port, _):
        _smtp_port(mp, port)
        code, output = _cli("bulletin", "--week", WEEK, "--send")
    assert code == 1
    assert "1 dari 4 pesan tidak terkirim (1 hasil tidak diketahui" in output
    got = sorted((r.rcpt[0], _kind(r.message["Subject"])) for r in handler.received)
    assert got == sorted([(province, "bulletin"), (team, "bulletin"), (desk, "annex"),
                          (team, "report")])  # the desk's bulletin not resent; the report sent


def test_an_ingest_is_not_refused_while_the_bulletin_waits_on_smtp(site):
    """The relay accepts TCP and never answers: while the bulletin waits on it, an hourly ingest
    gets the warehouse (it used to fail with LockBusy for the whole delivery)."""
    root, mp = site
    week = WEEK
    _recipients(root, "silent")
    generate(root / "inbox", ["2024-W47"])  # real work for the ingest
    with _silent_server() as (port, accepted):
        _smtp_port(mp, port)
        states: list = []
        context = contextvars.copy_context()  # the harness's Prefect settings, in the thread
        sending = threading.Thread(target=lambda: states.append(context.run(
            weekly_bulletin, week=week, send=True, return_state=True)))
        sending.start()
        try:
            for _ in range(1200):  # until the bulletin is connected and waiting on the server
                if accepted or not sending.is_alive():
                    break
                time.sleep(0.1)
            assert accepted, "the bulletin never reached the SMTP server"
            counts = ingest_submissions()  # raises LockBusy if the bulletin held the lock
        finally:
            sending.join()
    assert counts["files"] > 0 and counts.get("accepted", 0) > 0
    [state] = states
    assert state.is_failed()
    assert "4 dari 4 pesan tidak terkirim (4 gagal sementara)" in state.message
    assert "tidak menjawab dalam 1 detik" in state.message
    rows = [(k, s, n) for e, k, s, n, _ in _log(root, week) if "-silent@" in e]
    assert rows == [("bulletin", "failed_temporary", 4)] + [  # one try per Prefect attempt,
        (k, "failed_temporary", 0) for k in ("bulletin", "bulletin", "annex")] + [  # none
        ("failure_report", "failed_temporary", 1)]  # for the rest; the report tried once
