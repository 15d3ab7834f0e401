"""Which Prefect API a command talks to, and the local Prefect server for machines that have none.

- `pilkada serve` needs a long-lived server (the ephemeral one cannot schedule): the server named
  by PREFECT_API_URL, else `LocalServer`, Prefect's own `prefect server start` as a child process
  on 127.0.0.1 that stops with `serve` (`prefect_api`).
- A one-off command (`ingest`, `bulletin`, `run`, `backfill`, `demo`) uses PREFECT_API_URL if set,
  else `serve`'s server if it is up on this checkout's Prefect home, else a temporary
  `LocalServer` on that home, launched before the command's heavy imports so the two overlap
  (`one_off_api`; docs/decisions.md says why not Prefect's own ephemeral server).

One Prefect home: `serve` and the one-off commands keep their runs in the same database,
`prefect_home()` (<warehouse folder>/prefect unless PREFECT_HOME is set), so every run made by
hand shows in the UI that `serve` prints.

Prefect interfaces used (checked against Prefect 3.9.1; tests/test_prefect_server.py pins the
behaviour): the `prefect server start` command and its documented settings, `/api/health`,
`prefect.settings`, `APILogHandler.flush`, and one internal, `EventsWorker.drain_all` (see
`flush_to_api`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

DEFAULT_PORT = 4200
LOOPBACK = "127.0.0.1"


def prefect_home() -> Path:
    """Where Prefect's database lives for this checkout: PREFECT_HOME if the user set it, else
    `prefect` next to the warehouse (by default `data/prefect`).

    `serve` and the one-off commands both use it, so a run made by hand is recorded in the same
    database as the scheduled ones and shows in the UI that `serve` prints (Prefect's own default,
    ~/.prefect, would keep the two apart)."""
    if home := os.environ.get("PREFECT_HOME", "").strip():
        return Path(home).expanduser().resolve()
    from tasks.config import load_settings

    try:
        warehouse = load_settings().warehouse
    except ValueError:  # a configuration mistake: the command itself reports it
        warehouse = Path("data/warehouse.duckdb")
    return (warehouse.parent / "prefect").resolve()


def configured_api_url() -> str | None:
    """PREFECT_API_URL from the environment or the active Prefect profile, if any."""
    from prefect.settings import get_current_settings

    return os.environ.get("PREFECT_API_URL") or get_current_settings().api.url


def ui_url_for(api_url: str) -> str:
    """The UI of a self-hosted server sits at the API URL without its `/api` suffix."""
    url = api_url.rstrip("/")
    return url[: -len("/api")] if url.endswith("/api") else url


def api_healthy(api_url: str, timeout: float = 3.0) -> bool:
    """The server's public health check answers `true` (no proxy for a loopback server)."""
    import httpx

    local = any(h in api_url for h in (LOOPBACK, "localhost"))
    try:
        r = httpx.get(api_url.rstrip("/") + "/health", timeout=timeout, trust_env=not local)
    except httpx.HTTPError:
        return False
    return r.status_code == 200 and r.text.strip() == "true"


def port_free(port: int, host: str = LOOPBACK) -> bool:
    """Nothing listens there (connections of a stopped server lingering in TIME_WAIT do not
    count: the server itself binds with SO_REUSEADDR too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = LOOPBACK) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ServerError(RuntimeError):
    """The Prefect server could not be started or reached; the message says what to do."""


def _die_with_parent() -> Callable[[], None] | None:
    """Linux: a hook that makes the server get SIGTERM if its parent dies, even by SIGKILL
    (PR_SET_PDEATHSIG). Everything is looked up here, in the parent: the hook runs between fork
    and exec, where importing or allocating could deadlock."""
    if sys.platform != "linux":
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig, sigterm = 1, int(signal.SIGTERM)
    return lambda: prctl(pr_set_pdeathsig, sigterm)


@dataclass
class LocalServer:
    """`prefect server start` on the loopback interface, as a child process.

    Its database (SQLite) and settings live in `home` (PREFECT_HOME), so run history survives
    restarts; its output goes to `home/<name>.log`. Use as a context manager, or call `start()`
    (or `launch()` then `wait_healthy()`) and `stop()`; `stop()` is safe to call twice.

    Not Prefect's `--background` mode: that server outlives its parent by design, and this one
    must die with `serve` (or the one-off command) even when that is killed.
    """

    home: Path
    port: int = DEFAULT_PORT
    host: str = LOOPBACK
    startup_timeout: float = 120.0
    name: str = "server"  # of its log, pid and url files in `home`
    ui: bool = True
    # False: a server that only records (API, task runs, events, logs) and does nothing on its
    # own: no scheduler, no Late marking, no automations. For a one-off command's temporary
    # server, so it never schedules, marks Late or fires an alert beside the one `serve` runs on
    # the same database. (Not `--no-services`: that also stops the services that record task
    # runs and events.)
    services: bool = True
    _proc: subprocess.Popen | None = None

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.home / f"{self.name}.log"

    @property
    def pid_path(self) -> Path:
        return self.home / f"{self.name}.pid"

    @property
    def url_path(self) -> Path:
        """Holds `api_url` while the server runs, so a one-off command finds it (`running_api`)."""
        return self.home / f"{self.name}.url"

    @property
    def pid(self) -> int | None:
        """The server process while it runs (None before `launch` and after `stop`)."""
        return None if self._proc is None else self._proc.pid

    def start(self) -> LocalServer:
        """Launch the server and wait until it answers."""
        self.launch()
        try:
            self.wait_healthy()
        except BaseException:  # incl. Ctrl-C while waiting: never leave the server behind
            self.stop()
            raise
        return self

    def launch(self) -> LocalServer:
        """Start the server process without waiting for it (see `wait_healthy`), so the caller
        can do its own start-up work while the server boots."""
        if not port_free(self.port, self.host):
            leftover = ""
            if self.pid_path.exists():
                pid = self.pid_path.read_text().strip()
                leftover = (f" Mungkin server sisa `pilkada serve` sebelumnya (PID {pid}, lihat "
                            f"{self.pid_path}); hentikan dengan `kill {pid}`.")
            raise ServerError(
                f"Port {self.port} di {self.host} sudah dipakai.{leftover} Pilih port lain dengan "
                f"--port, atau bila itu server Prefect, pakai dengan "
                f"`export PREFECT_API_URL={self.api_url}`.")
        self.home.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items()
               if k not in ("PREFECT_API_URL", "PREFECT_UI_URL", "PREFECT_API_KEY")}
        env.update(PREFECT_HOME=str(self.home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
                   DO_NOT_TRACK="1", PREFECT_SERVER_UI_API_URL=self.api_url,
                   PREFECT_SERVER_UI_ENABLED=str(self.ui).lower())
        if not self.services:
            env.update(PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
                       PREFECT_SERVER_SERVICES_LATE_RUNS_ENABLED="false",
                       PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED="false")
        cmd = [sys.executable, "-m", "prefect", "server", "start",
               "--host", self.host, "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches `serve`, which stops the server last
                preexec_fn=_die_with_parent())
        self.pid_path.write_text(str(self._proc.pid))
        self.url_path.write_text(self.api_url)
        return self

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while not api_healthy(self.api_url, timeout=2):
            assert self._proc is not None
            if (code := self._proc.poll()) is not None:
                raise ServerError(f"Server Prefect berhenti saat mulai (kode {code}); lihat "
                                  f"{self.log_path}:\n{self._tail()}")
            if time.monotonic() > deadline:
                raise ServerError(f"Server Prefect tidak sehat dalam {self.startup_timeout:.0f} "
                                  f"detik; lihat {self.log_path}:\n{self._tail()}")
            time.sleep(0.25)

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to the server's process group (uvicorn and anything it started), SIGKILL
        after `timeout`; then its pid and url files go."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        for path in (self.pid_path, self.url_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass(frozen=True)
class Api:
    api_url: str
    ui_url: str
    local: LocalServer | None  # None: an existing server from PREFECT_API_URL


@contextlib.contextmanager
def use_api(api_url: str) -> Iterator[None]:
    """Point this process and the flow-run processes it starts at `api_url`."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    before = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = api_url
    try:
        with temporary_settings(updates={PREFECT_API_URL: api_url}):
            yield
    finally:
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before


@contextlib.contextmanager
def prefect_api(home: Path, port: int = DEFAULT_PORT) -> Iterator[Api]:
    """For `serve`: the server named by PREFECT_API_URL (checked to be up), else a `LocalServer`
    in `home`, stopped again when the block ends."""
    os.environ.setdefault("DO_NOT_TRACK", "1")  # Prefect's client-side analytics, and its runs'
    url = configured_api_url()
    if url:
        if not api_healthy(url, timeout=10):
            raise ServerError(
                f"Server Prefect di PREFECT_API_URL={url} tidak menjawab ({url}/health). "
                "Nyalakan server itu, atau hapus PREFECT_API_URL agar `pilkada serve` "
                "menyalakan server lokal sendiri.")
        with use_api(url):
            yield Api(url, ui_url_for(url), None)
        return
    with LocalServer(home, port) as server, use_api(server.api_url):
        yield Api(server.api_url, server.ui_url, server)


def running_api(home: Path) -> str | None:
    """The API of the server `pilkada serve` started on `home`, if it is up now."""
    try:
        url = (home / "server.url").read_text().strip()
    except OSError:
        return None
    return url if url and api_healthy(url, timeout=2) else None


@contextlib.contextmanager
def one_off_api(*modules: str) -> Iterator[None]:
    """A Prefect API for a one-off command's flow runs, with `modules` imported.

    With PREFECT_API_URL set (or the ephemeral server disabled) that is the configured API.
    Otherwise the run is recorded in `prefect_home()`, the database `pilkada serve` uses:

    - if `serve`'s server is up on it, through that server (the run shows in its UI at once,
      and its automations alert on it);
    - else through a temporary server on that database (no UI, no scheduler, no alerts),
      stopped when the block ends, after the run's last logs and events reached it; the run
      shows in the UI of the next `serve`. Prefect would start its own temporary server on the
      first flow call: import the server in this process, boot it in a subprocess, and only
      then would the run import Great Expectations, WeasyPrint and matplotlib. Here the server
      is launched first and boots while this process imports `modules`, so a cold command waits
      for the longer of the two instead of their sum (docs/decisions.md).
    """
    import importlib

    from prefect.settings import get_current_settings

    settings = get_current_settings()
    if configured_api_url() or not settings.server.ephemeral.enabled:
        for name in modules:
            importlib.import_module(name)
        yield
        return
    home = prefect_home()
    if url := running_api(home):
        for name in modules:
            importlib.import_module(name)
        with use_api(url):
            yield
        return
    port = free_port()
    server = LocalServer(home, port, name=f"temporary-server-{port}", ui=False,
                         services=False).launch()
    try:
        for name in modules:
            importlib.import_module(name)
        server.wait_healthy()
        with use_api(server.api_url):
            began = datetime.now(UTC)
            try:
                yield
            finally:
                flush_to_api()
                settle(began)
    finally:
        server.stop()
        with contextlib.suppress(FileNotFoundError):
            server.log_path.unlink()


def flush_to_api(timeout: float = 10.0) -> None:
    """Send the run logs and events still queued in this process to the API, before the
    temporary server stops. Prefect sends both in batches from background workers and flushes
    them only at interpreter exit (before its own ephemeral server's exit hook stops it); ours
    stops sooner, so without this the run's last log lines and task-run states (which the server
    records from events) would be lost.

    Logs: `APILogHandler.flush()`, public (blocks up to 5 s outside an event loop). Events: no
    public flush exists in Prefect 3.9.1; `EventsWorker.drain_all` is what Prefect's own
    `prefect_test_harness` calls before stopping its server. Checked against Prefect 3.9.1;
    tests/test_prefect_server.py fails if either stops delivering."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogHandler

    EventsWorker.drain_all(timeout=timeout)
    APILogHandler().flush()


def settle(began: datetime, timeout: float = 30.0, poll: float = 0.5) -> bool:
    """Wait until the temporary server has recorded every task run of the flow runs started since
    `began` in a final state, or `timeout`; say so on stderr when it has not.

    The server records task-run states from the events it received, one at a time, and cancels
    what it has not processed when it stops: 60 task runs finishing together at a run's end
    left 8 recorded (tests/test_prefect_server.py). No public call says the server has caught
    up, so this polls the public client until the task runs are all final and unchanged over two
    polls. Usually about a second; the bound keeps a stuck server from holding the command."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterStartTime

    recent = FlowRunFilter(start_time=FlowRunFilterStartTime(after_=began))
    deadline = time.monotonic() + timeout
    seen: frozenset[tuple[str, str]] | None = None
    pending = 0
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(flow_run_filter=recent)
            now = frozenset((str(r.id), r.state_type.value if r.state_type else "") for r in runs)
            pending = sum(1 for r in runs if not (r.state and r.state.is_final()))
            if now == seen and not pending:
                return True
            if time.monotonic() > deadline:
                break
            seen = now
            time.sleep(poll)
    print(f"Peringatan: {pending} task run belum tercatat selesai di server Prefect sementara "
          f"setelah {timeout:.0f} s; UI bisa menampilkannya tidak lengkap (log run sudah "
          "terkirim).",
          file=sys.stderr)
    return False
