"""Load reference data and enumerations into the warehouse's `ref` schema (idempotent)."""

from __future__ import annotations

import duckdb
import polars as pl

from tasks import contract
from tasks.config import RIVER_KABKOTA
from tasks.reference import desa_requirements, regions, tps_master


def load_reference(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Replace the contents of the ref tables in one transaction; returns row counts."""
    reg = regions()
    kab = reg["kabkota"].with_columns(
        river_access=pl.col("kabkota_code").is_in(sorted(RIVER_KABKOTA))
    )
    ranks = {"tahap_kasus": contract.TAHAP_RANK, "status_insiden": contract.STATUS_INSIDEN_RANK}
    enums = pl.DataFrame(
        [
            {"enum_name": e, "value": v, "label_id": label, "rank": ranks.get(e, {}).get(v)}
            for e, values in contract.ENUMS.items()
            for v, label in values.items()
        ],
        schema={"enum_name": pl.String, "value": pl.String, "label_id": pl.String,
                "rank": pl.Int32},
    )
    tables = {
        "kabkota": kab,
        "kecamatan": reg["kecamatan"],
        "desa": reg["desa"],
        "tps": tps_master(),
        "kebutuhan": desa_requirements(),
        "enumeration": enums,
    }
    con.execute("BEGIN TRANSACTION")
    try:
        for name, frame in tables.items():
            con.register("frame", frame)
            con.execute(f"DELETE FROM ref.{name}")
            con.execute(f"INSERT INTO ref.{name} BY NAME SELECT * FROM frame")
            con.unregister("frame")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return {name: frame.height for name, frame in tables.items()}
