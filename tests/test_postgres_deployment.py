"""The production setup for real: a Prefect server on PostgreSQL, `prefect.yaml` deployed to a
process work pool, and a `prefect worker` running the ingest and then the bulletin: the ingest
started cold (no `pilkada warm-start` yet: `pilkada-flow-run` becomes `python -m prefect.engine`),
the bulletin forked by the warm starter started meanwhile.

Everything is started here on 127.0.0.1 in temporary folders: a PostgreSQL cluster (Debian's
binaries, `make services`; `initdb` refuses root, so as root the server runs as `nobody`), a
`prefect server start` whose database is that cluster (PREFECT_API_DATABASE_CONNECTION_URL, no
scheduler service: only the runs the test triggers happen), and one worker. docs/operations.md
§3 describes the same steps for a real machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pytest
from prefect import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.deployments import run_deployment

from flows import deployments as dep
from flows import prefect_server as ps
from samples.kaltim import generate
from tests import REPO as ROOT

pytestmark = [pytest.mark.usefixtures("outside_prefect_harness"), pytest.mark.flow,
              pytest.mark.slow, pytest.mark.services]
PG_BIN = Path(os.environ.get("PILKADA_PG_BIN", "/usr/lib/postgresql/15/bin"))
BIN = Path(sys.executable).parent
WEEKS = ["2024-W44", "2024-W45"]
RUN_TIMEOUT = 240
NOBODY = 65534


def _pg(name: str) -> str:
    path = PG_BIN / name
    if not path.is_file():
        found = shutil.which(name)
        if not found:
            pytest.fail(f"PostgreSQL's {name} is missing ({path}): `make services` installs "
                        "Debian's postgresql; set PILKADA_PG_BIN to its bin folder if elsewhere")
        return found
    return str(path)


def _as_owner() -> dict:
    """Popen arguments that run a PostgreSQL binary as an unprivileged user when we are root."""
    return {"user": NOBODY, "group": NOBODY} if os.geteuid() == 0 else {}


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL cluster on a free loopback port with a `prefect` database; its URL."""
    root = Path(tempfile.mkdtemp(prefix="pilkada-pg-"))
    if os.geteuid() == 0:
        os.chown(root, NOBODY, NOBODY)
    data, port = root / "data", ps.free_port()
    subprocess.run([_pg("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                    "--no-sync", "-E", "UTF8"], check=True, capture_output=True, **_as_owner())
    log = root / "postgres.log"
    server = subprocess.Popen(
        [_pg("postgres"), "-D", str(data), "-p", str(port), "-k", str(root),
         "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, **_as_owner())
    try:
        deadline = time.monotonic() + 60
        while subprocess.run([_pg("pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                             capture_output=True).returncode != 0:
            assert server.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.3)
        subprocess.run([_pg("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                        "prefect"], check=True, capture_output=True)
        yield {"port": port,
               "url": f"postgresql+asyncpg://postgres@127.0.0.1:{port}/prefect"}
    finally:
        server.terminate()  # SIGTERM: PostgreSQL's smart shutdown
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        shutil.rmtree(root, ignore_errors=True)


def _psql(postgres: dict, query: str) -> str:
    done = subprocess.run([_pg("psql"), "-h", "127.0.0.1", "-p", str(postgres["port"]), "-U",
                           "postgres", "-d", "prefect", "-tAc", query],
                          check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def server(postgres, tmp_path_factory):
    """`prefect server start` with its database on the PostgreSQL cluster."""
    mp = pytest.MonkeyPatch()
    mp.setenv("PREFECT_API_DATABASE_CONNECTION_URL", postgres["url"])
    try:
        with ps.LocalServer(tmp_path_factory.mktemp("prefect-pg"), ps.free_port(), ui=False,
                             services=False) as srv:
            mp.delenv("PREFECT_API_DATABASE_CONNECTION_URL")  # the clients need only the API
            with ps.use_api(srv.api_url):
                yield srv
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def site(server, tmp_path_factory):
    """A checkout's data tree and the environment a worker on the warehouse machine has."""
    root = tmp_path_factory.mktemp("site")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PILKADA_")}
    env.update({
        "PILKADA_CONFIG": str(root / "no-pilkada.toml"),
        "PILKADA_ARRIVAL": "mtime",  # the sample is replayed on its own clock
        "PILKADA_WAREHOUSE": str(root / "data" / "warehouse.duckdb"),
        "PILKADA_INBOX": str(root / "inbox"),
        "PILKADA_OUTBOX": str(root / "outbox"),
        "PILKADA_ARCHIVE": str(root / "archive"),
        "PILKADA_CHECKOUT": str(ROOT),
        "PILKADA_WARM_SOCKET": str(root / "private" / "warm.sock"),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # pilkada-flow-run
        "PREFECT_API_URL": server.api_url,
        "PREFECT_HOME": str(root / "prefect-client"),
        "PREFECT_WORKER_QUERY_SECONDS": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "GX_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    })
    (root / "private").mkdir(mode=0o700)
    generate(root / "inbox", WEEKS)
    return root, env


def _prefect(env: dict, *args: str) -> None:
    done = subprocess.run([str(BIN / "prefect"), "--no-prompt", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"prefect {' '.join(args)}:\n{done.stdout}\n{done.stderr}"


def test_a_worker_runs_the_ingest_then_the_bulletin_on_a_postgres_backed_server(
        postgres, server, site):
    root, env = site
    _prefect(env, "work-pool", "create", "pilkada", "--type", "process")
    _prefect(env, "deploy", "--all")
    log, warm_log = root / "worker.log", root / "warm-start.log"
    starter = None
    with log.open("wb") as out:
        worker = subprocess.Popen([str(BIN / "prefect"), "worker", "start", "--pool", "pilkada"],
                                  env=env, cwd=root, stdout=out, stderr=subprocess.STDOUT)
    try:
        ingest = run_deployment(dep.INGEST_NAME, timeout=RUN_TIMEOUT, poll_interval=1)
        assert ingest.state is not None and ingest.state.is_completed(), (
            f"{ingest.state}\n{log.read_text(errors='replace')[-4000:]}")
        assert "flow run dimulai dingin" in log.read_text(errors="replace")
        with warm_log.open("wb") as out:
            starter = subprocess.Popen([str(BIN / "pilkada"), "warm-start"], env=env, cwd=ROOT,
                                       stdout=out, stderr=subprocess.STDOUT)
        sock = Path(env["PILKADA_WARM_SOCKET"])
        deadline = time.monotonic() + 120
        while not sock.exists():
            assert starter.poll() is None and time.monotonic() < deadline, warm_log.read_text()
            time.sleep(0.2)
        bulletin = run_deployment(dep.BULLETIN_NAME, parameters={"week": WEEKS[-1]},
                                  timeout=RUN_TIMEOUT, poll_interval=1)
        assert bulletin.state is not None and bulletin.state.is_completed(), (
            f"{bulletin.state}\n{log.read_text(errors='replace')[-4000:]}")
    finally:
        for process in (starter, worker):
            if process is None:
                continue
            process.terminate()
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    # the bulletin was forked by the warm starter, a process other than the worker's children
    assert f"flow run {bulletin.id} dimulai di proses" in warm_log.read_text()
    assert log.read_text(errors="replace").count("flow run dimulai dingin") == 1
    # and the cold start is in the ingest run's own log, where the data team reads it
    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[ingest.id])))
    assert any("Flow run dimulai dingin" in entry.message and "warm.sock" in entry.message
               for entry in logs), [entry.message for entry in logs][:20]

    # the runs were executed by the worker, and recorded in PostgreSQL
    with get_client(sync_client=True) as client:
        for run in (ingest, bulletin):
            assert client.read_flow_run(run.id).work_pool_name == "pilkada"
    recorded = _psql(postgres, "SELECT count(*) FROM flow_run WHERE state_type = 'COMPLETED' "
                               f"AND id IN ('{ingest.id}', '{bulletin.id}')")
    assert recorded == "2"
    # and did their work: every sample file has a verdict, the week's bulletin is rendered
    with duckdb.connect(str(root / "data" / "warehouse.duckdb"), read_only=True) as con:
        (files,) = con.execute("SELECT count(*) FROM audit.submission_status").fetchone()
    assert files == sum(1 for p in (root / "inbox").rglob("*") if p.is_file()
                        and not p.name.startswith("."))
    html = root / "outbox" / "bulletin" / WEEKS[-1] / f"buletin-{WEEKS[-1]}-id.html"
    assert html.is_file()
