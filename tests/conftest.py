"""Shared, generic fixtures: settings pointing at a temporary tree, and a ready warehouse."""

from __future__ import annotations

import os

# Telemetry off before Prefect or GX is imported by any test module.
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
# The tests replay recorded campaigns (sample, corpus): a file's arrival is its modification time
# (docs/operations.md, "Replaying a campaign"). Tests of the default clock unset it.
os.environ["PILKADA_ARRIVAL"] = "mtime"

import shutil
from collections.abc import Iterator

import pytest

from tasks.config import Settings
from tasks.warehouse.database import connect, migrate
from tasks.warehouse.reference import load_reference

# The external programs a marker's tests need, and the make target that installs them.
TOOLS: dict[str, tuple[tuple[str, ...], str]] = {
    "browser": (("chromium",), "make browser"),
    "office": (("soffice", "libreoffice"), "make browser"),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that runs a flow on the session's Prefect test server is a `flow` test however it
    gets there (its own parameter or a fixture it depends on), so `make test-fast` can leave
    every one of them out without each file having to say so."""
    for item in items:
        if "prefect_harness" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.flow)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test whose tool is missing fails at once with what to install, rather than deep inside
    with an assertion: skipping would let CI pass without the checks it exists for."""
    for marker, (names, target) in TOOLS.items():
        if item.get_closest_marker(marker) and not any(shutil.which(n) for n in names):
            pytest.fail(f"{names[0]} not found on PATH: this {marker} test needs it; run "
                        f"`{target}` (apt), or `make test-fast` to leave such tests out",
                        pytrace=False)


@pytest.fixture
def settings_env(tmp_path, monkeypatch) -> Settings:
    """Settings whose warehouse, inbox, outbox and archive all live under `tmp_path`, the
    calling environment's PILKADA_* variables and pilkada.toml ignored (`tests.pipeline.site`)."""
    from tests.pipeline import site

    return site(tmp_path, monkeypatch)


@pytest.fixture
def warehouse(request, settings_env):
    """A migrated warehouse (at `settings_env.warehouse`) with the reference tables loaded: an
    open connection, or, for a test that runs the ingest flow (it uses `prefect_harness`), a
    `tests.pipeline.Warehouse` that opens a short-lived connection per statement (the flow runs
    in this process, and a connection held open across it can make its CHECKPOINT fail)."""
    with connect(settings_env.warehouse) as con:
        migrate(con)
        load_reference(con)
        if "prefect_harness" not in request.fixturenames:
            yield con
            return
    from tests.pipeline import Warehouse

    yield Warehouse(settings_env.warehouse)


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[str]:
    """One Prefect test server for the session (per xdist worker), started by the first test or
    fixture that runs a flow (`tests.pipeline.ingest`) and asks for it; yields its API URL.
    Files that start a Prefect server of their own use `outside_prefect_harness`."""
    from tests.pipeline import harness

    with harness() as url:
        yield url


@pytest.fixture(scope="module")
def outside_prefect_harness() -> Iterator[None]:
    """For a module whose tests run flows on a server of their own: out of the session harness's
    settings, Prefect's log and event workers drained on the way in and out
    (`tests.pipeline.outside_harness`). Listed first in the module's `pytestmark`, so it is set
    up before the module's server fixtures."""
    from tests.pipeline import outside_harness

    with outside_harness():
        yield
