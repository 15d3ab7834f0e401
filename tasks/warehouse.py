"""DuckDB connections, numbered migrations and the views built from `sql/`.

SQL lives in files; this module only knows where they are and in which order they run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from tasks.config import SQL_DIR
from tasks.faults import fault_point


def sql(name: str) -> str:
    """The text of `sql/<name>` (e.g. `load/supersede.sql`)."""
    return (SQL_DIR / name).read_text(encoding="utf-8")


def _migrations() -> list[tuple[int, str, Path]]:
    out = []
    for path in sorted((SQL_DIR / "migrations").glob("*.sql")):
        version = int(path.name.split("_", 1)[0])
        out.append((version, path.stem, path))
    return out


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply migrations not yet recorded in `meta.migration`, each in its own transaction,
    then (re)create every view in `sql/views/`. Returns the names of migrations applied."""
    con.execute(sql("migrations/001_schemas.sql"))
    done = {v for (v,) in con.execute("SELECT version FROM meta.migration").fetchall()}
    applied = []
    for version, name, path in _migrations():
        if version in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("INSERT INTO meta.migration (version, name) VALUES (?, ?)", [version, name])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        applied.append(name)
    for path in sorted((SQL_DIR / "views").glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))
        fault_point(f"views-after-{path.stem}")
    return applied


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection that is always closed, so the file lock is released promptly."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def snapshot_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.stem + ".snapshot.duckdb")


def publish_snapshot(warehouse: Path) -> Path:
    """Copy the (checkpointed, closed) warehouse to a read-only snapshot for analysts.

    DuckDB admits no reader while a writer holds the file, so ad hoc queries read this copy.
    The copy is written beside it and renamed into place, so a reader never sees half a file.
    """
    target = snapshot_path(warehouse)
    tmp = target.with_suffix(".tmp")
    shutil.copyfile(warehouse, tmp)
    os.replace(tmp, target)
    return target
