"""What `flows/prefect_server.py` relies on from Prefect, pinned on the real thing.

A one-off `pilkada ingest` (nothing in the inbox: the shortest real flow run) runs in a
subprocess as a user runs it, without PREFECT_API_URL or PREFECT_HOME:

- with no server up, its temporary server stops with the command, leaving no process, and the
  run's final state, the final states of its task runs (which the server records from events)
  and its last log lines are on the server's database: `flush_to_api` delivered what Prefect
  only sends in the background, through a public call for logs and an internal one for events;
- in-process, task runs that all finish at a run's very end (their states are events, queued)
  are on the temporary server once `one_off_api` has stopped it (`settle` waited for them);
- with `serve`'s server up, the command uses it rather than starting its own;
- killed with SIGKILL while its server boots, the command's server dies with it.

The runs are read back through Prefect's client, from a server started afterwards on the same
Prefect home.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect import flow, get_client, task
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.objects import FlowRun
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows import prefect_server as ps

pytestmark = [pytest.mark.usefixtures("outside_prefect_harness"), pytest.mark.flow]
PILKADA = Path(sys.executable).parent / "pilkada"
COMMAND_TIMEOUT = 600  # a cold command on a loaded 2-core machine; never a measured time


@pytest.fixture
def user_env(tmp_path) -> dict[str, str]:
    """A user's environment: settings under `tmp_path`, no Prefect API or home of their own."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PILKADA_") and k not in ("PREFECT_API_URL", "PREFECT_HOME")}
    env.update(PILKADA_CONFIG=str(tmp_path / "no-pilkada.toml"),
               PILKADA_WAREHOUSE=str(tmp_path / "data" / "warehouse.duckdb"),
               PILKADA_INBOX=str(tmp_path / "inbox"), PILKADA_OUTBOX=str(tmp_path / "outbox"),
               PILKADA_ARCHIVE=str(tmp_path / "archive"), PILKADA_ARRIVAL="mtime")
    (tmp_path / "inbox").mkdir()
    return env


@pytest.fixture
def home(tmp_path) -> Path:
    """The Prefect home `prefect_home()` picks for `user_env`: next to the warehouse."""
    return tmp_path / "data" / "prefect"


def _ingest(env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run([str(PILKADA), "ingest"], env=env, capture_output=True, text=True,
                          timeout=COMMAND_TIMEOUT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Ingest selesai: {'files': 0}" in done.stdout
    return done


def _processes_on(home: Path) -> list[int]:
    """Live processes whose environment has PREFECT_HOME=home: the servers started on it."""
    mark = f"PREFECT_HOME={home}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if mark in (proc / "environ").read_bytes().split(b"\0"):
                found.append(int(proc.name))
        except OSError:  # gone meanwhile, or not ours
            continue
    return found


def _runs(api_url: str) -> Iterator[tuple[FlowRun, list, list]]:
    """Every flow run on the server, with its task runs and its logs in order."""
    with ps.use_api(api_url), get_client(sync_client=True) as client:
        for run in client.read_flow_runs():
            only = FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
            tasks = client.read_task_runs(flow_run_filter=only)
            logs = client.read_logs(log_filter=LogFilter(
                flow_run_id=LogFilterFlowRunId(any_=[run.id])))
            yield run, tasks, logs


def test_a_one_off_command_leaves_its_whole_run_on_the_server_and_no_process(user_env, home):
    _ingest(user_env)
    assert _processes_on(home) == []
    assert not list(home.glob("temporary-server-*"))  # its pid, url and log files too
    with ps.LocalServer(home, ps.free_port(), ui=False, services=False) as server:
        [(run, tasks, logs)] = list(_runs(server.api_url))
    assert run.state.is_completed()
    # The flow's three steps, each recorded from its events up to its final state.
    assert {t.name.rsplit("-", 1)[0] for t in tasks} == {
        "prepare-warehouse", "pull-inbox", "publish-snapshot"}
    assert all(t.state is not None and t.state.is_completed() for t in tasks), tasks
    # The run's last log lines, queued at its very end, reached the server before it stopped.
    messages = [(log.name, log.message) for log in logs]
    assert messages[-2:] == [("prefect.flow_runs", "Ingest selesai: {'files': 0}"),
                             ("prefect.flow_runs", "Finished in state Completed()")], messages


def test_a_one_off_command_uses_serves_running_server(user_env, home, tmp_path, monkeypatch):
    """`serve`'s server (its `server.url` in the home) keeps its database elsewhere here, so the
    run is found there only if the command went through it rather than a server of its own."""
    monkeypatch.setenv("PREFECT_SERVER_DATABASE_CONNECTION_URL",
                       f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}")
    with ps.LocalServer(home, ps.free_port(), ui=False, services=False) as serve:
        _ingest(user_env)
        assert ps.api_healthy(serve.api_url)
        [(run, _, logs)] = list(_runs(serve.api_url))
        assert run.state.is_completed() and logs
    assert not (home / "prefect.db").exists()  # no temporary server opened the home's database


@pytest.mark.faults
def test_the_temporary_server_dies_with_a_killed_command(user_env, home):
    command = subprocess.Popen([str(PILKADA), "ingest"], env=user_env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + COMMAND_TIMEOUT
        while not _processes_on(home):  # its server launched, booting while it imports
            assert command.poll() is None and time.monotonic() < deadline, "no server started"
            time.sleep(0.05)
    finally:
        command.send_signal(signal.SIGKILL)
        command.wait()
    deadline = time.monotonic() + 60
    while left := _processes_on(home):
        assert time.monotonic() < deadline, f"server {left} outlived its command"
        time.sleep(0.2)


BURST = 60  # task runs finishing together at the end, as a backfill's or an ingest's weeks do


@task
def _step(i: int) -> int:
    return i


@flow(name="uji-akhir-ramai")
def _busy_end() -> int:
    return sum(f.result() for f in _step.map(range(BURST)))


def test_task_runs_finishing_at_a_runs_end_reach_the_temporary_server(user_env, home,
                                                                      monkeypatch):
    """Without `settle`, 8 of these 60 task runs were on the server after it stopped."""
    for name in ("PREFECT_API_URL", "PREFECT_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in user_env.items():
        if name.startswith("PILKADA_"):
            monkeypatch.setenv(name, value)
    with temporary_settings(restore_defaults={PREFECT_API_URL}), ps.one_off_api():
        state = _busy_end(return_state=True)
    assert state.result() == sum(range(BURST))
    with ps.LocalServer(home, ps.free_port(), ui=False, services=False) as server:
        [(run, tasks, _)] = list(_runs(server.api_url))
    assert run.id == state.state_details.flow_run_id
    assert len(tasks) == BURST
    assert sorted(t.state.type.value for t in tasks) == ["COMPLETED"] * BURST
