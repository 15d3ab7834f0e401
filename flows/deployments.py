"""The scheduled deployments of both flows, defined once here for `pilkada serve` and the tests
(`prefect.yaml` mirrors them for work pools; a test keeps the two in step), and a local Prefect
server for machines that have none.

| deployment                      | schedule (Asia/Makassar, WITA)          | cron           |
|---------------------------------|-----------------------------------------|----------------|
| `ingest-submissions/hourly`     | every hour on the hour, 06:00–22:00     | `0 6-22 * * *` |
| `weekly-bulletin/monday-0700`   | Monday 07:00, for the week just ended   | `0 7 * * 1`    |

With a desks' mailbox configured (PILKADA_IMAP_HOST, docs/operations.md), the ingest gets a second
schedule, `PILKADA_MAIL_CRON` (default `15,30,45 7-17 * * 1-6`): with the hourly one, every 15
minutes in working hours (Monday–Saturday 07:00–17:45 WITA), so a mailed report is answered in
minutes; `prefect.yaml` carries it inactive, to switch on where the worker has a mailbox.

The time zone is set on every schedule: a cron without one runs in UTC, which would put the
bulletin at Monday 15:00 WITA, after the Desk Pilkada meeting, and the "hourly 06–22" ingest at
14:00–06:00 WITA. Asia/Makassar is UTC+8 all year (no daylight saving). Scheduling needs a real
Prefect server (the ephemeral one cannot schedule), hence `LocalServer`.

One Prefect home: `serve` and the one-off commands keep their runs in the same database,
`prefect_home()` (<warehouse folder>/prefect unless PREFECT_HOME is set), so every run made by
hand shows in the UI that `serve` prints.
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
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

TIMEZONE = "Asia/Makassar"
INGEST_FLOW, INGEST_DEPLOYMENT, INGEST_CRON = "ingest-submissions", "hourly", "0 6-22 * * *"
BULLETIN_FLOW, BULLETIN_DEPLOYMENT, BULLETIN_CRON = "weekly-bulletin", "monday-0700", "0 7 * * 1"
INGEST_NAME = f"{INGEST_FLOW}/{INGEST_DEPLOYMENT}"
BULLETIN_NAME = f"{BULLETIN_FLOW}/{BULLETIN_DEPLOYMENT}"
SCHEDULES = {INGEST_NAME: INGEST_CRON, BULLETIN_NAME: BULLETIN_CRON}
TAGS = ["pilkada", "kaltim"]
DEFAULT_PORT = 4200
LOOPBACK = "127.0.0.1"
# Two ingests of the deployment never run at once: the second waits its turn (ENQUEUE: it goes
# back to Scheduled, "AwaitingConcurrencySlot", and is tried again) instead of failing on the
# warehouse lock. The slot is a lease: a run that took it but never started (its process died
# before Running) gives it back after the grace period, and a running one renews it while alive,
# so a dead run cannot hold the slot for ever.
INGEST_CONCURRENCY = {"limit": 1, "collision_strategy": "ENQUEUE", "grace_period_seconds": 180}


def deployments(send: bool = False) -> list[RunnerDeployment]:
    """Both deployments, unregistered. Entrypoints are module paths (`flows.ingest.…`), so a
    served run finds the code wherever `pilkada serve` was started from.

    `send=True` makes the Monday bulletin deliver to the recipients (SMTP when configured, else
    `.eml` files in the outbox); by default it is only rendered into the outbox.

    The ingest has a deployment concurrency limit of 1 with ENQUEUE (`INGEST_CONCURRENCY`): an
    ingest that would overlap another one waits instead of failing on the warehouse lock. The
    bulletin has none: it already waits for the lock (up to 15 minutes) inside the run."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from flows.bulletin import weekly_bulletin
    from flows.ingest import ingest_submissions

    ingest = ingest_submissions.to_deployment(
        name=INGEST_DEPLOYMENT,
        schedules=[Cron(c, timezone=TIMEZONE) for c in ingest_crons()],
        description="Semua kiriman baru di inbox → arsip → validasi → gudang data; tiap jam "
                    "06:00–22:00 WITA. Idempoten: tanpa kiriman baru, tidak ada yang berubah.",
        tags=TAGS,
        entrypoint_type=EntrypointType.MODULE_PATH,
        concurrency_limit=ConcurrencyLimitConfig(**INGEST_CONCURRENCY),
    )
    bulletin = weekly_bulletin.to_deployment(
        name=BULLETIN_DEPLOYMENT,
        schedule=Cron(BULLETIN_CRON, timezone=TIMEZONE),
        parameters={"send": True} if send else {},
        description="Buletin minggu yang baru berakhir (WITA), Senin 07:00 WITA sebelum rapat "
                    "Desk Pilkada. Parameter `week` kosong = minggu lalu.",
        tags=TAGS,
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    return [ingest, bulletin]


def ingest_crons() -> list[str]:
    """The ingest's schedules: hourly, and with a mailbox configured its working-hours one."""
    from tasks.config import load_settings

    imap = load_settings().imap
    return [INGEST_CRON] if imap is None else [INGEST_CRON, imap.cron]


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
    """Linux: a hook that makes the server get SIGTERM if `pilkada serve` dies, even by SIGKILL
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
    restarts; its output goes to `home/server.log`. Use as a context manager, or call `start()`
    and `stop()`; `stop()` is safe to call twice.
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
    # the same database.
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
                   DO_NOT_TRACK="1", PREFECT_UI_API_URL=self.api_url,
                   PREFECT_UI_ENABLED=str(self.ui).lower())
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
    """The server named by PREFECT_API_URL (checked to be up), else a `LocalServer` in `home`,
    stopped again when the block ends."""
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
      stopped when the block ends; the run shows in the UI of the next `serve`. Prefect would
      start its own temporary server on the first flow call: import the server in this process
      (~4 s), then boot it in a subprocess (~5 s), and only then would the run import Great
      Expectations, WeasyPrint and matplotlib (~6 s). Here the server is launched first and
      boots while this process imports `modules`, so a cold command waits for the longer of the
      two instead of their sum (bench/README.md).
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
            try:
                yield
            finally:
                _drain_to_api()
    finally:
        server.stop()
        with contextlib.suppress(FileNotFoundError):
            server.log_path.unlink()


def _drain_to_api(timeout: float = 10.0) -> None:
    """Send the run logs and events still queued to the API before its server stops (Prefect's
    own temporary server is stopped by an exit hook after this drain; ours is stopped sooner)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        worker.drain_all(timeout=timeout)


def serve(send: bool = False, limit: int | None = None) -> None:
    """Register both deployments and run their flow runs on this machine until interrupted
    (Ctrl-C or SIGTERM). On the way out the schedules are paused, so nothing piles up while
    no one is serving; the next `serve` resumes them."""
    from prefect import serve as prefect_serve

    prefect_serve(*deployments(send=send), limit=limit, print_starting_message=False)
