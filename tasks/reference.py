"""Reference data: regions from the shipped CSVs and a TPS master derived from them.

No official per-village TPS list ships with the project, only the kab/kota totals of TPS and DPT
(KPU plenaries, Sep 2024). The TPS master is therefore *derived*, deterministically, so that every
run, test and sample agrees on it: docs/data-dictionary.md explains the method.
"""

from __future__ import annotations

import hashlib
import math
from functools import cache
from pathlib import Path

import polars as pl

from tasks.config import REFERENCE_DIR

BALLOT_RESERVE = 0.025

# Quantity of each item per TPS (ballots are per voter instead). Sources: PKPU 12/2024 and the
# KPU's logistics planning for Pilkada 2024: two boxes (governor, regent/mayor), four booths,
# two ink bottles; seals, punch tools and C forms are planning assumptions, documented as such.
ITEM_PER_TPS: dict[str, int] = {
    "kotak_suara": 2,
    "bilik_suara": 4,
    "tinta": 2,
    "segel": 20,
    "alat_coblos": 4,
    "formulir_c": 2,
}
BALLOT_ITEMS: tuple[str, ...] = ("ss_gubernur", "ss_bupati_walikota")


def _read(name: str, province_dir: Path) -> pl.DataFrame:
    return pl.read_csv(province_dir / name, infer_schema_length=0)


@cache
def regions(province_dir: Path = REFERENCE_DIR / "kaltim") -> dict[str, pl.DataFrame]:
    """kab/kota, kecamatan and desa tables with codes kept as strings (leading zeros matter)."""
    kab = _read("kabkota.csv", province_dir).with_columns(
        pl.col("n_kecamatan", "n_desa_kelurahan", "dpt_2024", "tps_2024", "tps_lokasi_khusus")
        .cast(pl.Int64),
        pl.col("ikp_2024_score").cast(pl.Float64),
    )
    kec = _read("kecamatan.csv", province_dir).with_columns(
        pl.col("n_desa", "n_kelurahan").cast(pl.Int64)
    )
    desa = _read("desa_kelurahan.csv", province_dir)
    return {"kabkota": kab, "kecamatan": kec, "desa": desa}


def _weight(code: str) -> float:
    """A stable pseudo-random weight in [0.5, 1.5) from the code, so villages differ in size."""
    h = int.from_bytes(hashlib.sha256(code.encode()).digest()[:8], "big")
    return 0.5 + h / 2**64


def apportion(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """Largest-remainder apportionment of `total` over `weights`, each share at least `minimum`."""
    n = len(weights)
    base = [minimum] * n
    rest = total - minimum * n
    if rest < 0:
        raise ValueError(f"cannot give {minimum} each to {n} parts out of {total}")
    wsum = sum(weights)
    quotas = [rest * w / wsum for w in weights]
    shares = [math.floor(q) for q in quotas]
    left = rest - sum(shares)
    order = sorted(range(n), key=lambda i: (quotas[i] - shares[i], -i), reverse=True)
    for i in order[:left]:
        shares[i] += 1
    return [b + s for b, s in zip(base, shares, strict=True)]


@cache
def tps_master(province_dir: Path = REFERENCE_DIR / "kaltim") -> pl.DataFrame:
    """One row per TPS: code, desa, kecamatan, kab/kota, DPT. Derived, deterministic.

    TPS of a kab/kota are spread over its villages by a stable weight (every village gets at least
    one), and its DPT over its TPS the same way, so the totals equal the official figures exactly.
    """
    reg = regions(province_dir)
    rows: list[dict[str, object]] = []
    for kab in reg["kabkota"].iter_rows(named=True):
        desa = reg["desa"].filter(pl.col("kabkota_code") == kab["kabkota_code"]).sort("desa_code")
        codes = desa["desa_code"].to_list()
        kec_of = dict(zip(codes, desa["kecamatan_code"].to_list(), strict=True))
        n_tps = apportion(kab["tps_2024"], [_weight(c) for c in codes], minimum=1)
        tps_codes = [
            f"{c}{i:03d}" for c, n in zip(codes, n_tps, strict=True) for i in range(1, n + 1)
        ]
        dpt = apportion(kab["dpt_2024"], [_weight(t) for t in tps_codes], minimum=0)
        for t, d in zip(tps_codes, dpt, strict=True):
            rows.append(
                {
                    "tps_code": t,
                    "desa_code": t[:10],
                    "kecamatan_code": kec_of[t[:10]],
                    "kabkota_code": kab["kabkota_code"],
                    "dpt": d,
                }
            )
    return pl.DataFrame(rows, schema={"tps_code": pl.String, "desa_code": pl.String,
                                      "kecamatan_code": pl.String, "kabkota_code": pl.String,
                                      "dpt": pl.Int64})


def ballots_needed(dpt: int) -> int:
    """Ballots one TPS needs: its DPT plus the 2.5 % reserve, rounded up per TPS."""
    return dpt + math.ceil(dpt * BALLOT_RESERVE)


@cache
def desa_requirements(province_dir: Path = REFERENCE_DIR / "kaltim") -> pl.DataFrame:
    """Required quantity of every item in every village (desa × barang), from the TPS master."""
    tps = tps_master(province_dir).with_columns(
        ballots=pl.col("dpt").map_elements(ballots_needed, return_dtype=pl.Int64)
    )
    per_desa = tps.group_by("desa_code", "kecamatan_code", "kabkota_code").agg(
        n_tps=pl.len().cast(pl.Int64), dpt=pl.col("dpt").sum(), ballots=pl.col("ballots").sum()
    )
    frames = [
        per_desa.with_columns(barang=pl.lit(b), jumlah_kebutuhan=pl.col("ballots"))
        for b in BALLOT_ITEMS
    ] + [
        per_desa.with_columns(barang=pl.lit(b), jumlah_kebutuhan=pl.col("n_tps") * q)
        for b, q in ITEM_PER_TPS.items()
    ]
    return (
        pl.concat(frames)
        .select("kabkota_code", "kecamatan_code", "desa_code", "barang", "n_tps", "dpt",
                "jumlah_kebutuhan")
        .sort("desa_code", "barang")
    )
