"""Gather the bulletin's figures from the marts into the context `reports/CONTEXT.md` describes.

Every number in the bulletin comes from a mart through a query in `sql/queries/bulletin_*.sql`;
this module only shapes rows into dicts, so a figure has one definition.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb

from tasks.config import WITA
from tasks.weeks import h_minus, week_end, week_start

ACTIONS = 3


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _rows(con: duckdb.DuckDBPyConnection, name: str, week: str) -> list[dict[str, Any]]:
    from tasks.warehouse import sql

    cur = con.execute(sql(f"queries/bulletin_{name}.sql"), {"week": week})
    cols = [d[0] for d in cur.description]
    return [{c: _plain(v) for c, v in zip(cols, row, strict=True)} for row in cur.fetchall()]


def _actions(kabkota: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """The three things that need action: the first reason of the worst kab/kota first."""
    reason_key = "alasan_en" if lang == "en" else "alasan"
    flagged = [k for k in kabkota if k["status_level"] > 0 and k[reason_key]]
    flagged.sort(key=lambda k: (-k["status_level"], k["kabkota_name"]))
    return [
        {"kabkota_name": k["kabkota_name"], "status": k["status"],
         "reason": k[reason_key].split("; ")[0]}
        for k in flagged[:ACTIONS]
    ]


def bulletin_context(con: duckdb.DuckDBPyConnection, week: str, lang: str = "id",
                     province_name: str = "Kalimantan Timur") -> dict[str, Any]:
    kabkota = _rows(con, "kabkota", week)
    if not kabkota:
        raise LookupError(f"Belum ada data untuk minggu {week}; jalankan ingest lebih dulu.")
    counts = {s: sum(1 for k in kabkota if k["status"] == s) for s in ("Siap", "Waspada", "Kritis")}
    totals = _rows(con, "logistik_totals", week)[0]
    keamanan = _rows(con, "keamanan", week)[0]
    keamanan["insiden"] = _rows(con, "insiden", week)
    netralitas = _rows(con, "netralitas", week)[0]
    netralitas["tahap"] = _rows(con, "netralitas_tahap", week)
    return {
        "lang": lang,
        "week": week,
        "week_start": week_start(week),
        "week_end": week_end(week),
        "h": h_minus(week),
        "issued_at": datetime.now(WITA),
        "province_name": province_name,
        "counts": counts,
        "actions": _actions(kabkota, lang),
        "kabkota": kabkota,
        "logistik": {
            "items": _rows(con, "logistik_items", week),
            "stage_targets": _rows(con, "stage_targets", week),
            "desa_kurang": _rows(con, "desa_kurang", week),
            **totals,
        },
        "keamanan": keamanan,
        "netralitas": netralitas,
        "kualitas": _rows(con, "kualitas", week)[0],
        "provenance": _rows(con, "provenance", week),
    }
