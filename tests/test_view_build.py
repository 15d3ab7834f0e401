"""The views of sql/views/ are rebuilt exactly when they need to be (meta.view_build): changed SQL,
a missing view, a migration applied or a build cut short; otherwise an ingest or bulletin run
keeps the ones it finds."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from tasks.resources import SQL_DIR
from tasks.warehouse import database
from tasks.warehouse.database import build_views, migrate


@pytest.fixture
def views(tmp_path, monkeypatch) -> Path:
    """A copy of sql/views/ that the test may edit, used by `build_views`."""
    folder = tmp_path / "views"
    shutil.copytree(SQL_DIR / "views", folder)
    monkeypatch.setattr(database, "_view_files", lambda: sorted(folder.glob("*.sql")))
    return folder


def _columns(con: duckdb.DuckDBPyConnection, view: str) -> list[str]:
    return [d[0] for d in con.execute(f"SELECT * FROM {view} LIMIT 0").description]


def test_unchanged_views_are_kept_and_changed_sql_is_used(warehouse, views):
    assert build_views(warehouse) is False  # the fixture's migrate built them
    status = views / "50_mart_status.sql"
    text = status.read_text(encoding="utf-8")
    marker = "CREATE OR REPLACE VIEW mart.kualitas_data_weekly AS\nSELECT"
    assert marker in text
    status.write_text(text.replace(marker, marker + " 1 AS probe,"), encoding="utf-8")
    assert "probe" not in _columns(warehouse, "mart.kualitas_data_weekly")
    assert migrate(warehouse) == []
    assert "probe" in _columns(warehouse, "mart.kualitas_data_weekly")
    assert build_views(warehouse) is False


def test_a_dropped_view_is_rebuilt(warehouse, views):
    warehouse.execute("DROP VIEW mart.kabkota_weekly")
    migrate(warehouse)
    assert warehouse.execute("SELECT count(*) FROM mart.kabkota_weekly").fetchone() == (0,)
    assert build_views(warehouse) is False


def test_a_build_cut_short_is_redone(warehouse, views):
    status = views / "50_mart_status.sql"
    good = status.read_text(encoding="utf-8")
    status.write_text(good + "\nCREATE OR REPLACE VIEW mart.broken AS SELECT * FROM nowhere;\n",
                      encoding="utf-8")
    with pytest.raises(duckdb.Error):
        migrate(warehouse)
    assert warehouse.execute("SELECT count(*) FROM meta.view_build").fetchone() == (0,)
    status.write_text(good, encoding="utf-8")  # back to the SQL of the last complete build
    assert build_views(warehouse) is True


def test_a_migration_applied_rebuilds_the_views(warehouse, views, monkeypatch):
    real = database._migrations
    extra = views.parent / "999_probe.sql"
    extra.write_text("CREATE TABLE meta.probe (x INTEGER);", encoding="utf-8")
    monkeypatch.setattr(database, "_migrations", lambda: [*real(), (999, "999_probe", extra)])
    built = []
    monkeypatch.setattr(database, "build_views",
                        lambda con, force=False: built.append(build_views(con, force)))
    assert migrate(warehouse) == ["999_probe"]
    assert built == [True]  # the same SQL as the last build, rebuilt after a schema change
