"""The ingest on a REAL Dask cluster: `dask scheduler` and two `dask worker` processes on
127.0.0.1, started here, and a real Prefect server the workers report their task runs to.

The same inbox is ingested twice, in-process (the default runner) and with
`PILKADA_DASK_ADDRESS` naming the scheduler; parse/validate batches must have run in the Dask
workers' processes, and the ledger, the row issues and the core tables must be identical.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from distributed import Client
from prefect import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.logging.handlers import APILogHandler

import tasks.ingest.judge as ingest
from flows import prefect_server as ps
from flows.ingest import ingest_submissions
from samples.kaltim import generate
from tests import REPO as ROOT
from tests.pipeline import site

pytestmark = [pytest.mark.usefixtures("outside_prefect_harness"), pytest.mark.flow,
              pytest.mark.slow, pytest.mark.services]
BIN = Path(sys.executable).parent
WEEKS = ["2024-W44", "2024-W45"]  # a rejected file; flagged rows, compared with W44
# Compared between the two runs; what differs by design (when it was loaded, the run) is left out.
COMPARED = {
    "audit.submission_status": "SELECT * EXCLUDE (ingested_at) FROM audit.submission_status",
    "audit.row_issue": "SELECT * FROM audit.row_issue",
    **{t: f"SELECT * FROM {t}" for t in ("core.ringkasan", "core.logistik", "core.keamanan",
                                         "core.insiden", "core.netralitas", "core.tindak_lanjut")},
}


def _binary(name: str) -> Path:
    path = BIN / name
    if not path.is_file():
        pytest.fail(f"{path} is missing: `uv sync --frozen` installs distributed's `{name}` CLI")
    return path


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    with ps.LocalServer(tmp_path_factory.mktemp("prefect"), ps.free_port(), ui=False,
                         services=False) as server, ps.use_api(server.api_url):
        yield server


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, prefect_server):
    """A scheduler and two single-threaded workers, each in its own process; yields the address
    and the workers' PIDs (asked from the workers themselves, not their nannies)."""
    dask = _binary("dask")
    logs = tmp_path_factory.mktemp("dask")
    port = ps.free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PREFECT_API_URL": prefect_server.api_url, "DO_NOT_TRACK": "1",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false"}
    procs = [subprocess.Popen(
        [str(dask), "scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--no-dashboard", "--no-show"], env=env, cwd=ROOT,
        stdout=(logs / "scheduler.log").open("wb"), stderr=subprocess.STDOUT)]
    try:
        for n in range(2):
            procs.append(subprocess.Popen(
                [str(dask), "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                 "--no-dashboard", "--name", f"w{n}"], env=env, cwd=ROOT,
                stdout=(logs / f"worker-{n}.log").open("wb"), stderr=subprocess.STDOUT))
        with Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
            pids = set(client.run(os.getpid).values())
        yield address, pids
    finally:
        for proc in reversed(procs):
            _stop(proc)


def _ingest(root: Path, inbox: Path, mp: pytest.MonkeyPatch, address: str | None):
    settings = site(root, mp, inbox=inbox, **({"dask_address": address} if address else {}))
    state = ingest_submissions(return_state=True)
    assert state.is_completed(), state
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        tables = {t: sorted(con.execute(q).fetchall(), key=repr) for t, q in COMPARED.items()}
    return state.state_details.flow_run_id, tables


@pytest.fixture(scope="module")
def runs(tmp_path_factory, cluster):
    root = tmp_path_factory.mktemp("runs")
    generate(root / "inbox", WEEKS)
    mp = pytest.MonkeyPatch()
    # small batches: each kind's week is several tasks, so both workers get work
    mp.setattr(ingest, "BATCH_BYTES", 40_000)
    try:
        _, here = _ingest(root / "in-process", root / "inbox", mp, None)
        run_id, there = _ingest(root / "dask", root / "inbox", mp, cluster[0])
    finally:
        mp.undo()
    APILogHandler().flush()  # logs are sent in batches: all of them before reading back
    logs: list = []
    with get_client(sync_client=True) as client:
        while not logs or len(logs) % 200 == 0:  # the API's page size
            page = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])),
                                    limit=200, offset=len(logs))
            if not page:
                break
            logs += page
    return here, there, [log.message for log in logs]


def test_batches_ran_in_the_dask_workers_not_the_flows_process(runs, cluster):
    _, pids = cluster
    ran_in = {int(m.group(1)) for m in (re.search(r"^Nilai .*, proses (\d+) di ", line)
                                        for line in runs[2]) if m}
    assert ran_in, "no batch logged where it ran"
    assert ran_in <= pids, (ran_in, pids)
    assert os.getpid() not in ran_in
    assert len(ran_in) == 2  # both workers judged batches
    # Data Docs are written to this machine's outbox: built by the flow's process, beside the load
    [docs] = [int(m.group(1)) for m in (re.search(r"^Data Docs GX: .*\(proses (\d+) di ", line)
                                        for line in runs[2]) if m]
    assert docs == os.getpid()


def test_ledger_and_tables_equal_the_in_process_run(runs):
    here, there, _ = runs
    assert here["audit.submission_status"], "the in-process run loaded nothing"
    statuses = {row[6] for row in here["audit.submission_status"]}  # the `status` column
    assert {"accepted", "accepted_with_flags", "rejected"} <= statuses, statuses
    for table in COMPARED:
        only_here = [r for r in here[table] if r not in there[table]][:3]
        only_there = [r for r in there[table] if r not in here[table]][:3]
        assert there[table] == here[table], (table, only_here, only_there)
