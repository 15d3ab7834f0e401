"""DuckDB connections, numbered migrations and the views built from `sql/`.

SQL lives in files; this module only knows where they are and in which order they run.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from tasks.faults import fault_point
from tasks.resources import SQL_DIR

HEADER_BYTES = 3 * 4096  # DuckDB's main header and its two alternating database headers


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
    then build the views of `sql/views/` (`build_views`). Returns the names of migrations
    applied."""
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
    build_views(con, force=bool(applied))
    return applied


def _view_files() -> list[Path]:
    return sorted((SQL_DIR / "views").glob("*.sql"))


def _views_fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_views(con: duckdb.DuckDBPyConnection, force: bool = False) -> bool:
    """(Re)create every view in `sql/views/` unless the last complete build used the same SQL
    and all its views still exist (`meta.view_build`); returns whether it built. The marts are
    views, so the bulletin always reads the current SQL; skipping an unchanged build saves each
    ingest and bulletin run the 0.15-0.3 s of binding nine views. The record is removed before
    a build and written after it, so a build cut short is redone by the next run."""
    files = _view_files()
    fingerprint = _views_fingerprint(files)
    current = con.execute(sql("queries/view_build.sql")).fetchall()
    if not force and [r[0] for r in current] == [fingerprint]:
        return False
    con.execute("DELETE FROM meta.view_build")
    for path in files:
        con.execute(path.read_text(encoding="utf-8"))
        fault_point(f"views-after-{path.stem}")
    con.execute(sql("queries/view_build_record.sql"), [fingerprint])
    return True


def up_to_date(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether `migrate` would apply no migration (it still re-creates the views)."""
    applied = {v for (v,) in con.execute("SELECT version FROM meta.migration").fetchall()}
    return not {v for v, _, _ in _migrations()} - applied


def schema_files() -> list[Path]:
    """The SQL `migrate` runs: a change to any of them is a change to the warehouse's schema."""
    return [p for _, _, p in _migrations()] + _view_files()


class WarehouseUnavailable(Exception):
    """The warehouse (or the analysts' snapshot) cannot be used as it is: missing, locked by a
    process outside the pipeline, cut short or corrupted. The message is the one line a user
    reads: what is wrong and what to do; nothing has been created or changed by then."""

    def __init__(self, message: str, path: Path | None = None, kind: str = "damaged") -> None:
        super().__init__(message)
        self.path, self.kind = path, kind

    def __reduce__(self) -> tuple:  # Prefect may pickle a flow's exception with its state
        return type(self), (str(self), self.path, self.kind)


_DAMAGE_MARKS = ("not a valid DuckDB database", "Could not read enough bytes", "Corrupt database",
                 "Is a directory", "database file with version number")


def unavailable(path: Path, exc: duckdb.Error,
                opening: bool = False) -> WarehouseUnavailable | None:
    """What a DuckDB error on `path` means for the user, or None when it is not about that file
    (a bad query, a bug, another file): one place decides, for `connect`, the analyst queries
    and the CLI. Any I/O error counts while `opening` the file; later only signs of damage do."""
    text = str(exc)
    named = re.search(r'file "([^"]+)"', text)
    if named and Path(named[1].removesuffix(".wal")).resolve() != path.resolve():
        return None
    if "Could not set lock" in text or "Conflicting lock" in text:
        holder = re.search(r"held in (.+?) \(PID (\d+)\)", text)
        who = f"PID {holder[2]}, {Path(holder[1]).name}" if holder else "proses lain"
        return _unavailable(path, "locked", who)
    if isinstance(exc, duckdb.SerializationException) or any(m in text for m in _DAMAGE_MARKS):
        return _unavailable(path, "damaged", _damage_detail(text))
    if opening and isinstance(exc, duckdb.IOException):
        return _unavailable(path, "unreadable", text.splitlines()[0].removeprefix("IO Error: "))
    return None


def _damage_detail(text: str) -> str:
    if "not a valid DuckDB database" in text or "Is a directory" in text:
        return "bukan file DuckDB yang sah"
    if "Could not read enough bytes" in text:
        return "file terpotong"
    if "Corrupt database" in text:
        return "checksum blok tidak cocok"
    return text.splitlines()[0]


def _unavailable(path: Path, kind: str, detail: str) -> WarehouseUnavailable:
    """The sentence for each kind of trouble, for the warehouse and for its snapshot."""
    is_snapshot = path.name.endswith(".snapshot.duckdb")
    what = "Snapshot analis" if is_snapshot else "Gudang data"
    untouched = "arsip dan inbox tidak diubah."
    if kind == "missing":
        message = f"{what} {path} belum ada; jalankan `pilkada ingest` dulu."
    elif kind == "locked":
        message = (f"{what} {path} sedang dikunci oleh proses lain ({detail}); tutup sesi DuckDB "
                   "itu (analis membuka snapshot dengan `duckdb -readonly`) lalu jalankan lagi; "
                   + untouched)
    elif is_snapshot:
        message = (f"{what} {path} rusak atau bukan file DuckDB ({detail}). Jalankan `pilkada "
                   f"ingest` untuk menerbitkannya lagi dari gudang data; {untouched}")
    else:
        snap = snapshot_path(path)
        source = f"snapshot {snap} atau cadangan" if snap.exists() else "cadangan"
        state = "rusak atau bukan file DuckDB" if kind == "damaged" else "tidak dapat dibuka"
        message = (f"{what} {path} {state} ({detail}). Pulihkan dari {source}, lalu jalankan "
                   f"`pilkada ingest` lagi; {untouched}")
    return WarehouseUnavailable(message, path, kind)


def _check_whole(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """DuckDB opens a file cut short as long as its catalog survived, then fails (or, worse,
    half-answers) on the first query that reaches a missing block: refuse it at the door.
    Only used blocks count: DuckDB truncates freed blocks off the end after writing the header,
    so the header's block count alone would call a whole file cut short. Skipped while a
    write-ahead log is pending, whose replay may add blocks not yet in the file."""
    if Path(f"{path}.wal").exists():
        return
    _, block_size, used = con.execute(sql("queries/database_file.sql")).fetchall()[0]
    expected = HEADER_BYTES + block_size * used if used else 0
    size = path.stat().st_size
    if size < expected:
        raise _unavailable(path, "damaged",
                           f"file terpotong: {size:,} dari {expected:,} byte".replace(",", "."))


def open_duckdb(path: Path, read_only: bool = False,
                config: dict[str, str | bool | int] | None = None) -> duckdb.DuckDBPyConnection:
    """`duckdb.connect` that turns trouble with the file into `WarehouseUnavailable`.

    DuckDB never rewrites a damaged file it cannot open (it refuses it), so a failure here has
    changed nothing; a read-only open of a missing file is refused before DuckDB is asked.
    """
    if read_only and not path.exists():
        raise _unavailable(path, "missing", "")
    try:
        # nothing is downloaded at run time: an extension DuckDB lacks is an error, not a fetch
        con = duckdb.connect(str(path), read_only=read_only,
                             config={"autoinstall_known_extensions": False, **(config or {})})
    except duckdb.Error as exc:
        problem = unavailable(path, exc, opening=True)
        if problem is None:
            raise
        raise problem from exc
    try:
        _check_whole(con, path)
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def connect(path: Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection that is always closed, so the file lock is released promptly; a missing
    (read-only), locked or damaged file raises `WarehouseUnavailable` instead of DuckDB's error."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = open_duckdb(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def check_usable(path: Path, lock: Path) -> None:
    """Open the warehouse read-only for a moment, so a command meets a damaged or foreign-locked
    file with one line before it starts a Prefect server or a flow run.

    Skipped when there is no warehouse yet (ingest creates it) or while a pipeline run holds the
    lock file (it is then using the warehouse; a bulletin waits for it, an ingest says so).
    Holding that lock for the moment of the check keeps it from ever blocking a pipeline run on
    DuckDB's own file lock.
    """
    from tasks.warehouse.lock import LockBusy, exclusive

    if not path.exists():
        return
    try:
        with exclusive(lock, "Pemeriksaan gudang data"), connect(path, read_only=True):
            pass
    except LockBusy:
        return


def snapshot_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.stem + ".snapshot.duckdb")


def ensure_snapshot(con: duckdb.DuckDBPyConnection) -> Path | None:
    """Publish the first snapshot as soon as the warehouse is migrated, if there is none yet.

    Analysts only ever open the snapshot (`tasks.warehouse.query.open_read_only`): a session on the
    live file would hold DuckDB's lock and make the next ingest fail. So the snapshot has to exist
    from the first migration on, not only after the first complete ingest. The warehouse is
    checkpointed first, so the file copied is whole while `con` stays open.
    """
    path = Path(con.execute(sql("queries/database_file.sql")).fetchall()[0][0])
    if snapshot_path(path).exists():
        return None
    con.execute("CHECKPOINT")
    return publish_snapshot(path)


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
