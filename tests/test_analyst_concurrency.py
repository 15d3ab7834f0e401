"""An analyst's open session and a running ingest do not disturb each other."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from samples.kaltim import generate
from tasks.warehouse.database import publish_snapshot
from tasks.warehouse.query import open_read_only
from tests.pipeline import INGEST_SCRIPT, api_env

STATE = ("SELECT (SELECT count(*) FROM raw.file), (SELECT count(*) FROM audit.submission), "
         "(SELECT count(*) FROM core.logistik), "
         "(SELECT count(*) FROM mart.kabkota_weekly WHERE week = '2024-W47')")


WATCH = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from tasks.warehouse.query import open_read_only\n"
    "stop = Path(sys.argv[1])\n"
    "while not stop.exists():\n"
    "    con = open_read_only(Path(sys.argv[2]))\n"
    "    print(con.execute(sys.argv[3]).fetchall()[0], flush=True)\n"
    "    con.close()\n"
)


def _ingest() -> None:
    """The ingest flow in a process of its own, which loads and then publishes the snapshot."""
    subprocess.run([sys.executable, "-c", INGEST_SCRIPT], check=True, env=api_env())


def _state(warehouse: Path) -> tuple:
    con = open_read_only(warehouse)
    try:
        return con.execute(STATE).fetchall()[0]
    finally:
        con.close()


def test_open_analyst_session_survives_an_ingest_and_sees_whole_states(settings_env,
                                                                      prefect_harness):
    inbox = Path(settings_env.inbox)
    generate(inbox, ["2024-W46"])
    _ingest()
    before = _state(settings_env.warehouse)
    assert before[0] == before[1] > 0 and before[3] == 0

    # DuckDB shares one database instance per file within a process, so the analyst who keeps
    # a session open and the one who reconnects in a loop are separate processes, as in life.
    analyst = open_read_only(settings_env.warehouse)  # held open through the next ingest
    stop = settings_env.warehouse.parent / "stop-watching"
    watcher = subprocess.Popen(
        [sys.executable, "-c", WATCH, str(stop), str(settings_env.warehouse), STATE],
        stdout=subprocess.PIPE, text=True)
    try:
        assert watcher.stdout.readline()  # watching before the ingest starts
        generate(inbox, ["2024-W46", "2024-W47"])  # W46 unchanged, W47 new
        _ingest()  # must not fail although sessions are open on the snapshot
        assert analyst.execute(STATE).fetchall()[0] == before  # the open session keeps its state
    finally:
        analyst.close()
        stop.touch()
        out, _ = watcher.communicate(timeout=60)
    after = _state(settings_env.warehouse)
    seen = {ast.literal_eval(line) for line in out.splitlines()}

    assert after[0] == after[1] > before[0] and after[3] == 10
    assert seen <= {before, after}  # never a half-loaded state
    assert after in seen  # the watcher saw the new snapshot without anyone restarting anything


def test_snapshot_replacement_is_atomic(settings_env, prefect_harness):
    generate(Path(settings_env.inbox), ["2024-W47"])
    _ingest()
    snap = publish_snapshot(settings_env.warehouse)
    assert not snap.with_suffix(".tmp").exists()
    assert _state(settings_env.warehouse)[3] == 10
