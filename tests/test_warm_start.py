"""The warm start of worker flow runs (flows/warm_start.py), process by process.

A real `pilkada warm-start` and real `pilkada-flow-run` callers, with Prefect's engine as the run:
given an invalid flow run id it fails at once (a run that ends), and given an API that accepts
connections but never answers it waits (a run that is still going), so each path is seen without
a Prefect server. tests/test_postgres_deployment.py runs real deployments through the starter.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import REPO

pytestmark = [pytest.mark.flow]
BIN = Path(sys.executable).parent
FAKE_RUN = "not-a-flow-run-id"


def _env(sock: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PILKADA_", "PREFECT_"))}
    env.update({"PILKADA_WARM_SOCKET": str(sock), "PREFECT_HOME": str(sock.parent / "home"),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "GX_ANALYTICS_ENABLED": "false",
                "DO_NOT_TRACK": "1", **extra})
    return env


def _wait(predicate, what: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(args, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purpose (its parent, the starter, reaps it)
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture(scope="module")
def starter(tmp_path_factory) -> Iterator[tuple[Path, Path, subprocess.Popen]]:
    """`pilkada warm-start` on a socket in a private folder; (socket, its log, the process)."""
    folder = tmp_path_factory.mktemp("warm")
    folder.chmod(0o700)
    sock, log = folder / "warm.sock", folder / "starter.log"
    process = _start([str(BIN / "pilkada"), "warm-start"], _env(sock), log)
    try:
        _wait(lambda: sock.exists() or process.poll() is not None, "the starter's socket")
        assert process.poll() is None, log.read_text()
        yield sock, log, process
    finally:
        _stop(process)


@pytest.fixture
def silent_api() -> Iterator[str]:
    """An 'API' on 127.0.0.1 that accepts connections and never answers: a run that waits."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    import threading

    def hold() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=hold, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/api"
    listener.close()
    for conn in held:
        conn.close()


def _caller(sock: Path, run_id: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "pilkada-flow-run")], env=_env(
        sock, PREFECT__FLOW_RUN_ID=run_id, **extra), capture_output=True, text=True, timeout=120)


def _child_of(log: Path, run_id: str) -> int:
    for line in log.read_text().splitlines():
        if f"flow run {run_id} dimulai di proses" in line:
            return int(line.rsplit(" ", 1)[1])
    raise AssertionError(f"the starter did not start {run_id}:\n{log.read_text()}")


def test_without_a_starter_the_run_starts_cold_and_says_so(tmp_path):
    folder = tmp_path / "private"
    folder.mkdir(mode=0o700)
    done = _caller(folder / "none.sock", FAKE_RUN)
    assert "flow run dimulai dingin" in done.stderr and "none.sock" in done.stderr
    # and it became Prefect's engine, which rejects the id as it would from the worker
    assert "Invalid flow run id" in done.stderr
    assert done.returncode == 1


def test_a_socket_folder_others_can_open_is_not_used(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o777)
    done = _caller(folder / "warm.sock", FAKE_RUN)
    assert "dimulai dingin" in done.stderr and "dapat dibuka pengguna lain" in done.stderr
    assert "Invalid flow run id" in done.stderr and done.returncode == 1


def test_a_run_is_forked_by_the_starter_with_the_callers_output_and_exit_code(starter):
    sock, log, process = starter
    run_id = f"{FAKE_RUN}-{uuid.uuid4().hex[:8]}"
    done = _caller(sock, run_id)
    assert "dingin" not in done.stderr  # not the fallback
    # the engine's own error reached the caller's stderr: the child wrote on the caller's fds
    assert "Invalid flow run id" in done.stderr
    assert done.returncode == 1
    child = _child_of(log, run_id)
    assert child not in (process.pid, os.getpid())
    _wait(lambda: f"proses {child} selesai (kode 1)" in log.read_text(), "the starter's reap")


def test_sigterm_to_the_caller_reaches_the_run_and_the_caller_ends_as_it_did(
        starter, silent_api):
    sock, log, _ = starter
    run_id = str(uuid.uuid4())
    caller = subprocess.Popen([str(BIN / "pilkada-flow-run")], env=_env(
        sock, PREFECT__FLOW_RUN_ID=run_id, PREFECT_API_URL=silent_api),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait(lambda: f"flow run {run_id} dimulai" in log.read_text(), "the fork")
        child = _child_of(log, run_id)
        time.sleep(1)
        assert _alive(child) and caller.poll() is None  # the run waits on the silent API
        caller.send_signal(signal.SIGTERM)  # what the worker does to cancel a run
        caller.wait(60)
        _wait(lambda: not _alive(child), "the run to end after SIGTERM", 60)
        assert caller.returncode != 0
        assert f"proses {child} selesai" in log.read_text()
    finally:
        _stop(caller)


def test_a_caller_killed_outright_takes_its_run_down_with_it(starter, silent_api):
    sock, log, _ = starter
    run_id = str(uuid.uuid4())
    caller = subprocess.Popen([str(BIN / "pilkada-flow-run")], env=_env(
        sock, PREFECT__FLOW_RUN_ID=run_id, PREFECT_API_URL=silent_api),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: f"flow run {run_id} dimulai" in log.read_text(), "the fork")
        child = _child_of(log, run_id)
        caller.kill()  # SIGKILL: nothing forwarded; the starter sees the caller hang up
        caller.wait(10)
        _wait(lambda: not _alive(child), "the orphaned run to be stopped", 60)
        assert f"pemanggil flow run di proses {child} terputus" in log.read_text()
    finally:
        _stop(caller)


def test_a_caller_whose_starter_dies_waits_for_its_run_before_it_exits(tmp_path, silent_api):
    """The worker marks a run Crashed when its process exits: while the run's own process still
    works, the caller must not exit, even when the starter that forked it is gone."""
    folder = tmp_path / "private"
    folder.mkdir(mode=0o700)
    sock, log = folder / "warm.sock", folder / "starter.log"
    starter = _start([str(BIN / "pilkada"), "warm-start"], _env(sock), log)
    run_id = str(uuid.uuid4())
    caller = None
    try:
        _wait(lambda: sock.exists() or starter.poll() is not None, "the starter's socket")
        caller = subprocess.Popen([str(BIN / "pilkada-flow-run")], env=_env(
            sock, PREFECT__FLOW_RUN_ID=run_id, PREFECT_API_URL=silent_api),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        _wait(lambda: f"flow run {run_id} dimulai" in log.read_text(), "the fork")
        child = _child_of(log, run_id)
        starter.kill()
        starter.wait(10)
        time.sleep(1.5)
        assert _alive(child) and caller.poll() is None  # the run goes on; so does its caller
        os.kill(child, signal.SIGKILL)
        _, err = caller.communicate(timeout=30)
        assert caller.returncode == 1 and "proses hangat berhenti sebelum flow run selesai" in err
    finally:
        _stop(starter)
        if caller is not None:
            _stop(caller)


def test_a_second_starter_on_the_same_socket_refuses_to_start(starter):
    sock, _, _ = starter
    done = subprocess.run([str(BIN / "pilkada"), "warm-start"], env=_env(sock),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "sudah berjalan" in done.stderr + done.stdout
    assert sock.exists()  # the first one's socket is untouched


def test_changed_code_is_refused_and_the_run_starts_cold(tmp_path):
    """A starter holds the code it imported; after a checkout changes, runs start cold (and
    say why) until it is restarted."""
    checkout = tmp_path / "checkout"
    (checkout / "flows").mkdir(parents=True)
    module = checkout / "flows" / "step.py"
    module.write_text("X = 1\n")
    folder = tmp_path / "private"
    folder.mkdir(mode=0o700)
    sock, log = folder / "warm.sock", folder / "starter.log"
    script = ("import sys; from pathlib import Path; import flows.warm_start as ws; "
              "ws.ROOT = Path(sys.argv[1]); ws.serve()")
    process = _start([sys.executable, "-c", script, str(checkout)], _env(sock), log)
    try:
        _wait(lambda: sock.exists() or process.poll() is not None, "the starter's socket")
        assert "dingin" not in _caller(sock, FAKE_RUN).stderr  # unchanged: forked
        module.write_text("X = 2  # changed\n")
        done = _caller(sock, FAKE_RUN)
        assert "dimulai dingin" in done.stderr and "kode di checkout berubah" in done.stderr
        assert "Invalid flow run id" in done.stderr and done.returncode == 1
        assert "permintaan ditolak: kode di checkout berubah" in log.read_text()
    finally:
        _stop(process)


# ------------------------------------------------------------ steps handed back to the starter

def logs_then_returns(value: int) -> dict:
    """A call for the test starter below: logs on a project logger, returns."""
    import logging

    logging.getLogger("tasks.ingest.judge").warning("catatan dari proses hangat %d", value)
    return {"value": value, "pid": os.getpid()}


def raises(message: str) -> None:
    raise ValueError(message)


def returns_unpicklable() -> object:
    return lambda: None


def dies() -> None:
    os._exit(3)


def sleeps_then_marks(path: str, seconds: float) -> None:
    """A long step that leaves a trace if it ever finishes."""
    time.sleep(seconds)
    Path(path).write_text("selesai", encoding="utf-8")


TEST_CALLS = {name: f"tests.test_warm_start:{name}"
              for name in ("logs_then_returns", "raises", "returns_unpicklable", "dies",
                           "sleeps_then_marks")}


@pytest.fixture(scope="module")
def test_starter(tmp_path_factory) -> Iterator[Path]:
    """A starter that also knows TEST_CALLS (the real one knows only the pipeline's steps)."""
    folder = tmp_path_factory.mktemp("warm-calls")
    folder.chmod(0o700)
    sock, log = folder / "warm.sock", folder / "starter.log"
    script = ("import flows.warm_start as ws, tests.test_warm_start as t; "
              "ws.CALLS.update(t.TEST_CALLS); ws.serve()")
    process = _start([sys.executable, "-c", script], _env(sock), log)
    try:
        _wait(lambda: sock.exists() or process.poll() is not None, "the starter's socket")
        assert process.poll() is None, log.read_text()
        yield sock
    finally:
        _stop(process)


def test_a_call_runs_in_a_child_its_logs_are_logged_here_and_its_errors_raised_here(
        test_starter, monkeypatch, caplog):
    from flows import warm_start

    monkeypatch.setenv(warm_start.STARTER_ENV, str(test_starter))
    with caplog.at_level("WARNING", logger="tasks"):
        result, pid = warm_start.call("logs_then_returns", 7)
    assert result == {"value": 7, "pid": pid} and pid != os.getpid()
    assert ("tasks.ingest.judge", 30, "catatan dari proses hangat 7") in caplog.record_tuples
    with pytest.raises(ValueError, match="salah di anak"):
        warm_start.call("raises", "salah di anak")
    with pytest.raises(RuntimeError, match="returns_unpicklable gagal di proses hangat"):
        warm_start.call("returns_unpicklable")
    # a child that dies without answering: the caller is told, and does the step itself
    with pytest.raises(warm_start.Unavailable, match="tidak menjalankan dies"):
        warm_start.call("dies")
    with pytest.raises(warm_start.Unavailable, match="panggilan tidak dikenal"):
        warm_start.call("os.system", "true")


def test_a_call_ends_with_its_caller(test_starter, tmp_path, monkeypatch):
    """A run killed outright (or cancelled) while a step of it runs in a child of the starter:
    the step stops too, instead of finishing unsupervised after the run's lock is gone (Data
    Docs written beside the next run's). A call that answered ends quietly, as before."""
    from flows import warm_start

    log = test_starter.parent / "starter.log"
    monkeypatch.setenv(warm_start.STARTER_ENV, str(test_starter))
    _, quiet = warm_start.call("logs_then_returns", 1)
    marker = tmp_path / "selesai.txt"
    script = ("import flows.warm_start as ws, sys; "
              "ws.call('sleeps_then_marks', sys.argv[1], 6)")
    caller = subprocess.Popen([sys.executable, "-c", script, str(marker)], cwd=REPO,
                              env=_env(test_starter, PILKADA_WARM_STARTER=str(test_starter)))
    try:
        started = re.compile(r"panggilan sleeps_then_marks dimulai di proses (\d+)")
        _wait(lambda: started.search(log.read_text()), "the call to start", 30)
        child = int(started.findall(log.read_text())[-1])
        caller.kill()
        caller.wait(10)
        _wait(lambda: f"panggilan di proses {child} berakhir dengan kode 1" in log.read_text(),
              "the call's child to end with its caller", 5)
        time.sleep(7)  # past the step's own end: it never got there
        assert not marker.exists()
        assert f"panggilan di proses {quiet} berakhir" not in log.read_text()
    finally:
        _stop(caller)


def test_a_call_outside_a_warm_run_or_without_its_starter_is_unavailable(tmp_path, monkeypatch):
    from flows import warm_start

    monkeypatch.delenv(warm_start.STARTER_ENV, raising=False)
    assert not warm_start.warm_started()
    with pytest.raises(warm_start.Unavailable, match="tidak dimulai dari proses hangat"):
        warm_start.call("judge")
    monkeypatch.setenv(warm_start.STARTER_ENV, str(tmp_path / "gone.sock"))
    with pytest.raises(warm_start.Unavailable, match="tidak menjalankan judge"):
        warm_start.call("judge")


def test_a_part_judged_by_the_starter_equals_the_part_judged_in_process(
        starter, warehouse, settings_env, monkeypatch):
    """The real step (`flows.ingest.judged`, one part of several batches) on a Kaltim week with a
    hostile file: every verdict, reason, finding, stored row and kept GX result the same
    whichever process judged it."""
    from dataclasses import replace

    from flows import ingest as flow
    from flows import warm_start
    from samples.kaltim import generate
    from tasks.ingest import judge
    from tasks.ingest.pull import archive, list_inbox
    from tests.test_batching import ON_TIME, _outcome, _rewrite

    sock, log, _ = starter
    inbox = Path(settings_env.inbox)
    generate(inbox, ["2024-W47"])
    [target] = sorted(inbox.glob("*/*_insiden_2024-W47.csv"))[:1]
    _rewrite(target, lambda rows: [rows[0] | {
        "korban_luka": "dua", "ringkasan": "Bapak Budi Santoso melapor; NIP 198501012010011001."},
        *rows[1:]])
    archived = [replace(archive(f, settings_env.archive), received_at=ON_TIME)
                for f in list_inbox(settings_env.inbox)[0]]
    facts = judge.known(warehouse)
    monkeypatch.setenv(warm_start.STARTER_ENV, str(sock))
    pids, warm = set(), {}

    def gx(kept: list) -> list[tuple]:
        return [(k.kind, k.week, k.files, k.rows, k.result.success, k.result.statistics)
                for k in kept]

    grouped = judge.parts(judge.batches(archived), 2)
    assert len(grouped) == 2 and sum(map(len, grouped)) == len(judge.batches(archived))
    for part in grouped:
        inputs = [judge.batch_inputs(warehouse, batch, ["2024-W47"]) for batch in part]
        (verdicts, kept), pid = warm_start.call("judge", part, settings_env, facts, inputs)
        here, kept_here = flow.judged(part, settings_env, facts, inputs)
        assert _outcome(verdicts) == _outcome(here)
        assert gx(kept) == gx(kept_here) and kept
        warm |= _outcome(verdicts)
        pids.add(pid)
    assert len(warm) == len(archived)
    assert os.getpid() not in pids and len(pids) == len(grouped)
    assert all(f"panggilan judge dimulai di proses {pid}" in log.read_text() for pid in pids)
    # the hostile file was judged as such over there: its NIP withheld, its word refused
    rules = {f[2] for f in warm[str(target.relative_to(inbox))][2]}
    assert {"format_nilai", "nip_disamarkan"} <= rules, rules


def test_data_docs_built_by_the_starter_equal_the_data_docs_built_here(
        starter, warehouse, settings_env, tmp_path, monkeypatch):
    """A warm ingest builds its Data Docs in a child of the starter while its last week loads
    (flows.ingest.data_docs): the same pages, listing the same results, as built here."""
    from flows import ingest as flow
    from flows import warm_start
    from samples.kaltim import generate
    from tasks.ingest import judge
    from tasks.ingest.data_docs import publish
    from tasks.ingest.pull import archive, list_inbox

    sock, log, _ = starter
    generate(Path(settings_env.inbox), ["2024-W47"])
    archived = [archive(f, settings_env.archive) for f in list_inbox(settings_env.inbox)[0]]
    facts = judge.known(warehouse)
    kept = [k for batch in judge.batches(archived) for k in flow.judged(
        [batch], settings_env, facts, [judge.batch_inputs(warehouse, batch, ["2024-W47"])])[1]]
    assert kept

    def pages(index: Path) -> tuple[list[str], str]:
        site = index.parent  # run times differ: compare the pages without them
        found = sorted(re.sub(r"/\d{8}T\d{6}\.\d+Z/", "/", str(p.relative_to(site)))
                       for p in site.rglob("*.html"))
        links = re.findall(r'href="([^"?]+\.html)', index.read_text(encoding="utf-8"))
        return found, sorted({re.sub(r"/\d{8}T\d{6}\.\d+Z/", "/", x) for x in links})

    here = pages(publish(kept, "run-uji", tmp_path / "here" / "w.duckdb", tmp_path / "here-out"))
    monkeypatch.setenv(warm_start.STARTER_ENV, str(sock))
    index, pid = warm_start.call("docs", kept, "run-uji", tmp_path / "warm" / "w.duckdb",
                                 tmp_path / "warm-out")
    assert pid != os.getpid() and f"panggilan docs dimulai di proses {pid}" in log.read_text()
    assert index == tmp_path / "warm-out" / "gx" / "index.html"
    # a page per result, per suite, and the index
    assert len(here[0]) == len(kept) + len({k.kind for k in kept}) + 1
    assert pages(index) == here


def test_charts_drawn_by_the_starter_equal_the_charts_drawn_here(starter, monkeypatch):
    """A warm bulletin run draws its charts in children of the starter and one itself, at once
    (flows.bulletin._draw_in_starter): the same images, alt texts and Content-IDs as drawn in one
    process; where the starter is gone, every chart is drawn here with a warning each."""
    import logging

    from flows import bulletin as flow
    from flows import warm_start
    from reports.render import _bulletin_view, _charts, draw_here
    from tests.render_context import make_ctx

    sock, log, _ = starter
    view = _bulletin_view(make_ctx())
    jobs = _charts(view, view["f"], view["t"])
    assert len(jobs) == 3  # logistik, tps and the map: two go to the starter
    before = log.read_text().count("panggilan draw dimulai di proses")
    here = draw_here(jobs)
    monkeypatch.setenv(warm_start.STARTER_ENV, str(sock))
    logger = logging.getLogger("tests.warm_draw")
    assert flow._draw_in_starter(jobs, logger) == here
    assert log.read_text().count("panggilan draw dimulai di proses") == before + len(jobs) - 1
    monkeypatch.setenv(warm_start.STARTER_ENV, str(sock.parent / "gone.sock"))
    warned: list[str] = []
    monkeypatch.setattr(logger, "warning", lambda msg, *args: warned.append(msg % args))
    assert flow._draw_in_starter(jobs, logger) == here
    assert len(warned) == len(jobs) - 1
    assert all("digambar di proses flow" in w and "tidak menjalankan draw" in w for w in warned)


def test_annexes_rendered_by_the_starter_equal_the_annexes_rendered_here(
        starter, settings_env, prefect_harness, monkeypatch):
    """A warm bulletin run with desks to write to renders their annexes (with the PDF) two at a
    time in children of the starter (flows.bulletin._render_annexes): the same email, text,
    subject and PDF text as rendered here; where the starter is gone, each is rendered here
    with a warning."""
    import io
    import logging

    from pypdf import PdfReader

    from flows import bulletin as flow
    from flows import warm_start
    from reports.render import render_annex
    from samples.kaltim import generate
    from tasks.publish.bulletin_data import annex_context
    from tasks.warehouse.database import connect
    from tests.pipeline import ingest

    sock, log, _ = starter
    generate(Path(settings_env.inbox), ["2024-W47"])
    ingest(settings_env)
    with connect(settings_env.warehouse, read_only=True) as con:
        contexts = {(code, lang): annex_context(con, "2024-W47", code, lang)
                    for code, lang in (("6401", "id"), ("6411", "id"), ("6472", "en"))}

    def seen(rendered: dict) -> dict:
        return {key: (r.html, r.text, r.subject, r.name, r.images,
                      [p.extract_text() for p in PdfReader(io.BytesIO(r.pdf)).pages])
                for key, r in rendered.items()}

    here = seen({key: render_annex(actx, with_pdf=True) for key, actx in contexts.items()})
    before = log.read_text().count("panggilan annex dimulai di proses")
    monkeypatch.setenv(warm_start.STARTER_ENV, str(sock))
    logger = logging.getLogger("tests.warm_annex")
    warned: list[str] = []
    monkeypatch.setattr(logger, "warning", lambda msg, *args: warned.append(msg % args))
    assert seen(flow._render_annexes(contexts, logger)) == here
    assert log.read_text().count("panggilan annex dimulai di proses") == before + len(contexts)
    assert warned == []
    monkeypatch.setenv(warm_start.STARTER_ENV, str(sock.parent / "gone.sock"))
    assert seen(flow._render_annexes(contexts, logger)) == here
    assert len(warned) == len(contexts) and all("dibuat di proses flow" in w for w in warned)


def test_a_cold_start_is_noted_in_the_run_a_warning_when_a_starter_was_meant_to_be_there(
        monkeypatch, caplog):
    import json
    import logging

    from flows import warm_start

    logger = logging.getLogger("tests.cold")
    for expected, level in ((True, "INFO"), (False, "WARNING")):
        caplog.clear()
        monkeypatch.setenv(warm_start.COLD_ENV, json.dumps({"why": "alasan", "expected": expected}))
        with caplog.at_level("INFO", logger="tests.cold"):
            warm_start.note_cold_start(logger)
        assert [(r.levelname, "alasan" in r.getMessage()) for r in caplog.records] == [
            (level, True)]
    monkeypatch.delenv(warm_start.COLD_ENV)
    caplog.clear()
    warm_start.note_cold_start(logger)
    assert not caplog.records
