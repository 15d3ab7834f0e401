"""Read-only ad hoc queries for analysts, bounded in time, memory and rows, and the formats they
come back in.

Analysts only ever read the published snapshot, never the live warehouse: a session on the live
file holds DuckDB's file lock and would make the next ingest fail. The limits keep one careless
query (`select count(*) from range(...)`, a cross join returning millions of rows) from running
for hours or taking the machine's memory; `lock_configuration` keeps SQL from raising them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import duckdb

from tasks.warehouse.database import open_duckdb, snapshot_path, unavailable

DEFAULT_TIMEOUT = 60.0  # seconds
DEFAULT_MEMORY = "1GB"
DEFAULT_MAX_ROWS = 100_000
T = TypeVar("T")
_MEMORY = re.compile(r"\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)", re.IGNORECASE)


class QueryRefused(Exception):
    pass


class QueryStopped(QueryRefused):
    """The query ran into a limit; the message names it and how to raise it."""


@dataclass(frozen=True)
class QueryLimits:
    """How long, how much DuckDB memory and how many result rows one analyst query may take."""

    timeout: float = DEFAULT_TIMEOUT
    memory: str = DEFAULT_MEMORY
    max_rows: int = DEFAULT_MAX_ROWS

    def __post_init__(self) -> None:
        if not 0 < self.timeout < float("inf"):
            raise ValueError("batas waktu kueri (--timeout, PILKADA_QUERY_TIMEOUT) harus lebih "
                             f"dari 0 detik, bukan {self.timeout}")
        if not _MEMORY.fullmatch(self.memory.strip()):
            raise ValueError(f"batas memori kueri '{self.memory}' (--memory-limit, "
                             "PILKADA_QUERY_MEMORY) tidak dikenal; tulis mis. 512MB, 1GB, 2GiB")
        if self.max_rows < 1:
            raise ValueError("jumlah baris maksimum (--max-rows, PILKADA_QUERY_MAX_ROWS) harus "
                             f"paling sedikit 1, bukan {self.max_rows}")

    @classmethod
    def from_env(cls, timeout: float | None = None, memory: str | None = None,
                 max_rows: int | None = None) -> QueryLimits:
        """Values given (the CLI's options) win over PILKADA_QUERY_TIMEOUT, PILKADA_QUERY_MEMORY
        and PILKADA_QUERY_MAX_ROWS, which win over the defaults. A bad value: ValueError."""
        return cls(
            timeout=timeout if timeout is not None else _env(
                "PILKADA_QUERY_TIMEOUT", float, DEFAULT_TIMEOUT),
            memory=memory or _env("PILKADA_QUERY_MEMORY", str, DEFAULT_MEMORY),
            max_rows=max_rows if max_rows is not None else _env(
                "PILKADA_QUERY_MAX_ROWS", int, DEFAULT_MAX_ROWS),
        )


def _env(name: str, convert: Callable[[str], T], default: T) -> T:
    raw = os.environ.get(name, "").strip()
    try:
        return convert(raw) if raw else default
    except ValueError as exc:
        raise ValueError(f"{name}='{raw}' bukan angka") from exc


@dataclass(frozen=True)
class QueryResult:
    """At most `max_rows` rows; `truncated` says the query had more. Unpacks as
    `(columns, rows)`, as `run_query` returned before it had limits."""

    columns: list[str]
    rows: list[tuple]
    truncated: bool = False

    def __iter__(self) -> Iterator:
        return iter((self.columns, self.rows))


def open_read_only(warehouse: Path, limits: QueryLimits | None = None) -> duckdb.DuckDBPyConnection:
    """The published snapshot, read-only, with no access to other files and settings locked
    (with `limits`, also DuckDB's memory limit and no spilling to disk, so the limit holds).

    Never the live warehouse: a reader there would hold DuckDB's lock and make an ingest fail.
    The snapshot exists from the first migration on (`tasks.warehouse.database.ensure_snapshot`); a
    damaged or write-locked snapshot raises `WarehouseUnavailable`.
    """
    snap = snapshot_path(warehouse)
    if not snap.exists():
        if warehouse.exists():
            raise QueryRefused(f"Snapshot analis {snap} belum ada; jalankan `pilkada ingest` "
                               "untuk menerbitkannya (kueri tidak pernah membuka gudang data "
                               "yang sedang dipakai).")
        raise QueryRefused(f"Gudang data {warehouse} belum ada; jalankan `pilkada ingest` dulu.")
    config: dict[str, str | bool | int] = {"enable_external_access": False}
    if limits is not None:
        config |= {"memory_limit": limits.memory.strip(), "temp_directory": ""}
    config["lock_configuration"] = True  # last: every setting above is fixed from here on
    return open_duckdb(snap, read_only=True, config=config)


def run_query(warehouse: Path, query: str, limits: QueryLimits | None = None) -> QueryResult:
    """Run `query` on the snapshot within `limits` (default: from the environment).

    Rows are fetched as a stream, one more than the cap, so a huge result never materialises.
    A timer interrupts the query when its time is up; both limits end in `QueryStopped`.
    """
    limits = limits or QueryLimits.from_env()
    con = open_read_only(warehouse, limits)
    timer = threading.Timer(limits.timeout, con.interrupt)
    timer.start()
    try:
        cur = con.execute(query)
        if cur.description is None:
            return QueryResult([], [])
        rows = cur.fetchmany(limits.max_rows + 1)
        return QueryResult([d[0] for d in cur.description], rows[:limits.max_rows],
                           truncated=len(rows) > limits.max_rows)
    except duckdb.InterruptException as exc:
        if not timer.finished.is_set():
            raise
        raise QueryStopped(f"Kueri dihentikan: melebihi batas waktu {limits.timeout:g} detik "
                           "(atur dengan --timeout atau PILKADA_QUERY_TIMEOUT).") from exc
    except duckdb.OutOfMemoryException as exc:
        raise QueryStopped(f"Kueri dihentikan: melebihi batas memori {limits.memory} (atur "
                           "dengan --memory-limit atau PILKADA_QUERY_MEMORY, atau saring dan "
                           "agregasikan lebih dulu).") from exc
    except (duckdb.InvalidInputException, duckdb.PermissionException) as exc:
        raise QueryRefused(
            "Kueri ditolak: koneksi analis hanya-baca dan tidak boleh membuka file lain. "
            f"({exc})") from exc
    except duckdb.Error as exc:
        problem = unavailable(snapshot_path(warehouse), exc)
        if problem is None:
            raise
        raise problem from exc
    finally:
        timer.cancel()
        timer.join()  # an interrupt under way lands before the connection closes
        con.close()


def truncation_note(limits: QueryLimits) -> str:
    """What an analyst reads under a result cut at `limits.max_rows` (Indonesian digit groups)."""
    shown = f"{limits.max_rows:,}".replace(",", ".")
    return (f"Catatan: hasil dipotong pada {shown} baris pertama; kueri menghasilkan lebih banyak. "
            "Persempit dengan WHERE, LIMIT atau agregasi, atau atur --max-rows "
            "(PILKADA_QUERY_MAX_ROWS).")


def _jsonable(v: object) -> object:
    if isinstance(v, datetime | date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    return v


def to_csv(cols: list[str], rows: list[tuple]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    w.writerows(rows)
    return buf.getvalue()


def to_json(cols: list[str], rows: list[tuple]) -> str:
    return json.dumps([{c: _jsonable(v) for c, v in zip(cols, r, strict=True)} for r in rows],
                      ensure_ascii=False, indent=1, default=str)
