"""Scheduled operations on a REAL Prefect server (not the test harness, which cannot schedule).

One `prefect server start` on 127.0.0.1 (temporary PREFECT_HOME, free port) for the module;
`pilkada serve` in a subprocess registers both deployments and executes their runs; the tests
read schedules and runs back through the API, trigger runs with `run_deployment`, then deploy
`prefect.yaml` to a process work pool and let a `prefect worker` execute a run. Every run writes
to a temporary warehouse, inbox and outbox (PILKADA_* variables).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
import yaml
from prefect import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.schedules import CronSchedule
from prefect.client.schemas.sorting import FlowRunSort
from prefect.deployments import run_deployment
from prefect.flows import load_flow_from_entrypoint
from prefect.settings import PREFECT_API_URL, temporary_settings
from typer.testing import CliRunner

from flows import checkout
from flows import deployments as dep
from flows import prefect_server as ps
from flows.cli import app
from samples.kaltim import generate
from tasks.config import MAIL_CRON
from tests import REPO as ROOT

pytestmark = [pytest.mark.usefixtures("outside_prefect_harness"), pytest.mark.flow]
WITA = ZoneInfo(dep.TIMEZONE)
WEEKS = ["2024-W45", "2024-W46"]
BIN = Path(sys.executable).parent
RUN_TIMEOUT = 180


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`prefect server start` on a free loopback port; always stopped, even on failure."""
    with ps.LocalServer(tmp_path_factory.mktemp("prefect-server"), ps.free_port()) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server):
    with ps.use_api(server.api_url), get_client(sync_client=True) as c:
        yield c


def _stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    return proc.returncode


class Served:
    """`pilkada serve` pointed at the test server, with its own data tree."""

    def __init__(self, root: Path, api_url: str):
        self.root = root
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PILKADA_")}
        self.env.update({
            "PILKADA_CONFIG": str(root / "no-pilkada.toml"),
            "PILKADA_ARRIVAL": "mtime",  # the sample is replayed on its own clock
            "PILKADA_WAREHOUSE": str(root / "data" / "warehouse.duckdb"),
            "PILKADA_INBOX": str(root / "inbox"),
            "PILKADA_OUTBOX": str(root / "outbox"),
            "PILKADA_ARCHIVE": str(root / "archive"),
            "PREFECT_API_URL": api_url,
            "PREFECT_HOME": str(root / "prefect-client"),
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            "PREFECT_WORKER_QUERY_SECONDS": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
        })
        self.files = generate(root / "inbox", WEEKS)
        self.log = root / "serve.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen([str(BIN / "pilkada"), "serve"], env=self.env, cwd=ROOT,
                                         stdout=log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def html(self, week: str) -> Path:
        return self.root / "outbox" / "bulletin" / week / f"buletin-{week}-id.html"


@pytest.fixture(scope="module")
def served(server, client, tmp_path_factory):
    s = Served(tmp_path_factory.mktemp("served"), server.api_url)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                for name in dep.SCHEDULES:
                    client.read_deployment_by_name(name)
                break
            except Exception:
                assert s.proc.poll() is None, f"pilkada serve ended early:\n{s.output()}"
                assert time.monotonic() < deadline, f"deployments never appeared:\n{s.output()}"
                time.sleep(0.5)
        yield s
    finally:
        _stop(s.proc)


def _scheduled_runs(client, deployment_id, minimum: int = 1, wait: float = 60) -> list:
    """Runs the server's scheduler created for the deployment, earliest first."""
    deadline = time.monotonic() + wait
    while True:
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
            flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
                type=FlowRunFilterStateType(any_=["SCHEDULED"]))),
            sort=FlowRunSort.EXPECTED_START_TIME_ASC, limit=50)
        if len(runs) >= minimum or time.monotonic() > deadline:
            return runs
        time.sleep(0.5)


def _run(client, name: str, served: Served, **parameters):
    run = run_deployment(name, parameters=parameters, timeout=RUN_TIMEOUT, poll_interval=1)
    assert run.state is not None and run.state.is_completed(), (
        f"{name}: {run.state}\n{served.output()[-4000:]}")
    return run


def _text(result) -> str:
    """CLI output with rich's line wrapping undone."""
    return " ".join(result.output.split())


# --- the command line, without a server --------------------------------------------------------


def test_serve_with_an_unreachable_api_url_exits_1(settings_env, monkeypatch):
    dead = f"http://127.0.0.1:{ps.free_port()}/api"
    monkeypatch.setenv("PREFECT_API_URL", dead)
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 1
    assert "tidak menjawab" in _text(result) and dead in _text(result)


def test_serve_on_a_busy_port_exits_1_and_says_what_to_do(settings_env, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with socket.socket() as busy, temporary_settings(restore_defaults={PREFECT_API_URL}):
        busy.bind((ps.LOOPBACK, 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"Port {port}" in _text(result) and "--port" in _text(result)


def test_serve_with_a_bad_port_exits_2():
    assert CliRunner().invoke(app, ["serve", "--port", "0"]).exit_code == 2


def test_prefect_yaml_matches_the_served_deployments():
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    try:  # the model `prefect deploy` reads the file with (internal, so optional here)
        from prefect.cli.deploy._models import PrefectYamlModel
    except ImportError:  # pragma: no cover
        pass
    else:
        PrefectYamlModel.model_validate(config)
    limits = {}
    assert config["pull"] == [{"flows.deployments.use_checkout": {}}]
    found = {}
    for d in config["deployments"]:
        path, func = d["entrypoint"].split(":")
        assert (ROOT / path).is_file()
        flow = load_flow_from_entrypoint(f"{ROOT / path}:{func}", use_placeholder_flow=False)
        assert flow.name == d["flow_name"]
        schedule, *mail = d["schedules"]
        assert schedule["timezone"] == dep.TIMEZONE and schedule["active"] is True
        if mail:  # the mailbox's working-hours schedule, off until a mailbox is configured
            assert [(s["cron"], s["timezone"], s["active"]) for s in mail] == [
                (MAIL_CRON, dep.TIMEZONE, False)]
        assert d["work_pool"]["name"] == "pilkada"
        # pilkada-flow-run does the pull step itself for this entrypoint (flows/warm_start.py)
        assert d["work_pool"]["job_variables"] == {
            "command": "pilkada-flow-run", "env": {checkout.ENTRYPOINT_ENV: d["entrypoint"]}}
        found[f"{d['flow_name']}/{d['name']}"] = schedule["cron"]
        limits[f"{d['flow_name']}/{d['name']}"] = d.get("concurrency_limit")
    assert found == dep.SCHEDULES
    assert limits == {dep.INGEST_NAME: dep.INGEST_CONCURRENCY, dep.BULLETIN_NAME: None}


def test_a_mailbox_adds_the_working_hours_schedule(settings_env, monkeypatch):
    """Without a mailbox the ingest is hourly; with one, also every 15 minutes in working hours
    (configurable), and the deployment carries both schedules in WITA."""
    assert dep.ingest_crons() == [dep.INGEST_CRON]
    monkeypatch.setenv("PILKADA_IMAP_HOST", "127.0.0.1")
    monkeypatch.setenv("PILKADA_IMAP_USER", "desk")
    assert dep.ingest_crons() == [dep.INGEST_CRON, MAIL_CRON]
    ingest = dep.deployments()[0]
    assert [(s.schedule.cron, s.schedule.timezone) for s in ingest.schedules] == [
        (dep.INGEST_CRON, dep.TIMEZONE), (MAIL_CRON, dep.TIMEZONE)]
    monkeypatch.setenv("PILKADA_MAIL_CRON", "*/15 8-16 * * 1-5")
    assert dep.ingest_crons()[1] == "*/15 8-16 * * 1-5"


# --- served on a real server -------------------------------------------------------------------


def test_deployments_are_cron_schedules_in_wita(client, served, server):
    assert f"Prefect UI: {server.ui_url}" in " ".join(served.output().split())
    for name, cron in dep.SCHEDULES.items():
        d = client.read_deployment_by_name(name)
        [schedule] = d.schedules
        assert isinstance(schedule.schedule, CronSchedule)
        assert (schedule.schedule.cron, schedule.schedule.timezone) == (cron, "Asia/Makassar")
        assert schedule.active and not d.paused
        assert set(dep.TAGS) <= set(d.tags)
    bulletin = client.read_deployment_by_name(dep.BULLETIN_NAME)
    assert bulletin.parameters == {}
    assert bulletin.parameter_openapi_schema["properties"]["week"]["default"] is None
    assert bulletin.entrypoint == "flows.bulletin.weekly_bulletin"


def test_next_bulletin_is_monday_0700_wita_which_is_sunday_2300_utc(client, served):
    now = datetime.now(WITA)
    expected = datetime.combine(now.date(), clock(7), WITA) + timedelta(days=-now.weekday() % 7)
    if expected <= now:
        expected += timedelta(days=7)
    bulletin = client.read_deployment_by_name(dep.BULLETIN_NAME)
    runs = _scheduled_runs(client, bulletin.id)
    assert runs, "the server scheduled no bulletin run"
    first = runs[0].expected_start_time
    assert first == expected
    utc = first.astimezone(UTC)
    assert (utc.strftime("%A"), utc.hour, utc.minute) == ("Sunday", 23, 0)
    wita = first.astimezone(WITA)
    assert (wita.strftime("%A"), wita.hour, wita.minute) == ("Monday", 7, 0)
    assert all(r.parameters == {} for r in runs)  # week=None: the week just ended

    ingest = client.read_deployment_by_name(dep.INGEST_NAME)
    hours = [r.expected_start_time.astimezone(WITA) for r in _scheduled_runs(client, ingest.id, 3)]
    assert len(hours) >= 3
    assert all(6 <= t.hour <= 22 and t.minute == 0 for t in hours)
    assert hours[0] - datetime.now(WITA) < timedelta(hours=9)  # 22:00 → 06:00 is the longest gap


def test_deployment_runs_ingest_then_render_with_artifacts(client, served):
    # Keep the hourly schedule from firing an ingest of its own while this test runs (manual
    # runs of a paused deployment still run).
    client.pause_deployment(client.read_deployment_by_name(dep.INGEST_NAME).id)

    ingest = _run(client, dep.INGEST_NAME, served)
    with duckdb.connect(served.env["PILKADA_WAREHOUSE"], read_only=True) as con:
        files = con.execute("SELECT count(*) FROM audit.submission_status").fetchone()[0]
    assert files == len(served.files)

    bulletin = _run(client, dep.BULLETIN_NAME, served, week="2024-W46")
    html = served.html("2024-W46")
    assert html.is_file() and "2024" in html.read_text(encoding="utf-8")

    def artifacts(run):
        return {a.key: a for a in client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])))}

    ledger = artifacts(ingest)["ingest-ledger"]
    assert ledger.type == "table" and len(json.loads(ledger.data)) == len(served.files)
    note = artifacts(bulletin)["weekly-bulletin"]
    assert note.type == "markdown" and str(html) in note.data


def test_serve_stops_on_sigterm_pausing_the_schedules(client, served):
    assert _stop(served.proc) == 0, served.output()
    assert "Serve berhenti" in served.output()
    assert client.read_deployment_by_name(dep.BULLETIN_NAME).paused
    bulletin = client.read_deployment_by_name(dep.BULLETIN_NAME)
    assert _scheduled_runs(client, bulletin.id, wait=0) == []


def _prefect(served: Served, *args: str) -> None:
    done = subprocess.run([str(BIN / "prefect"), "--no-prompt", *args], env=served.env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"


def test_prefect_yaml_deploys_to_a_process_pool_and_a_worker_runs_it(client, served):
    assert served.proc.poll() is not None  # `serve` has stopped: the worker takes over
    _prefect(served, "work-pool", "create", "pilkada", "--type", "process")
    _prefect(served, "deploy", "--all")
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    for name, cron in dep.SCHEDULES.items():
        d = client.read_deployment_by_name(name)
        assert d.work_pool_name == "pilkada"
        [schedule] = [s for s in d.schedules if s.active]
        assert (schedule.schedule.cron, schedule.schedule.timezone) == (cron, "Asia/Makassar")
        assert d.pull_steps == config["pull"]
    ingest = client.read_deployment_by_name(dep.INGEST_NAME)
    assert ingest.global_concurrency_limit is not None
    assert ingest.global_concurrency_limit.limit == 1
    assert ingest.concurrency_options.collision_strategy.value == "ENQUEUE"

    log = served.root / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [str(BIN / "prefect"), "worker", "start", "--pool", "pilkada"],
            env={**served.env, "PILKADA_CHECKOUT": str(ROOT)}, cwd=served.root,
            stdout=out, stderr=subprocess.STDOUT)
    try:
        run = run_deployment(dep.BULLETIN_NAME, parameters={"week": "2024-W45"},
                             timeout=RUN_TIMEOUT, poll_interval=1)
        assert run.state is not None and run.state.is_completed(), (
            f"{run.state}\n{log.read_text(errors='replace')[-4000:]}")
    finally:
        _stop(worker)
    assert served.html("2024-W45").is_file()
    # pilkada-flow-run changed into the checkout itself and named the flow to the engine, which
    # therefore ran no pull step (the next test shows the step still there for a bad checkout)
    assert "deployment pull step" not in log.read_text(errors="replace")


def test_a_worker_without_pilkada_checkout_fails_its_pull_step_in_one_line(client, served):
    """The deployments of the previous test, a worker started without PILKADA_CHECKOUT: the run
    ends at the first pull step with the reason, before it could change into a wrong folder."""
    env = {k: v for k, v in served.env.items() if k != "PILKADA_CHECKOUT"}
    log = served.root / "worker-tanpa-checkout.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [str(BIN / "prefect"), "worker", "start", "--pool", "pilkada"],
            env=env, cwd=served.root, stdout=out, stderr=subprocess.STDOUT)
    try:
        run = run_deployment(dep.BULLETIN_NAME, parameters={"week": "2024-W46"},
                             timeout=RUN_TIMEOUT, poll_interval=1)
    finally:
        _stop(worker)
    worker_log = log.read_text(errors="replace")
    assert run.state is not None and run.state.is_crashed(), f"{run.state}\n{worker_log[-4000:]}"
    # The reason, whole on one line of the worker's output (the run's state only says that the
    # process exited with 1; the engine logs it, then its traceback ends with it); nothing after
    # the check ran, so no later step failed instead.
    lines = [x for x in worker_log.splitlines() if "PILKADA_CHECKOUT tidak diatur" in x]
    assert lines, worker_log[-4000:]
    for line in lines:
        assert line.endswith("PILKADA_CHECKOUT=<folder checkout Siaga Pilkada>"), line
    assert "completed successfully" not in worker_log  # no step went on after the check


def test_pilkada_flow_run_does_the_pull_step_itself_for_a_named_entrypoint(tmp_path, monkeypatch):
    """With the deployment's entrypoint in its job environment and a usable PILKADA_CHECKOUT,
    `pilkada-flow-run` changes into the checkout and names the flow to Prefect's engine (which
    then runs no pull step); with an unusable one it does nothing, and the pull step refuses."""
    from flows import warm_start

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(warm_start.FLOW_ENTRYPOINT_ENV, raising=False)
    monkeypatch.setenv(checkout.ENTRYPOINT_ENV, "flows/ingest.py:ingest_submissions")
    monkeypatch.setenv(checkout.CHECKOUT_ENV, str(tmp_path))  # names no checkout
    warm_start._in_checkout()
    assert Path.cwd() == tmp_path and warm_start.FLOW_ENTRYPOINT_ENV not in os.environ
    monkeypatch.delenv(checkout.ENTRYPOINT_ENV)
    monkeypatch.setenv(checkout.CHECKOUT_ENV, str(ROOT))
    warm_start._in_checkout()  # a deployment that names no entrypoint: its pull steps run
    assert Path.cwd() == tmp_path and warm_start.FLOW_ENTRYPOINT_ENV not in os.environ
    monkeypatch.setenv(checkout.ENTRYPOINT_ENV, "flows/ingest.py:ingest_submissions")
    warm_start._in_checkout()
    assert Path.cwd() == ROOT
    assert os.environ[warm_start.FLOW_ENTRYPOINT_ENV] == "flows/ingest.py:ingest_submissions"


def test_the_pull_step_refuses_a_folder_that_is_no_checkout_and_changes_into_one(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(checkout.CHECKOUT_ENV, str(tmp_path))
    with pytest.raises(checkout.CheckoutMissing,
                       match=f"PILKADA_CHECKOUT={tmp_path} bukan checkout"):
        dep.use_checkout()
    monkeypatch.delenv(checkout.CHECKOUT_ENV)
    with pytest.raises(checkout.CheckoutMissing, match="tidak diatur di lingkungan worker"):
        dep.use_checkout()
    assert Path.cwd() == tmp_path  # refused: nowhere else
    monkeypatch.setenv(checkout.CHECKOUT_ENV, str(ROOT))
    assert dep.use_checkout() == {"directory": str(ROOT)}
    assert Path.cwd() == ROOT
