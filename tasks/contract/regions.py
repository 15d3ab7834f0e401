"""Reference data: regions for one province or all of Indonesia, and a TPS master derived from them.

Kalimantan Timur ships with official kab/kota figures (DPT and TPS from the KPU plenaries of
Sep 2024, Bawaslu's IKP). The other 504 kab/kota ship only codes, names and counts, so their DPT
and TPS are *derived* from the national totals of Pilkada 2024. No official per-village TPS list
ships at all, so the TPS master is derived too. Every derivation is deterministic (largest-remainder
apportionment with SHA-based weights), so every run, test and sample agrees on it:
docs/data-dictionary.md explains the method.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from functools import cache

import polars as pl

from tasks.resources import REFERENCE_DIR

KALTIM = "64"
ALL = "all"
KALTIM_DIR = REFERENCE_DIR / "kaltim"
NATIONAL_DIR = REFERENCE_DIR / "national"
# National scale of Pilkada 2024 (reference/README.md): about 203.6 million voters, 435,296 TPS.
NATIONAL_DPT = 203_600_000
NATIONAL_TPS = 435_296
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

_KAB_SCHEMA = {
    "kabkota_code": pl.String, "kabkota_name": pl.String, "short_name": pl.String,
    "type": pl.String, "n_kecamatan": pl.Int64, "n_desa_kelurahan": pl.Int64,
    "dpt_2024": pl.Int64, "tps_2024": pl.Int64, "tps_lokasi_khusus": pl.Int64,
    "ikp_2024_score": pl.Float64, "ikp_2024_category": pl.String, "provinsi_code": pl.String,
    "figures_derived": pl.Boolean,
}


def _read(path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema_length=0)


@cache
def _wilayah() -> pl.DataFrame:
    return _read(NATIONAL_DIR / "wilayah.csv.gz")


@cache
def provinces() -> pl.DataFrame:
    """The 38 provinces: code and name."""
    return (_wilayah().filter(pl.col("level") == "provinsi")
            .select(provinsi_code="code", provinsi_name="name").sort("provinsi_code"))


def check_scope(scope: str) -> str:
    """`all` or a province code that exists; anything else is refused with the valid choices."""
    scope = scope.strip().lower()
    codes = provinces()["provinsi_code"].to_list()
    if scope != ALL and scope not in codes:
        raise ValueError(f"PILKADA_PROVINCE='{scope}' tidak dikenal: gunakan 'all' atau salah "
                         f"satu kode provinsi ({', '.join(codes)}).")
    return scope


def scope_name(scope: str) -> str:
    """What the bulletin calls the area it covers: a province's name, or Indonesia."""
    if scope == ALL:
        return "Indonesia"
    return provinces().filter(pl.col("provinsi_code") == scope)["provinsi_name"].item()


def _weight(code: str) -> float:
    """A stable pseudo-random weight in [0.5, 1.5) from the code, so villages differ in size."""
    h = int.from_bytes(hashlib.sha256(code.encode()).digest()[:8], "big")
    return 0.5 + h / 2**64


def apportion(total: int, weights: list[float], minimum: int | Sequence[int] = 0) -> list[int]:
    """Largest-remainder apportionment of `total` over `weights`, each share at least `minimum`
    (one floor for all parts, or one per part)."""
    n = len(weights)
    base = [minimum] * n if isinstance(minimum, int) else list(minimum)
    rest = total - sum(base)
    if rest < 0:
        raise ValueError(f"cannot give the minimum shares to {n} parts out of {total}")
    wsum = sum(weights)
    quotas = [rest * w / wsum for w in weights]
    shares = [math.floor(q) for q in quotas]
    left = rest - sum(shares)
    order = sorted(range(n), key=lambda i: (quotas[i] - shares[i], -i), reverse=True)
    for i in order[:left]:
        shares[i] += 1
    return [b + s for b, s in zip(base, shares, strict=True)]


@cache
def _kaltim() -> dict[str, pl.DataFrame]:
    kab = _read(KALTIM_DIR / "kabkota.csv").with_columns(
        pl.col("n_kecamatan", "n_desa_kelurahan", "dpt_2024", "tps_2024", "tps_lokasi_khusus")
        .cast(pl.Int64),
        pl.col("ikp_2024_score").cast(pl.Float64),
        provinsi_code=pl.lit(KALTIM),
        figures_derived=pl.lit(False),
    )
    kec = _read(KALTIM_DIR / "kecamatan.csv").with_columns(
        pl.col("n_desa", "n_kelurahan").cast(pl.Int64)
    )
    return {"kabkota": kab.select(list(_KAB_SCHEMA)), "kecamatan": kec,
            "desa": _read(KALTIM_DIR / "desa_kelurahan.csv")}


def _short(name: str) -> str:
    """`Kabupaten Bogor` → `Bogor`, `Kota Bogor` stays `Kota Bogor` (both exist), `Kota
    Administrasi Jakarta Pusat` → `Jakarta Pusat` (no kabupaten shares the name)."""
    for prefix in ("Kabupaten Administrasi ", "Kota Administrasi ", "Kabupaten "):
        if name.startswith(prefix):
            return name.removeprefix(prefix)
    return name


def _other_provinces() -> dict[str, pl.DataFrame]:
    """Kab/kota, kecamatan and desa outside Kaltim from the national table, with DPT and TPS
    derived: the national totals less Kaltim's official ones, TPS spread over kab/kota by their
    number of villages (each village at least one TPS), DPT over kab/kota by their TPS."""
    w = _wilayah().filter(~pl.col("code").str.starts_with(KALTIM))
    desa = (w.filter(pl.col("level") == "desa_kelurahan")
            .select(desa_code="code", desa_name="name",
                    type=pl.when(pl.col("code").str.slice(6, 1) == "1")
                    .then(pl.lit("kelurahan")).otherwise(pl.lit("desa")),
                    kecamatan_code="parent_code", kabkota_code=pl.col("code").str.slice(0, 4)))
    counts = desa.group_by("kecamatan_code").agg(
        n_desa=(pl.col("type") == "desa").sum().cast(pl.Int64),
        n_kelurahan=(pl.col("type") == "kelurahan").sum().cast(pl.Int64))
    kec = (w.filter(pl.col("level") == "kecamatan")
           .select(kecamatan_code="code", kecamatan_name="name", kabkota_code="parent_code")
           .join(counts, on="kecamatan_code", how="left")
           .with_columns(pl.col("n_desa", "n_kelurahan").fill_null(0)))
    nat = _read(NATIONAL_DIR / "kabkota.csv").filter(pl.col("provinsi_code") != KALTIM).sort(
        "kabkota_code").with_columns(pl.col("n_kecamatan", "n_desa_kelurahan").cast(pl.Int64))
    official = _kaltim()["kabkota"]
    codes, villages = nat["kabkota_code"].to_list(), nat["n_desa_kelurahan"].to_list()
    tps = apportion(NATIONAL_TPS - official["tps_2024"].sum(),
                    [n * _weight(c) for c, n in zip(codes, villages, strict=True)],
                    minimum=[max(n, 1) for n in villages])
    dpt = apportion(NATIONAL_DPT - official["dpt_2024"].sum(),
                    [t * _weight("dpt" + c) for c, t in zip(codes, tps, strict=True)])
    kab = nat.select(
        "kabkota_code", "kabkota_name",
        short_name=pl.col("kabkota_name").map_elements(_short, return_dtype=pl.String),
        type=pl.when(pl.col("kabkota_name").str.starts_with("Kota"))
        .then(pl.lit("kota")).otherwise(pl.lit("kabupaten")),
        n_kecamatan="n_kecamatan", n_desa_kelurahan="n_desa_kelurahan",
        dpt_2024=pl.Series(dpt, dtype=pl.Int64), tps_2024=pl.Series(tps, dtype=pl.Int64),
        tps_lokasi_khusus=pl.lit(0, pl.Int64), ikp_2024_score=pl.lit(None, pl.Float64),
        ikp_2024_category=pl.lit(None, pl.String), provinsi_code="provinsi_code",
        figures_derived=pl.lit(True),
    )
    return {"kabkota": kab, "kecamatan": kec, "desa": desa}


@cache
def _national() -> dict[str, pl.DataFrame]:
    """All of Indonesia: Kaltim as shipped (official figures), the rest derived."""
    ours, rest = _kaltim(), _other_provinces()
    return {name: pl.concat([ours[name], rest[name]], how="vertical_relaxed")
            .sort(ours[name].columns[0]) for name in ours}


@cache
def regions(scope: str = KALTIM) -> dict[str, pl.DataFrame]:
    """kab/kota, kecamatan and desa tables of one province (or `all`), codes kept as strings
    (leading zeros matter)."""
    if scope == KALTIM:  # the default, served without reading the national tables
        return _kaltim()
    nat = _national()
    if scope == ALL:
        return nat
    check_scope(scope)
    return {name: frame.filter(pl.col(frame.columns[0]).str.starts_with(scope))
            for name, frame in nat.items()}


@cache
def tps_master(scope: str = KALTIM) -> pl.DataFrame:
    """One row per TPS: code, desa, kecamatan, kab/kota, DPT. Derived, deterministic.

    TPS of a kab/kota are spread over its villages by a stable weight (every village gets at least
    one), and its DPT over its TPS the same way, so the totals equal the kab/kota figures exactly.
    """
    reg = regions(scope)
    cols: dict[str, list] = {"tps_code": [], "desa_code": [], "kecamatan_code": [],
                             "kabkota_code": [], "dpt": []}
    desa_of = reg["desa"].sort("desa_code").partition_by("kabkota_code", as_dict=True)
    for kab in reg["kabkota"].sort("kabkota_code").iter_rows(named=True):
        desa = desa_of[(kab["kabkota_code"],)]
        codes = desa["desa_code"].to_list()
        kec_of = dict(zip(codes, desa["kecamatan_code"].to_list(), strict=True))
        n_tps = apportion(kab["tps_2024"], [_weight(c) for c in codes], minimum=1)
        tps_codes = [
            f"{c}{i:03d}" for c, n in zip(codes, n_tps, strict=True) for i in range(1, n + 1)
        ]
        cols["tps_code"] += tps_codes
        cols["desa_code"] += [t[:10] for t in tps_codes]
        cols["kecamatan_code"] += [kec_of[t[:10]] for t in tps_codes]
        cols["kabkota_code"] += [kab["kabkota_code"]] * len(tps_codes)
        cols["dpt"] += apportion(kab["dpt_2024"], [_weight(t) for t in tps_codes], minimum=0)
    return pl.DataFrame(cols, schema={"tps_code": pl.String, "desa_code": pl.String,
                                      "kecamatan_code": pl.String, "kabkota_code": pl.String,
                                      "dpt": pl.Int64})


def ballots_needed(dpt: int) -> int:
    """Ballots one TPS needs: its DPT plus the 2.5 % reserve, rounded up per TPS."""
    return dpt + math.ceil(dpt * BALLOT_RESERVE)


@cache
def desa_requirements(scope: str = KALTIM) -> pl.DataFrame:
    """Required quantity of every item in every village (desa × barang), from the TPS master."""
    tps = tps_master(scope).with_columns(
        ballots=pl.col("dpt") + (pl.col("dpt") * BALLOT_RESERVE).ceil().cast(pl.Int64)
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
