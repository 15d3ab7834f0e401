"""Read-only ad hoc queries for analysts, and the formats they come back in."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb

from tasks.warehouse import snapshot_path


class QueryRefused(Exception):
    pass


def open_read_only(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """The published snapshot when there is one (never blocked by a running ingest), else the
    warehouse itself; read-only, with no access to other files, settings locked."""
    snap = snapshot_path(warehouse)
    target = snap if snap.exists() else warehouse
    if not target.exists():
        raise QueryRefused(f"Gudang data {warehouse} belum ada; jalankan `pilkada ingest` dulu.")
    return duckdb.connect(str(target), read_only=True, config={
        "enable_external_access": False, "lock_configuration": True})


def run_query(warehouse: Path, query: str) -> tuple[list[str], list[tuple]]:
    con = open_read_only(warehouse)
    try:
        cur = con.execute(query)
        if cur.description is None:
            return [], []
        return [d[0] for d in cur.description], cur.fetchall()
    except (duckdb.InvalidInputException, duckdb.PermissionException) as exc:
        raise QueryRefused(
            "Kueri ditolak: koneksi analis hanya-baca dan tidak boleh membuka file lain. "
            f"({exc})") from exc
    finally:
        con.close()


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
