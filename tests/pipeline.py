"""The one way tests run an ingest: the flow `ingest-submissions` itself, under one Prefect test
server per test session (`prefect_harness` in tests/conftest.py), and what it recorded read back
from the ledger.

There is no second, Prefect-free orchestration of the steps to test instead: what the tests check
is what `pilkada ingest` does (mailbox, pull, judge, load, feedback, replies, snapshot, Data Docs).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import duckdb
import pytest

from tasks.config import Settings, load_settings
from tasks.warehouse.database import connect

_harness_url: str | None = None  # the session's test server, while it runs


def site(root: Path, mp: pytest.MonkeyPatch, **overrides: object) -> Settings:
    """Point the pipeline at a site under `root` (warehouse, inbox, outbox, archive) through
    `mp`, and return its settings: the one place tests isolate their environment.

    Every PILKADA_* variable of the calling environment is removed and a pilkada.toml in the
    working directory ignored, so a developer's configuration cannot leak into a test; the
    arrival clock is the files' own (`PILKADA_ARRIVAL=mtime`: the samples replay a campaign).
    `overrides` set or replace more (`warehouse=root / "w.duckdb"`, `smtp_host="127.0.0.1"`).
    `settings_env` uses it per test; module fixtures pass their own `pytest.MonkeyPatch()`."""
    for name in list(os.environ):
        if name.startswith("PILKADA_"):
            mp.delenv(name)
    env: dict[str, object] = {"config": root / "no-such-pilkada.toml",
                              "warehouse": root / "data" / "warehouse.duckdb",
                              "inbox": root / "inbox", "outbox": root / "outbox",
                              "archive": root / "archive", "arrival": "mtime", **overrides}
    for name, value in env.items():
        mp.setenv(f"PILKADA_{name.upper()}", str(value))
    Path(str(env["inbox"])).mkdir(parents=True, exist_ok=True)
    return load_settings()


@contextlib.contextmanager
def harness() -> Iterator[str]:
    """Prefect's test harness (a temporary server on a temporary SQLite database), entered once
    for the session by the `prefect_harness` fixture; yields its API URL."""
    global _harness_url
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        _harness_url = PREFECT_API_URL.value()
        try:
            yield _harness_url
        finally:
            _harness_url = None


def _drain_workers() -> None:
    """Stop Prefect's process-wide log and event workers once their queues are sent: each is bound
    to the API it was started for, and the next one starts for the API configured then."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=30, at_exit=False)
    EventsWorker.drain_all(timeout=30, at_exit=False)


@contextlib.contextmanager
def outside_harness() -> Iterator[None]:
    """For tests that run flows against a Prefect server of their own (a `LocalServer`, `serve`,
    a one-off command's temporary server) in a process where the session's harness may be up.

    The harness's settings are stepped out of (no API URL: the test sets its own), and the log
    and event workers are drained on the way in and out. Otherwise the workers started under the
    harness keep sending task-run events and logs to the harness's server, and the test's server
    never learns of its task runs (an `ObjectNotFound` in tests/test_alerting.py, "0 of 60 task
    runs" in tests/test_prefect_server.py)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    # The harness also registers its server as the process's default ephemeral one; step out
    # of that too (only if the server module is loaded, i.e. a harness may have run).
    server = sys.modules.get("prefect.server.api.server")
    alias = server.SubprocessASGIServer._instances.pop(None, None) if server else None
    _drain_workers()
    try:
        with temporary_settings(restore_defaults={PREFECT_API_URL}):
            yield
    finally:
        _drain_workers()
        if alias is not None:
            server.SubprocessASGIServer._instances[None] = alias


def api_env() -> dict[str, str]:
    """The environment a subprocess needs to run its flows on the session's test server."""
    assert _harness_url, "request the prefect_harness fixture before starting a flow subprocess"
    return {**os.environ, "PREFECT_API_URL": _harness_url}


# A script that runs the flow as `pilkada ingest` does, for tests that kill it or limit it
# (settings from the environment; PREFECT_API_URL from `api_env`).
INGEST_SCRIPT = "from flows.ingest import ingest_submissions\ningest_submissions()\n"


@dataclass(frozen=True)
class Issue:
    """A finding as the ledger keeps it (`audit.row_issue`), its message without the
    "Baris n, kolom c: " the ledger puts before it."""

    row: int | None
    column: str | None
    rule: str
    severity: str
    effect: str | None
    message: str


@dataclass(frozen=True)
class Judged:
    """What the flow recorded about one submission: the verdict it gave (`audit.submission`,
    not the ledger's later `superseded`), its reason and its findings."""

    file_id: int
    source_path: str  # the ledger's name (`ArchivedFile.shown_path`: a sheet after its workbook)
    file_name: str
    kabkota_code: str | None
    kind: str | None
    week: str | None
    workbook: str | None
    sheet: str | None
    verdict: str
    reason: str
    is_late: bool
    rows_total: int
    rows_flagged: int
    findings: list[Issue]


def ingest(settings: Settings) -> list[Judged]:
    """Run the flow `ingest-submissions` on `settings` (the flow reads its settings from the
    environment; here it gets the test's own) and return what it recorded, in the order it loaded
    the files. The flow's own failure (a mailbox down, feedback not written, a disk error) is
    raised as the flow raises it; `judged` still reads what it recorded."""
    import flows.ingest

    assert _harness_url, "request the prefect_harness fixture before running a flow"
    before = last_file_id(settings.warehouse)
    with mock.patch.object(flows.ingest, "load_settings", lambda: settings):
        flows.ingest.ingest_submissions()
    return judged(settings.warehouse, after=before)


def last_file_id(warehouse: Path) -> int:
    """The highest file_id recorded so far (0 for no warehouse yet)."""
    if not Path(warehouse).exists():
        return 0
    with connect(Path(warehouse)) as con:
        try:
            return con.execute("SELECT coalesce(max(file_id), 0) FROM raw.file").fetchone()[0]
        except duckdb.CatalogException:  # not migrated yet
            return 0


def _message(row: int | None, column: str | None, text: str) -> str:
    prefix = (f"Baris {row}" if row is not None else "File") + (f", kolom {column}" if column
                                                               else "") + ": "
    assert text.startswith(prefix), text
    return text.removeprefix(prefix)


def judged(warehouse: Path, after: int = 0) -> list[Judged]:
    """The submissions recorded with a file_id above `after`, in file_id (loading) order."""
    with connect(Path(warehouse)) as con:
        files = con.execute(
            "SELECT f.file_id, f.source_path, f.file_name, f.kabkota_code, f.kind, f.week, "
            "f.workbook, f.sheet, s.verdict, s.reason, s.is_late, s.rows_total, s.rows_flagged "
            "FROM raw.file f JOIN audit.submission s USING (file_id) WHERE f.file_id > ? "
            "ORDER BY f.file_id", [after]).fetchall()
        issues: dict[int, list[Issue]] = {}
        for file_id, row, column, rule, severity, effect, message in con.execute(
                'SELECT file_id, row_number, "column", rule, severity, effect, message '
                "FROM audit.row_issue WHERE file_id > ? ORDER BY file_id, rowid",
                [after]).fetchall():
            issues.setdefault(file_id, []).append(
                Issue(row, column, rule, severity, effect, _message(row, column, message)))
    return [Judged(*f, findings=issues.get(f[0], [])) for f in files]


class Rows:
    """A statement's whole result, read before its connection closed."""

    def __init__(self, description: list[tuple] | None, rows: list[tuple]) -> None:
        self.description, self._rows, self._next = description, rows, 0

    def fetchall(self) -> list[tuple]:
        rest, self._next = self._rows[self._next:], len(self._rows)
        return rest

    def fetchone(self) -> tuple | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]


class Warehouse:
    """The warehouse for a test that runs the ingest flow in its own process: each statement on
    a connection of its own, closed at once. A connection kept open across the flow run would
    hold a transaction while a result is not read to its end, and DuckDB then refuses the flow's
    CHECKPOINT ("other write transactions active")."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def execute(self, statement: str, parameters: object = None) -> Rows:
        with connect(self.path) as con:
            cur = con.execute(statement, parameters)
            return Rows(cur.description, cur.fetchall() if cur.description else [])
