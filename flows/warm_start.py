"""Warm start for a worker's flow runs: a resident process that has imported the pipeline once
and forks each flow run from itself, instead of a fresh `python -m prefect.engine` paying
Prefect's, Great Expectations', WeasyPrint's and matplotlib's imports (~3.5 s) on every run.

Two halves, in one module so that they cannot drift apart:

- `serve()` (`pilkada warm-start`, beside `prefect worker start` on the warehouse machine): imports
  the flows, then listens on a Unix socket in a folder only its user can open. Each request
  carries a run's command-line arguments, environment, working folder and the caller's
  stdin/stdout/stderr (passed as file descriptors); the starter forks, and the child becomes what
  `python -m prefect.engine` would have been: same environment, same folder, same output, its own
  session. The starter stays single-threaded (it only accepts, forks and reaps), so forking is
  safe: no other thread can hold a lock at the moment of the fork.
- `main()` (`pilkada-flow-run`, the work pool's job `command`, prefect.yaml): the process the
  worker starts, importing only the standard library (and `flows.checkout`, which needs no
  more). It does the deployment's pull step itself when it can (`_in_checkout`), hands its run
  to the starter, forwards SIGTERM/SIGINT (Prefect's cancellation) to the child, and exits as
  the child did. When there is no starter, or it refuses (a different user, or the code changed
  since it started), it says so on stderr (the worker's log) and *becomes* `python -m
  prefect.engine`: a run never waits for or depends on the warm path. A starter whose caller
  disappears (killed) terminates the child, as the worker would have killed a cold run.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import selectors
import signal
import socket
import stat
import struct
import sys
import threading
from pathlib import Path
from typing import Any

SOCKET_ENV = "PILKADA_WARM_SOCKET"
ENGINE = "prefect.engine"
HEADER = struct.Struct("!Q")  # the length of the JSON request that follows
MAX_REQUEST = 4 << 20  # an environment is kilobytes; anything larger is not a run
REQUEST_TIMEOUT = 10.0  # seconds for a caller to send its request
# What a flow run imports: both flows, the libraries they load on first use, and the parts of
# Prefect imported only when a run starts its first task (measured in a forked run with py-spy).
PRELOAD = ("prefect.flow_engine", "prefect.task_engine", "prefect.utilities.visualization",
           "prefect.deployments.steps", "great_expectations", "weasyprint", "matplotlib.pyplot",
           "flows.ingest", "flows.bulletin")
# Steps a flow run started by the starter may hand back to it, each run in a child forked from
# the starter: CPU-bound work that threads in the run's process cannot spread over cores.
CALLS = {"judge": "flows.ingest:judged", "draw": "reports.render:draw_chart",
         "annex": "reports.render:render_annex", "docs": "tasks.ingest.data_docs:publish"}
STARTER_ENV = "PILKADA_WARM_STARTER"  # in a run forked by the starter: the socket it came from
COLD_ENV = "PILKADA_COLD_START"  # in a run pilkada-flow-run started cold: why
FLOW_ENTRYPOINT_ENV = "PREFECT__FLOW_ENTRYPOINT"  # Prefect's engine loads this flow, no pull steps
SOURCE_DIRS = ("flows", "tasks", "reports", "expectations", "sql", "reference", "config")
ROOT = Path(__file__).resolve().parent.parent


def socket_path() -> Path:
    """The starter's socket: PILKADA_WARM_SOCKET, else a per-user folder under
    $XDG_RUNTIME_DIR (or /tmp). Worker and starter on one machine, same user, agree on it."""
    if configured := os.environ.get(SOCKET_ENV):
        return Path(configured)
    base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    return Path(base) / f"siaga-pilkada-{os.getuid()}" / "warm-start.sock"


def _private_folder(folder: Path) -> str | None:
    """Why `folder` may not hold the socket (anyone else could start runs as this user through
    it), or None when it is ours alone."""
    try:
        st = folder.stat()
    except OSError as exc:
        return f"{folder}: {exc.strerror}"
    if st.st_uid != os.getuid():
        return f"{folder} milik pengguna lain (uid {st.st_uid})"
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        return f"{folder} dapat dibuka pengguna lain (mode {stat.S_IMODE(st.st_mode):o})"
    return None


def source_fingerprint(root: Path | None = None) -> list[tuple[str, int, int]]:
    """The pipeline's files (under `root`, the checkout) with size and mtime: a starter whose
    fingerprint no longer matches the checkout holds old code or data, and must not run a flow."""
    root = root or ROOT
    return sorted((str(p.relative_to(root)), s.st_size, s.st_mtime_ns)
                  for d in SOURCE_DIRS for p in (root / d).rglob("*")
                  if "__pycache__" not in p.parts and (s := p.stat()) and stat.S_ISREG(s.st_mode))


# ---------------------------------------------------------------- the caller (pilkada-flow-run)

def _cold(argv: list[str], why: str, expected: bool = False) -> None:
    """Become `python -m prefect.engine` in this process (the process worker's own command).

    The reason goes to the worker's output and, through COLD_ENV, into the run's own log
    (`note_cold_start`): a warning when a starter was meant to be there (a refusal, a stale or
    unusable one), a plain note when none was ever started (`expected`)."""
    sys.stderr.write(f"Siaga Pilkada: flow run dimulai dingin ({why}).\n")
    sys.stderr.flush()
    os.environ[COLD_ENV] = json.dumps({"why": why, "expected": expected})
    os.execv(sys.executable, [sys.executable, "-m", ENGINE, *argv])


def note_cold_start(logger: logging.Logger | logging.LoggerAdapter) -> None:
    """In a flow: say in the run's log why this run started cold, if `pilkada-flow-run` did."""
    if not (note := os.environ.get(COLD_ENV)):
        return
    cold = json.loads(note)
    if cold["expected"]:
        logger.info("Flow run dimulai dingin: %s.", cold["why"])
    else:
        logger.warning("Flow run dimulai dingin (lebih lambat): %s.", cold["why"])


def _request(conn: socket.socket, argv: list[str]) -> None:
    body = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
    socket.send_fds(conn, [HEADER.pack(len(body))], [0, 1, 2])
    conn.sendall(body)


def _read_line(conn: socket.socket) -> dict[str, Any] | None:
    data = b""
    while not data.endswith(b"\n"):
        try:
            chunk = conn.recv(4096)
        except InterruptedError:
            continue
        if not chunk:
            return None
        data += chunk
    return json.loads(data)


def _in_checkout() -> None:
    """The deployment's pull step, done here when the deployment names its entrypoint
    (`PILKADA_FLOW_ENTRYPOINT` in its job environment, prefect.yaml): change into the checkout
    (`flows.checkout.checkout`) and tell Prefect's engine which flow to load
    (PREFECT__FLOW_ENTRYPOINT, as Prefect's own runner does), so that it neither reads the
    deployment nor runs its pull steps: ~0.15 s of every run, which Prefect spends logging each
    step, emitting an event for it and starting a thread to run it (bench/README.md). A warm or
    a cold run alike. When the checkout is unusable nothing is done here: the engine runs the
    pull step, which refuses in one line in the run's log."""
    from flows.checkout import ENTRYPOINT_ENV, CheckoutMissing, checkout

    entrypoint = os.environ.get(ENTRYPOINT_ENV)
    if not entrypoint:
        return
    try:
        folder = checkout()
    except CheckoutMissing:
        return
    os.chdir(folder)
    os.environ[FLOW_ENTRYPOINT_ENV] = entrypoint


def main(argv: list[str] | None = None) -> None:
    """Start this flow run from the warm starter, or cold when there is none."""
    argv = sys.argv[1:] if argv is None else argv
    _in_checkout()
    path = socket_path()
    if why := _private_folder(path.parent):
        _cold(argv, f"proses hangat tidak dipakai: {why}", expected=not path.parent.exists())
    # Prefect's cancellation may come before the child exists: kept, and passed on once it does
    child = 0
    pending: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        if not child:
            pending.append(signum)
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
        _request(conn, argv)
        answer = _read_line(conn)
    except OSError as exc:
        conn.close()
        _cold(argv, f"proses hangat tidak tersedia di {path}: {exc.strerror or exc}",
              expected=isinstance(exc, FileNotFoundError))  # none started on this machine
        return
    if not answer or "pid" not in answer:
        conn.close()
        for signum in pending:  # cancelled before anything started: end as asked
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        _cold(argv, f"proses hangat menolak: {(answer or {}).get('refused', 'tanpa jawaban')}")
        return
    child = int(answer["pid"])
    for signum in pending:
        forward(signum, None)
    ended = _read_line(conn)
    if ended is None:  # the starter died under the run: wait for the run, its status unknown
        sys.stderr.write("Siaga Pilkada: proses hangat berhenti sebelum flow run selesai; "
                         "menunggu flow run berakhir (statusnya: lihat Prefect).\n")
        _wait_gone(child)
        sys.exit(1)
    status = int(ended["status"])
    if status < 0:  # killed by a signal: end the same way, so the worker reports the same
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    sys.exit(status)


def _wait_gone(pid: int) -> None:
    """Until process `pid` (not our child: the starter's) has ended. The worker marks a run
    Crashed when its process exits while the run is not final; leaving before the run's own
    process has ended would crash a run that is still working."""
    import select

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        while not select.select([fd], [], [], None)[0]:
            pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------- the starter (pilkada warm-start)

def _child(request: dict[str, Any], fds: list[int], keep_out: list[int]) -> None:
    """In the forked child: become the caller's `python -m prefect.engine`, then exit."""
    import atexit
    import importlib.util
    import runpy
    import threading
    import traceback

    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        for fd in keep_out:
            os.close(fd)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.setsid()  # a Ctrl-C or stop of the starter does not reach running flows
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ[STARTER_ENV] = str(socket_path())
        import prefect.context

        prefect.context.refresh_global_settings_context()  # the run's PREFECT_* settings
        sys.argv = [ENGINE, *request["argv"]]
        # the module's file as __main__, as `python -m` runs it (run_module would warn that
        # the package `prefect` already imported prefect.engine)
        runpy.run_path(importlib.util.find_spec(ENGINE).origin, run_name="__main__")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        try:  # what a normal interpreter exit does: wait for threads, flush, run atexit
            threading._shutdown()  # type: ignore[attr-defined]
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = conn.recv(min(1 << 20, size - len(data)))
        if not chunk:
            raise EOFError(f"terputus setelah {len(data)} dari {size} bita")
        data += chunk
    return bytes(data)


class _Captured(logging.Handler):
    """The project's log records of a call, to be logged again by the caller (in its run)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record.name, record.levelno, record.getMessage()))


def _call_child(request: dict[str, Any], conn: socket.socket, keep_out: list[int]) -> None:
    """In the forked child: run CALLS[request['call']] on the arguments the caller sends on
    `conn`, answer with the pickled outcome, exit."""
    import importlib
    import pickle
    import traceback

    from tasks.runlog import PROJECT_LOGGERS

    code = 0
    try:
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        for fd in keep_out:
            os.close(fd)
        os.setsid()
        os.environ.clear()
        os.environ.update(request["env"])
        captured = _Captured()
        for name in PROJECT_LOGGERS:  # captured only: the caller logs them in its run
            logger = logging.getLogger(name)
            logger.handlers, logger.propagate = [captured], False
        conn.settimeout(REQUEST_TIMEOUT)
        args = pickle.loads(_read_exactly(conn, int(request["size"])))
        conn.settimeout(None)
        answered = _ends_with_its_caller(conn)
        module, _, name = CALLS[request["call"]].partition(":")
        answer: dict[str, Any] = {"pid": os.getpid(), "records": captured.records}
        try:
            answer["value"] = getattr(importlib.import_module(module), name)(*args)
        except Exception as exc:  # the step's own error: raised again in the caller
            answer.update(error=exc, traceback=traceback.format_exc())
        try:
            data = pickle.dumps(answer, protocol=5)
        except Exception:  # an unpicklable result or exception: its text still reaches the caller
            answer.pop("value", None)
            answer.update(error=None, traceback=traceback.format_exc())
            data = pickle.dumps(answer, protocol=5)
        answered.set()
        conn.sendall(HEADER.pack(len(data)) + data)
    except BaseException:  # whatever happens, the child ends here
        code = 1
    finally:
        os._exit(code)


def _ends_with_its_caller(conn: socket.socket) -> threading.Event:
    """In a call's child: end the child as soon as its caller is gone (a run killed outright, or
    cancelled), so that no step of a dead run goes on writing (Data Docs, say) after the run's
    lock is released. A caller sends nothing after its request, so end-of-file on `conn` means
    it has closed or died. Returns the event to set once the answer is on its way (the caller
    then closes as it should, and the child ends without complaint)."""
    answered = threading.Event()

    def watch() -> None:
        with contextlib.suppress(OSError):
            if not conn.recv(1):
                os._exit(0 if answered.is_set() else 1)

    threading.Thread(target=watch, name="pilkada-caller-watch", daemon=True).start()
    return answered


class Unavailable(Exception):
    """The starter could not run a call (not started by it, refused, or the child died): the
    caller does the step itself."""


def warm_started() -> bool:
    """Whether this process is a flow run the starter forked (so calls may go back to it)."""
    return bool(os.environ.get(STARTER_ENV))


def call(name: str, *args: Any) -> tuple[Any, int]:
    """CALLS[name](*args) in a child of the starter that started this run; (result, the child's
    pid). Its log records are logged here, in this run; its exception is raised here. Raises
    Unavailable when the starter cannot do it, before or after starting."""
    import pickle

    path = os.environ.get(STARTER_ENV)
    if not path:
        raise Unavailable("flow run ini tidak dimulai dari proses hangat")
    payload = pickle.dumps(args, protocol=5)
    head = json.dumps({"call": name, "size": len(payload), "env": dict(os.environ)}).encode()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        try:
            conn.connect(path)
            conn.sendall(HEADER.pack(len(head)) + head)
            conn.sendall(payload)
            first = _read_exactly(conn, HEADER.size)
            if first.startswith(b"{"):  # a refusal: one JSON line instead of a length
                why = json.loads(first + conn.recv(65536)).get("refused")
                raise Unavailable(f"proses hangat menolak {name}: {why}")
            (size,) = HEADER.unpack(first)
            answer = pickle.loads(_read_exactly(conn, size))
        except (OSError, EOFError, ValueError) as exc:
            raise Unavailable(f"proses hangat tidak menjalankan {name}: {exc}") from exc
    for logger, level, message in answer["records"]:
        logging.getLogger(logger).log(level, "%s", message)
    if "traceback" not in answer:
        return answer["value"], answer["pid"]
    if answer["error"] is None:
        raise RuntimeError(f"{name} gagal di proses hangat:\n{answer['traceback']}")
    raise answer["error"]


class _Starter:
    """The accept/fork/reap loop; one selector, one thread."""

    def __init__(self, path: Path, log: Any) -> None:
        self.path, self.log = path, log
        self.fingerprint = source_fingerprint()
        self.selector = selectors.DefaultSelector()
        self.runs: dict[int, socket.socket] = {}  # child pid -> its caller
        self.calls: set[int] = set()  # children running a step for a flow run
        self.wake_r, self.wake_w = socket.socketpair()

    def listen(self) -> socket.socket:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if why := _private_folder(self.path.parent):
            raise SystemExit(f"pilkada warm-start: {why}; atur {SOCKET_ENV} ke folder pribadi.")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(self.path))
        except OSError:
            self.path.unlink(missing_ok=True)  # left by a starter that did not stop cleanly
        else:
            raise SystemExit(f"pilkada warm-start: sudah berjalan di {self.path}.")
        finally:
            probe.close()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.path))
        os.chmod(self.path, 0o600)
        listener.listen(16)
        return listener

    def serve(self) -> None:
        listener = self.listen()
        self.wake_r.setblocking(False)
        self.wake_w.setblocking(False)
        signal.set_wakeup_fd(self.wake_w.fileno())
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        self.selector.register(listener, selectors.EVENT_READ, "accept")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        self.log(f"proses hangat siap di {self.path} (pid {os.getpid()})")
        try:
            self.loop(listener)
        except KeyboardInterrupt:
            pass
        finally:
            self.close(listener)
        if self.runs or self.calls:  # asked to stop: new runs start cold, running ones end here
            self.log(f"proses hangat berhenti menerima run; menunggu {len(self.runs)} flow run "
                     "yang berjalan (Ctrl-C/SIGTERM lagi: berhenti sekarang, run tetap jalan)")
            try:
                self.loop(None)
            except KeyboardInterrupt:
                self.log(f"proses hangat berhenti; {len(self.runs)} flow run dibiarkan berjalan")
        signal.set_wakeup_fd(-1)
        self.log("proses hangat berhenti")

    def loop(self, listener: socket.socket | None) -> None:
        """Serve until interrupted; without a listener, until the last run has ended."""
        while listener is not None or self.runs or self.calls:
            for key, _ in self.selector.select():
                if key.data == "accept":
                    self.accept(listener)
                elif key.data == "wake":
                    self.wake_r.recv(4096)
                else:
                    self.caller_left(key.data)
            self.reap()

    def close(self, listener: socket.socket) -> None:
        self.selector.unregister(listener)
        listener.close()
        self.path.unlink(missing_ok=True)

    def accept(self, listener: socket.socket) -> None:
        conn, _ = listener.accept()
        fds: list[int] = []
        try:
            conn.settimeout(REQUEST_TIMEOUT)
            peer = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
            _pid, uid, _gid = struct.unpack("3i", peer)
            head, fds, _flags, _addr = socket.recv_fds(conn, HEADER.size, 3)
            if uid != os.getuid():
                return self.refuse(conn, f"pengguna lain (uid {uid})")
            if len(head) != HEADER.size or len(fds) not in (0, 3):
                return self.refuse(conn, "permintaan tidak lengkap")
            (size,) = HEADER.unpack(head)
            if size > MAX_REQUEST:
                return self.refuse(conn, "permintaan terlalu besar")
            body = bytearray()
            while len(body) < size:
                chunk = conn.recv(min(65536, size - len(body)))
                if not chunk:
                    return self.refuse(conn, "permintaan terputus")
                body += chunk
            request = json.loads(body)
            if source_fingerprint() != self.fingerprint:
                self.refuse(conn, "kode di checkout berubah sejak proses hangat dimulai; "
                                  "mulai ulang `pilkada warm-start`")
                return None
            if "call" in request:
                if request["call"] not in CALLS or fds:
                    return self.refuse(conn, f"panggilan tidak dikenal: {request['call']!r}")
                return self.fork_call(conn, request)
            if len(fds) != 3:
                return self.refuse(conn, "permintaan tidak lengkap")
            self.fork(conn, request, fds)
        except (OSError, ValueError) as exc:
            self.refuse(conn, f"permintaan tidak terbaca: {exc}")
        finally:
            for fd in fds:
                os.close(fd)

    def refuse(self, conn: socket.socket, why: str) -> None:
        self.log(f"permintaan ditolak: {why}")
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps({"refused": why}).encode() + b"\n")
        conn.close()

    def fork(self, conn: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        keep_out = [key.fd for key in self.selector.get_map().values()] + [
            self.wake_w.fileno(), conn.fileno()]
        pid = os.fork()
        if pid == 0:
            _child(request, list(fds), keep_out)
        run = request["env"].get("PREFECT__FLOW_RUN_ID", "?")
        self.log(f"flow run {run} dimulai di proses {pid}")
        conn.settimeout(None)
        conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        self.runs[pid] = conn
        self.selector.register(conn, selectors.EVENT_READ, pid)

    def fork_call(self, conn: socket.socket, request: dict[str, Any]) -> None:
        """A step of a running flow (CALLS), in a child of its own: the child reads the
        arguments and writes the result on `conn`; this process only reaps it."""
        sys.stdout.flush()
        sys.stderr.flush()
        keep_out = [key.fd for key in self.selector.get_map().values()] + [
            self.wake_w.fileno()]
        pid = os.fork()
        if pid == 0:
            _call_child(request, conn, keep_out)
        self.log(f"panggilan {request['call']} dimulai di proses {pid}")
        conn.close()  # the child holds it: the caller sees EOF when the child ends
        self.calls.add(pid)

    def caller_left(self, pid: int) -> None:
        """The caller hung up before its run ended (killed): stop the run as the worker would
        have stopped a cold one."""
        conn = self.runs.get(pid)
        if conn is None or conn.recv(4096):  # a caller says nothing after its request
            return
        self.selector.unregister(conn)
        self.log(f"pemanggil flow run di proses {pid} terputus; proses dihentikan")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)

    def reap(self) -> None:
        while self.runs or self.calls:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid in self.calls:
                self.calls.discard(pid)
                if code := os.waitstatus_to_exitcode(status):
                    self.log(f"panggilan di proses {pid} berakhir dengan kode {code}")
                continue
            conn = self.runs.pop(pid, None)
            if conn is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            self.log(f"proses {pid} selesai (kode {code})")
            with contextlib.suppress(KeyError):
                self.selector.unregister(conn)
            with contextlib.suppress(OSError):
                conn.sendall(json.dumps({"status": code}).encode() + b"\n")
            conn.close()


def _log(line: str) -> None:
    from datetime import datetime

    print(f"{datetime.now().astimezone():%Y-%m-%d %H:%M:%S%z} {line}", flush=True)


def serve(log: Any = _log) -> None:
    """Import the pipeline, then start flow runs for callers until SIGINT/SIGTERM."""
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    from reports.render import warm_up as drawn
    from tasks.ingest.validate import warm_up as validating

    drawn()
    validating()
    # Everything imported so far lives as long as the starter: out of the collector's sight, so
    # that no child's collection walks (and so copies, page by page) the memory it shares with
    # the starter. Measured: the first judge calls took ~2 s longer without this.
    gc.collect()
    gc.freeze()
    _Starter(socket_path(), log).serve()

