"""Load reference data and enumerations into the warehouse's `ref` schema (idempotent)."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import polars as pl

from tasks.config import RIVER_KABKOTA
from tasks.contract import submission as contract
from tasks.contract.regions import (
    KALTIM,
    desa_requirements,
    provinces,
    regions,
    scope_name,
    tps_master,
)


class ScopeMismatch(LookupError):
    """The warehouse already holds submissions for another area than PILKADA_PROVINCE."""


def loaded_scope(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("SELECT scope FROM ref.scope").fetchone()
    return row[0] if row else None


def ensure_reference(con: duckdb.DuckDBPyConnection, scope: str, reload: bool = False) -> bool:
    """Load the ref tables when they are missing, stale (`reload`, after a migration) or for
    another scope; returns whether they were loaded. Changing the scope of a warehouse that
    already holds submissions is refused: its history would point at regions no longer known."""
    current = loaded_scope(con)
    if current == scope and not reload:
        return False
    if current not in (None, scope) and con.execute(
            "SELECT count(*) FROM audit.submission").fetchone()[0]:
        raise ScopeMismatch(
            f"Gudang data ini berisi laporan untuk wilayah '{current}', bukan '{scope}' "
            f"(PILKADA_PROVINCE). Pakai PILKADA_WAREHOUSE lain untuk wilayah '{scope}'.")
    load_reference(con, scope)
    return True


def load_reference(con: duckdb.DuckDBPyConnection, scope: str = KALTIM) -> dict[str, int]:
    """Replace the contents of the ref tables in one transaction; returns row counts."""
    reg = regions(scope)
    kab = reg["kabkota"].with_columns(
        river_access=pl.col("kabkota_code").is_in(sorted(RIVER_KABKOTA))
    )
    ranks = {"tahap_kasus": contract.TAHAP_RANK, "status_insiden": contract.STATUS_INSIDEN_RANK,
             "status_tindak_lanjut": contract.STATUS_TINDAK_LANJUT_RANK}
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
        "provinsi": provinces().filter(
            pl.col("provinsi_code").is_in(kab["provinsi_code"].unique().to_list())),
        "kabkota": kab,
        "kecamatan": reg["kecamatan"],
        "desa": reg["desa"],
        "tps": tps_master(scope),
        "kebutuhan": desa_requirements(scope),
        "enumeration": enums,
        "scope": pl.DataFrame({"scope": [scope], "scope_name": [scope_name(scope)],
                               "loaded_at": [datetime.now(UTC)]}),
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
