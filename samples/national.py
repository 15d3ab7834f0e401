"""Submissions for any province or all of Indonesia, generated column-wise with polars.

`samples/kaltim.py` writes Kaltim's ten desks row by row with a story in every file (late desks,
river villages, a corrected week). A national desk has 514 kab/kota and about 670,000 logistics
rows a week, so this generator writes the same contract vectorised: progress toward voting day
from the stage targets, spread per village by a seeded hash, and a few known defects per week so
validation does real work. `pilkada sample --province X` and the benchmarks in `bench/` use it.

Randomness is `polars.Expr.hash(seed)` of stable keys (codes, week): the same seed and the same
locked polars version give the same bytes, and adding later weeks changes no earlier file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import polars as pl
import xlsxwriter

from samples.kaltim import SampleFile
from tasks.config import WITA
from tasks.contract.regions import desa_requirements, regions, tps_master
from tasks.contract.submission import column_names
from tasks.weeks import h_minus, week_start

# When each stage starts and completes, in days before voting day (as ref.stage_target).
_STAGES = {"diterima_kabkota": (45, 12), "diterima_ppk": (14, 3),
           "diterima_pps": (6, 1), "diterima_tps": (1, 0)}
_LAG_DAYS = 4.0  # how far a slow village trails the plan, at most
# Every this-many-th kab/kota sends a format other than CSV (deterministic by position).
_XLSX_EVERY, _JSON_EVERY = 29, 31
# Defects by position among the kab/kota (documented in docs/sample-data.md).
_FLAGGED_EVERY = 37  # logistik with two bad rows: accepted_with_flags
_REJECTED_EVERY = 101  # keamanan whose rows carry another kab/kota's code: rejected


def _as_of(week: str) -> date:
    """The day a generated report describes: Friday of its week."""
    return week_start(week) + timedelta(days=4)


def _unit(key: pl.Expr, seed: int, salt: str) -> pl.Expr:
    """A uniform number in [0, 1) from a key, stable for a seed."""
    return (pl.concat_str(pl.lit(salt), key).hash(seed) % 1_000_003).cast(pl.Float64) / 1_000_003


def _received(week: str, position: int) -> datetime:
    """Thursday or Friday of the week, business hours WITA: before the Saturday deadline."""
    day = week_start(week) + timedelta(days=3 + position % 2)
    minutes = 8 * 60 + (position * 37) % (8 * 60)
    return datetime.combine(day, time(minutes // 60, minutes % 60), WITA)


def _logistik(need: pl.DataFrame, week: str, seed: int) -> pl.DataFrame:
    """Cumulative arrivals at each stage: a linear ramp between a stage's start and due day,
    delayed per village by up to `_LAG_DAYS`, so later stages never exceed earlier ones and
    figures never fall from one week to the next."""
    h = h_minus(week) - 2  # the report describes Friday of the week
    lag = _unit(pl.col("desa_code"), seed, "lag") * _LAG_DAYS
    frac = {
        stage: (((start - (h + lag)) / (start - due)).clip(0.0, 1.0))
        for stage, (start, due) in _STAGES.items()
    }
    qty = {stage: (pl.col("jumlah_kebutuhan") * f).floor().cast(pl.Int64)
           for stage, f in frac.items()}
    moda = _unit(pl.col("desa_code"), seed, "moda")
    return need.sort("desa_code", "barang").select(
        kode_kabkota="kabkota_code",
        kode_kecamatan="kecamatan_code",
        kode_desa="desa_code",
        barang="barang",
        jumlah_kebutuhan="jumlah_kebutuhan",
        **qty,
        rusak=pl.when(_unit(pl.col("desa_code") + pl.col("barang"), seed, "rusak") < 0.01)
        .then(qty["diterima_kabkota"].clip(0, 1)).otherwise(0),
        jumlah_tps="n_tps",
        tps_lengkap=(pl.col("n_tps") * frac["diterima_tps"]).floor().cast(pl.Int64),
        moda_angkut=pl.when(moda < 0.9).then(pl.lit("darat"))
        .when(moda < 0.96).then(pl.lit("sungai")).when(moda < 0.99).then(pl.lit("laut"))
        .otherwise(pl.lit("udara")),
        per_tanggal=pl.lit(_as_of(week)),
        catatan=pl.lit(None, pl.String),
    )


def _keamanan(tps: pl.DataFrame, week: str, seed: int) -> pl.DataFrame:
    """Per kecamatan: TPS by vulnerability class (summing to its TPS), personnel and posts."""
    per_kec = tps.group_by("kabkota_code", "kecamatan_code").agg(jumlah_tps=pl.len())
    u = _unit(pl.col("kecamatan_code"), seed, "rawan")
    sangat = (pl.col("jumlah_tps") * u * 0.04).floor().cast(pl.Int64)
    rawan = (pl.col("jumlah_tps") * (0.08 + u * 0.15)).floor().cast(pl.Int64)
    ramp = max(0.2, min(1.0, 1 - (h_minus(week) - 2) / 60))
    return per_kec.sort("kecamatan_code").select(
        kode_kabkota="kabkota_code",
        kode_kecamatan="kecamatan_code",
        jumlah_tps=pl.col("jumlah_tps").cast(pl.Int64),
        tps_kurang_rawan=pl.col("jumlah_tps") - sangat - rawan,
        tps_rawan=rawan,
        tps_sangat_rawan=sangat,
        personel_polri=(pl.col("jumlah_tps") * 0.9 * ramp).floor().cast(pl.Int64),
        personel_tni=(pl.col("jumlah_tps") * 0.35 * ramp).floor().cast(pl.Int64),
        personel_linmas=(pl.col("jumlah_tps") * 2 * ramp).floor().cast(pl.Int64),
        posko=(pl.col("jumlah_tps") / 40 + 1).floor().cast(pl.Int64),
        per_tanggal=pl.lit(_as_of(week)),
    )


_KATEGORI = ("politik_uang", "perusakan_apk", "hoaks", "intimidasi", "kampanye_di_luar_jadwal")


def _events(kab: str, kec: list[str], weeks: list[str], week: str,
            seed: int) -> tuple[list[dict], list[dict]]:
    """Incidents and ASN cases opened in this and earlier generated weeks (older ones move a
    stage on), a kab/kota's hash deciding how many: most weeks none or one."""
    insiden, netralitas = [], []
    for i, w in enumerate(weeks[: weeks.index(week) + 1]):
        n = int(pl.select(_unit(pl.lit(kab + w), seed, "n")).item() * 3)
        start = week_start(w)
        older = w != week
        for j in range(n):
            k = kec[(j * 7 + i) % len(kec)]
            insiden.append({
                "kode_kabkota": kab, "id_insiden": f"INS-{kab}-{w}-{j + 1}",
                "waktu_kejadian": datetime.combine(start + timedelta(days=j % 5), time(10 + j)),
                "kode_kecamatan": k, "kode_desa": None,
                "kategori": _KATEGORI[(i + j) % len(_KATEGORI)], "tingkat": "rendah",
                "status": "ditangani" if older else "dilaporkan",
                "korban_meninggal": 0, "korban_luka": 0,
                "ditangani_oleh": "Polsek" if older else None, "sumber": "Laporan Panwascam",
                "ringkasan": f"Kejadian {j + 1} minggu {w} di kecamatan {k}.",
            })
            netralitas.append({
                "kode_kabkota": kab, "id_kasus": f"ASN-{kab}-{w}-{j + 1}",
                "ref_subjek": f"S-{kab}-{i:02d}{j:02d}", "jenis_pegawai": "pns",
                "instansi": "Dinas Pendidikan", "jabatan": None,
                "tanggal_lapor": start + timedelta(days=1), "asal": "temuan_bawaslu",
                "jenis_pelanggaran": "media_sosial",
                "tahap": "kajian_bawaslu" if older else "registrasi",
                "tanggal_tahap": start + timedelta(days=1 if not older else 8),
                "sanksi": None,
            })
    return insiden, netralitas


def _frame(kind: str, rows: list[dict]) -> pl.DataFrame:
    names = column_names(kind)
    if rows:
        return pl.DataFrame(rows).select(names)
    return pl.DataFrame({c: pl.Series([], dtype=pl.String) for c in names})


def _write(frame: pl.DataFrame, path: Path, fmt: str, received: datetime) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        with xlsxwriter.Workbook(str(path)) as wb:
            wb.set_properties({"created": received.replace(tzinfo=None)})  # same seed, same bytes
            frame.write_excel(wb, worksheet=path.stem.split("_")[1], autofit=False)
    elif fmt == "json":
        path.write_text(frame.write_json(), encoding="utf-8")
    else:
        frame.write_csv(path, datetime_format="%Y-%m-%d %H:%M", date_format="%Y-%m-%d")
    stamp = received.timestamp()
    os.utime(path, (stamp, stamp))


def _kind_frames(scope: str, weeks: list[str], week: str, seed: int,
                 ) -> Iterator[tuple[str, str, pl.DataFrame]]:
    """(kab/kota, kind, rows) for every kab/kota and kind of one week."""
    reg = regions(scope)
    logistik = _logistik(desa_requirements(scope), week, seed).partition_by(
        "kode_kabkota", as_dict=True)
    keamanan = _keamanan(tps_master(scope), week, seed).partition_by(
        "kode_kabkota", as_dict=True)
    kec_of = reg["kecamatan"].sort("kecamatan_code").group_by(
        "kabkota_code", maintain_order=True).agg("kecamatan_code")
    kec_of = dict(zip(kec_of["kabkota_code"], kec_of["kecamatan_code"].to_list(), strict=True))
    for kab in reg["kabkota"].sort("kabkota_code").iter_rows(named=True):
        code = kab["kabkota_code"]
        insiden, netralitas = _events(code, kec_of[code], weeks, week, seed)
        ringkasan = [{
            "kode_kabkota": code, "status_umum": "aman_terkendali",
            "narasi": f"{kab['kabkota_name']}: logistik dan keamanan sesuai rencana minggu "
                      f"{week}; {len(insiden)} kejadian tercatat.",
            "unit_pelapor": f"Desk Pilkada {kab['kabkota_name']}",
            "per_tanggal": _as_of(week),
        }]
        yield code, "ringkasan", _frame("ringkasan", ringkasan)
        yield code, "logistik", logistik[(code,)]
        yield code, "keamanan", keamanan[(code,)]
        yield code, "insiden", _frame("insiden", insiden)
        yield code, "netralitas", _frame("netralitas", netralitas)


def _defect(frame: pl.DataFrame, kind: str, position: int) -> tuple[pl.DataFrame, str | None,
                                                                      str]:
    """The known defects: two bad logistik rows (flagged), keamanan rows of another kab/kota
    (rejected). Everything else is clean and accepted."""
    if kind == "logistik" and position % _FLAGGED_EVERY == 5:
        bad = pl.int_range(pl.len()) < 2
        return frame.with_columns(
            diterima_ppk=pl.when(bad).then(pl.col("diterima_kabkota") + 1)
            .otherwise(pl.col("diterima_ppk"))), "urutan_tahap_salah", "accepted_with_flags"
    if kind == "keamanan" and position % _REJECTED_EVERY == 7:
        return frame.with_columns(kode_kabkota=pl.lit("9999")), "kabkota_lain", "rejected"
    return frame, None, "accepted"


def generate(out_dir: Path, weeks: list[str], seed: int = 2024,
             scope: str = "all") -> list[SampleFile]:
    """Write every kab/kota's five submissions of each week for a province (or `all`)."""
    weeks = sorted(set(weeks), key=week_start)
    out_dir = Path(out_dir).resolve()
    files: list[SampleFile] = []
    for week in weeks:
        for n, (kab, kind, frame) in enumerate(_kind_frames(scope, weeks, week, seed)):
            position = n // 5
            fmt = ("xlsx" if position % _XLSX_EVERY == 3 else
                   "json" if position % _JSON_EVERY == 4 else "csv")
            frame, defect, expected = _defect(frame, kind, position)
            path = out_dir / kab / f"{kab}_{kind}_{week}.{fmt}"
            _write(frame, path, fmt, _received(week, position))
            files.append(SampleFile(path, kab, kind, week, defect, expected))
    return files
