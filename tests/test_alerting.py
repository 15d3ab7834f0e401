"""Alerting, overlap and one Prefect home, on a REAL Prefect server (issue 16, parts 3, 4, 7).

One `prefect server start` on 127.0.0.1 for the module, one HTTP receiver on 127.0.0.1 (the
"Slack"), and one `pilkada serve` pointed at both. The automations are the ones in
config/automations.yaml as `serve` installs them; the server evaluates them and makes the webhook
calls itself. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import httpx
import pytest
from prefect import flow, get_client
from prefect.client.schemas.objects import ConcurrencyLimitStrategy
from prefect.settings import PREFECT_API_URL, temporary_settings
from typer.testing import CliRunner

from flows import alerts
from flows import deployments as dep
from flows import prefect_server as ps
from flows.cli import app
from samples.kaltim import generate
from tests import REPO as ROOT

pytestmark = [pytest.mark.usefixtures("outside_prefect_harness"), pytest.mark.flow]
BIN = Path(sys.executable).parent
WAIT = 180  # seconds: a bound on waiting for a real server, never an assertion on speed


class Receiver:
    """A webhook receiver on 127.0.0.1 that keeps every call (path and JSON body)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(204)
                self.end_headers()
                with receiver.changed:
                    receiver.calls.append((self.path, json.loads(body)))
                    receiver.changed.notify_all()

            def log_message(self, *args: object) -> None:
                pass

        self.http = HTTPServer((ps.LOOPBACK, 0), Handler)
        self.url = f"http://{ps.LOOPBACK}:{self.http.server_port}/hooks/T000/RAHASIA"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, **fields: str) -> dict:
        """The first call whose body has all `fields`; waits for it (bounded)."""
        deadline = time.monotonic() + WAIT
        with self.changed:
            while True:
                for _, body in self.calls:
                    if all(body.get(k) == v for k, v in fields.items()):
                        return body
                left = deadline - time.monotonic()
                assert left > 0, f"no webhook call with {fields}; calls: {self.calls}"
                self.changed.wait(left)

    def bodies(self, **fields: str) -> list[dict]:
        with self.changed:
            return [b for _, b in self.calls if all(b.get(k) == v for k, v in fields.items())]

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real server; an enqueued run is retried after 2 s instead of Prefect's 30 s."""
    name = "PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS"
    before = os.environ.get(name)
    os.environ[name] = "2"
    try:
        srv = ps.LocalServer(tmp_path_factory.mktemp("prefect-home"), ps.free_port()).launch()
    finally:
        if before is None:
            os.environ.pop(name)
        else:
            os.environ[name] = before
    try:
        srv.wait_healthy()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def client(server):
    with ps.use_api(server.api_url), get_client(sync_client=True) as c:
        yield c


@pytest.fixture(scope="module")
def served(server, client, receiver, tmp_path_factory):
    """`pilkada serve` with the webhook configured, its own data tree and the sample inbox."""
    root = tmp_path_factory.mktemp("served")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PILKADA_", "PREFECT_"))}
    env.update({
        "PILKADA_CONFIG": str(root / "no-pilkada.toml"),
        "PILKADA_ARRIVAL": "mtime",
        "PILKADA_WAREHOUSE": str(root / "data" / "warehouse.duckdb"),
        "PILKADA_INBOX": str(root / "inbox"),
        "PILKADA_OUTBOX": str(root / "outbox"),
        "PILKADA_ARCHIVE": str(root / "archive"),
        "PILKADA_ALERT_WEBHOOK_URL": receiver.url,
        "PREFECT_API_URL": server.api_url,
        "PREFECT_HOME": str(root / "prefect-client"),
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    })
    generate(root / "inbox", ["2024-W46"])
    log = root / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(BIN / "pilkada"), "serve"], env=env, cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + WAIT
        while True:
            try:
                # serve registers its deployments one after another: wait for every one.
                for name in (dep.INGEST_NAME, dep.BULLETIN_NAME):
                    client.read_deployment_by_name(name)
                break
            except Exception:
                text = log.read_text(errors="replace")
                assert proc.poll() is None, f"pilkada serve ended early:\n{text}"
                assert time.monotonic() < deadline, f"deployments never appeared:\n{text}"
                time.sleep(0.5)
        # No cron run of its own while the tests make theirs (manual runs of a paused
        # deployment still run).
        client.pause_deployment(client.read_deployment_by_name(dep.INGEST_NAME).id)
        client.pause_deployment(client.read_deployment_by_name(dep.BULLETIN_NAME).id)
        yield log
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _managed(client) -> list:
    return [a for a in client.read_automations() if alerts.MANAGED_TAG in a.tags]


def _post_event(server, event: str, run_id: str, run_name: str, flow_name: str,
                deployment: str, **labels: str) -> None:
    """A flow-run event as the Prefect server itself would record it, through the public
    events API (a stand-in for a run we cannot wait 30 minutes or a lost `serve` for)."""
    body = [{
        "id": str(uuid.uuid4()),
        "occurred": datetime.now(UTC).isoformat(),
        "event": event,
        "resource": {"prefect.resource.id": f"prefect.flow-run.{run_id}",
                     "prefect.resource.name": run_name,
                     "prefect.state-name": event.rsplit(".", 1)[1], **labels},
        "related": [
            {"prefect.resource.id": f"prefect.flow.{uuid.uuid4()}",
             "prefect.resource.role": "flow", "prefect.resource.name": flow_name},
            {"prefect.resource.id": f"prefect.deployment.{uuid.uuid4()}",
             "prefect.resource.role": "deployment", "prefect.resource.name": deployment},
        ],
        "payload": {},
    }]
    r = httpx.post(f"{server.api_url}/events", json=body, timeout=30, trust_env=False)
    assert r.status_code == 204, r.text


# --- alerting ------------------------------------------------------------------------------


def test_serve_installs_the_rules_once_and_says_where_webhooks_go(client, served, receiver,
                                                                   server):
    text = " ".join(served.read_text(errors="replace").split())
    assert f"Alert aktif: webhook akan dikirim ke http://{ps.LOOPBACK}:" in text
    assert "RAHASIA" not in text  # the token in a webhook's path is never printed
    rules = [r["name"] for r in alerts.load_rules()]
    installed = _managed(client)
    assert sorted(a.name for a in installed) == sorted(rules)
    block_ids = {a.actions[0].block_document_id for a in installed}
    assert all(len(a.actions) == 1 and a.actions[0].type == "call-webhook" for a in installed)
    [block_id] = block_ids
    block = client.read_block_document(block_id, include_secrets=True)
    assert block.name == alerts.DEFAULT_BLOCK and block.data["url"] == receiver.url

    with ps.use_api(server.api_url):  # again, as the next `serve` start does
        status = alerts.install(server.ui_url, env={alerts.URL_VAR: receiver.url})
    again = _managed(client)
    assert {a.id for a in again} == {a.id for a in installed}  # updated in place, not added
    assert status.enabled and status.names == tuple(rules)


def test_a_failed_run_makes_exactly_one_webhook_call_with_its_name_and_reason(
        client, served, receiver, server):
    @flow(name="ingest-submissions")
    def ingest_that_fails(why: str) -> None:
        raise RuntimeError(why)

    names = []
    with ps.use_api(server.api_url):
        for why in ('gudang data rusak: "uji"', "penanda"):
            state = ingest_that_fails(why, return_state=True)
            assert state.is_failed()
            names.append(client.read_flow_run(state.state_details.flow_run_id).name)
    first = receiver.wait_for(kejadian="pilkada-run-gagal", flow_run=names[0])
    receiver.wait_for(kejadian="pilkada-run-gagal", flow_run=names[1])  # later: all seen by now
    assert len(receiver.bodies(flow_run=names[0])) == 1
    assert first["state"] == "Failed" and first["flow"] == "ingest-submissions"
    assert 'gudang data rusak: "uji"' in first["alasan"]
    assert names[0] in first["text"] and 'gudang data rusak: "uji"' in first["text"]
    assert first["ui"] == f"{server.ui_url}/runs/flow-run/{first['flow_run_id']}"


def test_a_late_scheduled_run_is_reported(served, receiver, server):
    run_id = str(uuid.uuid4())
    _post_event(server, "prefect.flow-run.Late", run_id, "jam-tujuh-terlambat",
                "ingest-submissions", "hourly", **{"prefect.state-type": "SCHEDULED"})
    body = receiver.wait_for(kejadian="pilkada-run-terlambat", flow_run_id=run_id)
    assert body["flow_run"] == "jam-tujuh-terlambat"
    assert "ingest-submissions/hourly" in body["text"] and "terlambat" in body["text"]


def test_a_bulletin_not_completed_within_its_window_is_reported(client, served, receiver,
                                                                server):
    """The shipped proactive rule with its 30-minute window shortened to 10 s (Prefect's least):
    a bulletin run that started and did not complete is reported once; one that completed in
    time is not."""
    [rule] = [a for a in alerts.build(
        client.read_block_document_by_name(alerts.DEFAULT_BLOCK, "webhook").id, server.ui_url)
        if a.name == "pilkada-buletin-belum-selesai"]
    assert rule.trigger.within == timedelta(minutes=30)
    rule.trigger.within = timedelta(seconds=10)
    rule.name, rule.tags = "uji-buletin-10-detik", []
    with ps.use_api(server.api_url):
        rule.create()
    try:
        done, stuck = str(uuid.uuid4()), str(uuid.uuid4())
        _post_event(server, "prefect.flow-run.Pending", done, "buletin-tepat-waktu",
                    "weekly-bulletin", "monday-0700")
        _post_event(server, "prefect.flow-run.Completed", done, "buletin-tepat-waktu",
                    "weekly-bulletin", "monday-0700")
        _post_event(server, "prefect.flow-run.Pending", stuck, "buletin-macet",
                    "weekly-bulletin", "monday-0700")
        body = receiver.wait_for(kejadian="pilkada-buletin-belum-selesai", flow_run_id=stuck)
        assert body["flow_run"] == "buletin-macet" and "30 menit" in body["text"]
        assert len(receiver.bodies(flow_run_id=stuck)) == 1
        assert receiver.bodies(flow_run_id=done) == []
    finally:
        client.delete_automation(rule.id)


# --- overlap -------------------------------------------------------------------------------


def test_overlapping_ingest_runs_of_the_served_deployment_wait_instead_of_failing(
        client, served, receiver):
    deployment = client.read_deployment_by_name(dep.INGEST_NAME)
    assert deployment.global_concurrency_limit is not None
    assert deployment.global_concurrency_limit.limit == 1
    assert deployment.concurrency_options.grace_period_seconds == 180
    assert deployment.concurrency_options.collision_strategy == ConcurrencyLimitStrategy.ENQUEUE
    runs = [client.create_flow_run_from_deployment(deployment.id) for _ in range(2)]
    deadline = time.monotonic() + WAIT
    while True:
        runs = [client.read_flow_run(r.id) for r in runs]
        if all(r.state and r.state.is_final() for r in runs):
            break
        assert time.monotonic() < deadline, [r.state for r in runs]
        time.sleep(1)
    assert [r.state.type.value for r in runs] == ["COMPLETED", "COMPLETED"], (
        [r.state for r in runs], served.read_text(errors="replace")[-3000:])
    history = [[s.name for s in client.read_flow_run_states(r.id)] for r in runs]
    assert any("AwaitingConcurrencySlot" in h for h in history), history  # one did wait
    first, second = sorted(runs, key=lambda r: r.start_time)
    assert first.end_time <= second.start_time  # one after the other, never both at once
    assert receiver.bodies(flow_run=first.name) == receiver.bodies(flow_run=second.name) == []


# --- one Prefect home ----------------------------------------------------------------------


def test_prefect_home_defaults_next_to_the_warehouse(settings_env, monkeypatch, tmp_path):
    monkeypatch.delenv("PREFECT_HOME", raising=False)
    assert ps.prefect_home() == (settings_env.warehouse.parent / "prefect").resolve()
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "eigen"))
    assert ps.prefect_home() == tmp_path / "eigen"


@flow(name="uji-run-tangan")
def _by_hand() -> str:
    return os.environ["PREFECT_API_URL"]


@contextlib.contextmanager
def _no_api_url(monkeypatch):
    """As a user who set neither PREFECT_API_URL nor PREFECT_HOME."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("PREFECT_HOME", raising=False)
    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        yield


def test_a_run_by_hand_goes_through_the_server_serve_started(settings_env, monkeypatch,
                                                             server, client):
    monkeypatch.delenv("PREFECT_HOME", raising=False)
    home = ps.prefect_home()
    home.mkdir(parents=True)
    (home / "server.url").write_text(server.api_url)  # as `serve`'s LocalServer leaves it
    with _no_api_url(monkeypatch), ps.one_off_api():
        state = _by_hand(return_state=True)
    assert state.result() == server.api_url
    assert client.read_flow_run(state.state_details.flow_run_id).state.is_completed()


def test_a_run_by_hand_without_serve_lands_in_serves_database(settings_env, monkeypatch):
    import sqlite3

    monkeypatch.delenv("PREFECT_HOME", raising=False)
    home = ps.prefect_home()
    with _no_api_url(monkeypatch), ps.one_off_api():
        state = _by_hand(return_state=True)
    run_id = str(state.state_details.flow_run_id)
    with contextlib.closing(sqlite3.connect(home / "prefect.db")) as db:
        rows = db.execute("SELECT state_type FROM flow_run WHERE id = ?", (run_id,)).fetchall()
    assert rows == [("COMPLETED",)]
    assert not list(home.glob("temporary-server-*"))  # its pid, url and log files are gone


# --- the switches --------------------------------------------------------------------------


def _serve_without_running(monkeypatch, server, **env: str):
    """`pilkada serve` up to the point where it would start serving (which is skipped)."""
    for name in (alerts.URL_VAR, alerts.BLOCK_VAR):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PREFECT_API_URL", server.api_url)
    monkeypatch.setattr(dep, "serve", lambda send=False: None)
    return CliRunner().invoke(app, ["serve"])


def test_a_block_name_without_the_block_stops_serve_in_one_line(settings_env, monkeypatch,
                                                                server, client, served):
    result = _serve_without_running(monkeypatch, server, **{alerts.BLOCK_VAR: "tidak-ada"})
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "blok Webhook bernama 'tidak-ada' tidak ada" in text and alerts.URL_VAR in text
    assert len(_managed(client)) == len(alerts.load_rules())  # what was there is untouched


def test_without_a_webhook_serve_says_alerts_are_off_and_removes_them(settings_env, monkeypatch,
                                                                      server, client, served):
    assert _managed(client)
    result = _serve_without_running(monkeypatch, server)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "Alert" in line]
    assert len(lines) == 1 and lines[0].startswith("Alert mati:"), result.output
    assert _managed(client) == []
