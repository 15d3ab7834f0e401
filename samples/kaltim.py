"""Deterministic sample submissions from the ten kab/kota of Kalimantan Timur.

The demo, the tests and the docs need an inbox that looks like what regency desks really send:
figures that move week by week toward voting day, the odd format a desk's Excel produces, and a
handful of deliberate mistakes whose verdict is known in advance (docs/sample-data.md).

Everything derives from the seed through random streams named after what they describe (a desa's
logistics plan, a kab/kota's incidents of one week, one file's jitter), never from one shared
stream. So the same seed gives byte-identical files, and asking for more weeks changes no file
that was already there.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import cache
from itertools import pairwise
from pathlib import Path

import xlsxwriter

from tasks.config import RIVER_KABKOTA, WITA
from tasks.contract.regions import apportion, desa_requirements, regions
from tasks.contract.submission import ASN_TYPES, ENUMS, column_names
from tasks.weeks import deadline, h_minus, week_end, week_of, week_start

PROVINCE = "64"
DEFAULT_WEEKS: tuple[str, str] = ("2024-W40", "2024-W48")  # first and last week the CLI generates
# The campaign opened on 25 Sep 2024: incident and ASN-case numbering starts that week, so a
# week's ids do not depend on which weeks were asked for.
CAMPAIGN_START_WEEK = "2024-W39"

BARANG: tuple[str, ...] = tuple(ENUMS["barang"])
BALLOTS: frozenset[str] = frozenset({"ss_gubernur", "ss_bupati_walikota"})


@dataclass(frozen=True)
class SampleFile:
    """One generated submission and the verdict the pipeline should reach for it."""

    path: Path
    kabkota: str
    kind: str
    week: str
    defect: str | None
    expected_status: str


# --------------------------------------------------------------------------------------------
# Regions, from the reference tables


@dataclass(frozen=True)
class _Desa:
    code: str
    name: str
    is_desa: bool  # a desa (village government) rather than a kelurahan (urban ward)
    kecamatan: str
    n_tps: int
    kebutuhan: dict[str, int]  # barang -> required quantity


@dataclass(frozen=True)
class _Kec:
    code: str
    name: str
    desa: tuple[_Desa, ...]

    @property
    def n_tps(self) -> int:
        return sum(d.n_tps for d in self.desa)


@dataclass(frozen=True)
class _Kab:
    code: str
    place: str  # "Kutai Kartanegara", "Samarinda"
    short: str  # "Kab. Kutai Kartanegara", "Kota Samarinda": how desks sign their reports
    ikp_tinggi: bool  # Bawaslu's 2024 vulnerability index says "tinggi"
    kecamatan: tuple[_Kec, ...]

    @property
    def desa(self) -> list[_Desa]:
        return [d for k in self.kecamatan for d in k.desa]

    @property
    def n_tps(self) -> int:
        return sum(k.n_tps for k in self.kecamatan)

    @property
    def polres(self) -> str:
        return f"{'Polresta' if self.code in _POLRESTA else 'Polres'} {self.place}"


_POLRESTA = frozenset({"6471", "6472"})  # Balikpapan and Samarinda have a city police resort


@cache
def _province() -> tuple[_Kab, ...]:
    """The province as nested kab/kota → kecamatan → desa, with each desa's requirements."""
    reg = regions()
    need: dict[str, dict[str, int]] = {}
    n_tps: dict[str, int] = {}
    for r in desa_requirements().iter_rows(named=True):
        need.setdefault(r["desa_code"], {})[r["barang"]] = r["jumlah_kebutuhan"]
        n_tps[r["desa_code"]] = r["n_tps"]
    desa_of: dict[str, list[_Desa]] = {}
    for r in reg["desa"].sort("desa_code").iter_rows(named=True):
        code = r["desa_code"]
        desa_of.setdefault(r["kecamatan_code"], []).append(
            _Desa(code, r["desa_name"], r["type"] == "desa", r["kecamatan_code"], n_tps[code],
                  need[code])
        )
    kec_of: dict[str, list[_Kec]] = {}
    for r in reg["kecamatan"].sort("kecamatan_code").iter_rows(named=True):
        kec = _Kec(r["kecamatan_code"], r["kecamatan_name"], tuple(desa_of[r["kecamatan_code"]]))
        kec_of.setdefault(r["kabkota_code"], []).append(kec)
    kabs = []
    for r in reg["kabkota"].sort("kabkota_code").iter_rows(named=True):
        kota = r["type"] == "kota"
        place = r["kabkota_name"].removeprefix("Kota ").removeprefix("Kabupaten ")
        kabs.append(_Kab(r["kabkota_code"], place, f"{'Kota' if kota else 'Kab.'} {place}",
                         r["ikp_2024_category"] == "tinggi", tuple(kec_of[r["kabkota_code"]])))
    return tuple(kabs)


def _kab(code: str) -> _Kab:
    return next(k for k in _province() if k.code == code)


# --------------------------------------------------------------------------------------------
# Shared helpers: random streams, schedules, submission times


def _rng(seed: int, *parts: object) -> random.Random:
    """A random stream named after what it generates, so no stream shifts another."""
    return random.Random("-".join(str(p) for p in (seed, *parts)))


def _interp(points: Sequence[tuple[float, float]], h: float) -> float:
    """Piecewise-linear value at H-`h` from (h, value) points ordered from far to near."""
    if h >= points[0][0]:
        return points[0][1]
    for (h0, v0), (h1, v1) in pairwise(points):
        if h >= h1:
            return v1 + (v0 - v1) * (h - h1) / (h0 - h1)
    return points[-1][1]


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method, fine for the small weekly rates used here."""
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _shift(week: str, n: int) -> str:
    return week_of(week_start(week) + timedelta(days=7 * n))


def _weeks_between(first: str, last: str) -> list[str]:
    """Every week from `first` to `last` inclusive (empty when `last` comes first)."""
    out, week = [], first
    while week_start(week) <= week_start(last):
        out.append(week)
        week = _shift(week, 1)
    return out


def _due(week: str) -> datetime:
    return deadline(week)


# Thursday and Friday office hours and Saturday morning: (weekday, first minute, last minute).
_SEND_SLOTS = ((3, 8 * 60, 16 * 60 + 30), (4, 8 * 60, 16 * 60), (5, 7 * 60 + 30, 10 * 60 + 30))
_SEND_WEIGHTS = (4, 4, 2)


def _received_at(seed: int, kab: str, kind: str, week: str) -> datetime:
    """When a desk sends a week's file: it sends its five files within an hour or two of each
    other, Thursday to Saturday morning, before the Saturday 12:00 deadline."""
    desk = _rng(seed, kab, week, "kirim")
    day, first, last = desk.choices(_SEND_SLOTS, weights=_SEND_WEIGHTS)[0]
    minute = desk.randint(first, last)
    one = _rng(seed, kab, kind, week, "kirim")
    at = datetime.combine(week_start(week) + timedelta(days=day), time(), WITA) + timedelta(
        minutes=minute + one.randint(0, 90), seconds=one.randrange(60)
    )
    return min(at, _due(week) - timedelta(minutes=7))


def _moment(rng: random.Random, week: str, before: datetime) -> datetime:
    """A minute between the week's Monday 00:00 and two hours before the report went out,
    mostly in waking hours (a night-time draw is redrawn once)."""
    start = datetime.combine(week_start(week), time(), WITA)
    span = max(int((before - start).total_seconds() // 60) - 120, 1)
    at = start + timedelta(minutes=rng.randrange(span))
    if at.hour < 6:
        at = start + timedelta(minutes=rng.randrange(span))
    return at


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max((last - first).days, 0)))


def _id_number(n: int) -> str:
    """Indonesian thousands separators, as narratives are written: 13162 -> 13.162."""
    return f"{n:,}".replace(",", ".")


def _id_percent(x: float) -> str:
    return f"{100 * x:.1f}".replace(".", ",") + "%"


# --------------------------------------------------------------------------------------------
# logistik: one row per desa × barang, cumulative quantities at each stage of the chain

_STAGES = ("kabkota", "ppk", "pps", "tps")
# Ranges for when a stage starts and finishes receiving, in days before voting (H-n), on time:
# KPU warehouses from ~H-45, full by ~H-10; PPK by H-2, PPS by H-1, the TPS the night before.
_WAREHOUSE = ((44.0, 48.0), (12.0, 16.0))
_WAREHOUSE_BALLOTS = ((40.0, 44.0), (9.0, 11.0))  # ballots are printed and folded last
_PPK = ((9.0, 12.0), (3.0, 5.0))
_PPS = ((5.0, 5.5), (1.0, 4.5))  # one shipment per village, so only the end matters
_TPS = ((1.0, 1.2), (0.2, 0.9))  # the night before, or at dawn on voting day
# Shipments per stage: vendors deliver to the warehouse in several, a kecamatan gets two, a
# village and its TPS get everything at once (so a village is either served or still short).
_TRANCHES = (6, 2, 1, 1)
_ACCELERATION = 1.3  # shipments come faster and faster (t ** 1.3) toward the deadline
# Days the remote regencies run behind the provincial schedule (river transport, distances).
_LAG_DAYS = {"6411": 4.0, "6407": 2.5, "6408": 0.5}
# Share of that lag left at each stage: KPU speeds up the last legs to catch up, so a late
# regency is furthest behind at the warehouse and closes part of the gap by the TPS.
_CATCH_UP = (1.0, 0.8, 0.6, 0.6)
_KAMPUNG = frozenset({"6407", "6411"})  # where villages are called kampung
_LAG_NOTES = {
    "sungai": ("menunggu debit air sungai naik", "kapal angkut menunggu air pasang",
               "logistik diangkut bertahap dengan perahu ketinting"),
    "udara": ("menunggu jadwal penerbangan perintis", "menunggu cuaca untuk helikopter"),
}


@dataclass(frozen=True)
class _DesaPlan:
    """How one desa's logistics arrive: fixed for the season, so weeks never contradict."""

    desa: _Desa
    moda: str
    lag: float  # days behind the provincial schedule
    windows: dict[str, tuple[tuple[float, float], ...]]  # barang -> (start, end) per stage
    rusak: dict[str, int]  # barang -> damaged units found when the warehouse sorts the goods
    note: str | None  # why the desa runs late, written on its unfinished rows


def _pick_window(rng: random.Random, ranges: tuple[tuple[float, float], ...]) -> tuple[float, ...]:
    return tuple(rng.uniform(lo, hi) for lo, hi in ranges)


# Share of villages reached by river, by air (below the river share) and by sea.
_SUNGAI_SHARE = {"6411": 0.7, "6407": 0.45, "6408": 0.25}
_UDARA_SHARE = {"6411": 0.12}
_LAUT_SHARE = {"6403": 0.18, "6474": 0.18}  # Berau's islands, Bontang's coastal kampung


def _moda(rng: random.Random, kab: str) -> str:
    """River regencies ship many villages by boat, Mahakam Ulu flies a few, coasts use the sea."""
    r = rng.random()
    if r < _UDARA_SHARE.get(kab, 0.0):
        return "udara"
    if kab in RIVER_KABKOTA and r < _SUNGAI_SHARE[kab]:
        return "sungai"
    if r < _LAUT_SHARE.get(kab, 0.0):
        return "laut"
    return "darat"


def _logistik_plans(seed: int, kab: _Kab) -> list[_DesaPlan]:
    """Warehouse windows per item, PPK windows per kecamatan, the rest per village."""
    store = _rng(seed, kab.code, "gudang")
    warehouse = {
        b: _pick_window(store, _WAREHOUSE_BALLOTS if b in BALLOTS else _WAREHOUSE) for b in BARANG
    }
    plans = []
    for kec in kab.kecamatan:
        ppk = _pick_window(_rng(seed, kec.code, "ppk"), _PPK)
        for desa in kec.desa:
            rng = _rng(seed, desa.code, "logistik")
            moda = _moda(rng, kab.code)
            extra = 0.0  # river and air villages of a late regency wait longest
            if kab.code in _LAG_DAYS:
                extra = {"sungai": rng.uniform(0.5, 2.5), "udara": rng.uniform(1.0, 3.0)}.get(
                    moda, rng.uniform(0.0, 0.5))
            jitter = rng.uniform(-0.5, 0.5)
            local = ((ppk[0] + jitter, ppk[1] + jitter), _pick_window(rng, _PPS),
                     _pick_window(rng, _TPS))
            rusak = {}
            for b in BARANG:
                if b in BALLOTS and rng.random() < 0.15:
                    rusak[b] = min(rng.randint(1, 25), desa.kebutuhan[b])
                elif rng.random() < 0.03:
                    rusak[b] = min(rng.randint(1, 2), desa.kebutuhan[b])
            note = rng.choice(_LAG_NOTES[moda]) if extra >= 1.2 else None
            plans.append(_DesaPlan(desa, moda, _LAG_DAYS.get(kab.code, 0.0) + extra,
                                   {b: (warehouse[b], *local) for b in BARANG}, rusak, note))
    return plans


def _progress(kebutuhan: int, windows: tuple[tuple[float, float], ...], h: float,
              lag: float) -> list[int]:
    """Cumulative quantity at each stage at H-`h` for a desa `lag` days behind schedule.

    A stage never holds more than the one before, and every term is monotone in h, so a desa's
    figures never fall from one week to the next.
    """
    out, cap = [], kebutuhan
    for (start, end), tranches, share in zip(windows, _TRANCHES, _CATCH_UP, strict=True):
        t = min(1.0, max(0.0, (start - h - lag * share) / (start - end)))
        arrived = math.floor(tranches * t**_ACCELERATION) / tranches
        cap = min(cap, math.floor(kebutuhan * arrived))
        out.append(cap)
    return out


# Bad rows planted in one file (defect "bad_rows"); the next week's row carries a correction note.
_BAD_LOGISTIK = ("6401", "2024-W45")
_CORRECTION_NOTE = "koreksi: angka TPS minggu lalu salah input"


def _bad_logistik_targets(seed: int, kab: _Kab) -> tuple[tuple[str, str], tuple[str, str]]:
    """(desa, barang) of the row with too much at the TPS and of the row with negative rusak."""
    rng = _rng(seed, kab.code, "logistik", _BAD_LOGISTIK[1], "cacat")
    first, second = rng.sample(kab.desa, 2)
    return (first.code, "ss_gubernur"), (second.code, "kotak_suara")


def _damage_note(barang: str, n: int) -> str:
    if barang in BALLOTS:
        return f"surat suara rusak {n} lembar, sudah diajukan penggantian"
    return f"{ENUMS['barang'][barang].lower()} rusak {n} unit, diganti dari cadangan"


def _logistik_rows(seed: int, kab: _Kab, plans: list[_DesaPlan], week: str) -> list[dict]:
    h = h_minus(week)
    corrected = (_bad_logistik_targets(seed, kab)[0]
                 if (kab.code, _shift(week, -1)) == _BAD_LOGISTIK else None)
    rows = []
    for plan in plans:
        desa = plan.desa
        # after voting day every TPS has voted, so everything had arrived
        got = {b: _progress(desa.kebutuhan[b], plan.windows[b], h, plan.lag) if h > 0
               else [desa.kebutuhan[b]] * len(_STAGES) for b in BARANG}
        lengkap = min(desa.n_tps * got[b][3] // desa.kebutuhan[b] for b in BARANG)
        for b in BARANG:
            kab_qty, ppk_qty, pps_qty, tps_qty = got[b]
            sorted_out = kab_qty >= 0.6 * desa.kebutuhan[b]  # damage shows when goods are sorted
            damaged = min(plan.rusak.get(b, 0), kab_qty) if sorted_out else 0
            notes = [_damage_note(b, damaged)] if damaged else []
            if plan.note and 0 < h <= 10 and pps_qty < desa.kebutuhan[b]:
                notes.append(plan.note)
            if corrected == (desa.code, b):
                notes.append(_CORRECTION_NOTE)
            rows.append({
                "kode_kabkota": kab.code, "kode_kecamatan": desa.kecamatan,
                "kode_desa": desa.code, "barang": b, "jumlah_kebutuhan": desa.kebutuhan[b],
                "diterima_kabkota": kab_qty, "diterima_ppk": ppk_qty, "diterima_pps": pps_qty,
                "diterima_tps": tps_qty, "rusak": damaged, "jumlah_tps": desa.n_tps,
                "tps_lengkap": lengkap, "moda_angkut": plan.moda,
                "catatan": "; ".join(notes) or None,
            })
    return rows


# --------------------------------------------------------------------------------------------
# keamanan: one row per kecamatan

# Voting-day deployment in Kaltim (reference README), spread over kab/kota by TPS.
_DEPLOYMENT = {"personel_polri": 5947, "personel_tni": 2289, "personel_linmas": 13162}
# Kutai Barat could not recruit two Linmas for every TPS. (Not Mahakam Ulu: its W47 security
# report is the deliberately missing file, so its shortfall would not show that week.)
_LINMAS_PER_TPS_SHORT = {"6407": 1.6}
# Share of the voting-day strength on duty at H-n; Linmas are recruited in the last month.
_RAMP = {
    "personel_polri": ((52, 0.25), (38, 0.35), (24, 0.5), (17, 0.65), (10, 0.85), (3, 1.0)),
    "personel_tni": ((52, 0.15), (24, 0.35), (10, 0.7), (3, 1.0)),
    "personel_linmas": ((31, 0.0), (24, 0.2), (17, 0.55), (10, 0.85), (3, 1.0)),
}


@cache
def _deployment() -> dict[str, dict[str, int]]:
    """Voting-day strength per kab/kota: provincial totals apportioned by TPS."""
    kabs = _province()
    out: dict[str, dict[str, int]] = {k.code: {} for k in kabs}
    for col, total in _DEPLOYMENT.items():
        short = _LINMAS_PER_TPS_SHORT if col == "personel_linmas" else {}
        fixed = {code: round(rate * _kab(code).n_tps) for code, rate in short.items()}
        rest = [k for k in kabs if k.code not in fixed]
        shares = apportion(total - sum(fixed.values()), [k.n_tps for k in rest])
        for code, n in [*fixed.items(), *((k.code, s) for k, s in zip(rest, shares, strict=True))]:
            out[code][col] = n
    return out


@dataclass(frozen=True)
class _KecSecurity:
    kec: _Kec
    rawan: int
    sangat_rawan: int
    full: dict[str, int]  # voting-day personnel
    posko: int


def _keamanan_plans(seed: int, kab: _Kab) -> list[_KecSecurity]:
    """Police TPS classes and voting-day personnel per kecamatan, fixed for the season."""
    full = _deployment()[kab.code]
    weights = [k.n_tps for k in kab.kecamatan]
    per_kec = {col: apportion(n, weights) for col, n in full.items()}
    plans = []
    for i, kec in enumerate(kab.kecamatan):
        rng = _rng(seed, kec.code, "keamanan")
        rawan = rng.uniform(0.16, 0.26) if kab.ikp_tinggi else rng.uniform(0.10, 0.20)
        sangat = rng.uniform(0.03, 0.05) if kab.ikp_tinggi else rng.uniform(0.01, 0.03)
        plans.append(_KecSecurity(kec, round(rawan * kec.n_tps), round(sangat * kec.n_tps),
                                  {col: v[i] for col, v in per_kec.items()}, rng.randint(1, 3)))
    return plans


def _keamanan_rows(seed: int, kab: _Kab, plans: list[_KecSecurity], week: str) -> list[dict]:
    h = h_minus(week)
    rng = _rng(seed, kab.code, "keamanan", week)
    rows = []
    for p in plans:
        row = {"kode_kabkota": kab.code, "kode_kecamatan": p.kec.code,
               "jumlah_tps": p.kec.n_tps,
               "tps_kurang_rawan": p.kec.n_tps - p.rawan - p.sangat_rawan,
               "tps_rawan": p.rawan, "tps_sangat_rawan": p.sangat_rawan}
        for col, full in p.full.items():
            share = _interp(_RAMP[col], h)
            row[col] = full if share >= 1 else round(full * share * rng.uniform(0.94, 1.06))
        row["posko"] = p.posko + (h <= 17) + (h <= 3)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------
# insiden: a row per new incident plus every earlier incident whose status changed this week

_INCIDENT_RATE = {True: 0.9, False: 0.4}  # new incidents a week, by IKP tinggi, before scaling
_INCIDENT_PROXIMITY = ((52, 0.6), (31, 0.8), (17, 1.0), (10, 1.4), (3, 1.8), (-4, 1.0))
_KATEGORI_WEIGHT = {
    "politik_uang": 14, "intimidasi": 8, "bentrokan_massa": 4, "perusakan_apk": 20,
    "ujaran_kebencian_sara": 8, "hoaks": 14, "gangguan_logistik": 5, "bencana_alam": 6,
    "kampanye_di_luar_jadwal": 10, "lainnya": 4,
}
_INSIDEN_TEXT = {
    "politik_uang": ("Dugaan pembagian uang kepada warga oleh tim pemenangan paslon di Kec. {kec}.",
                     "Warga melaporkan pembagian sembako disertai ajakan memilih paslon tertentu "
                     "di Kec. {kec}."),
    "intimidasi": ("Anggota KPPS di Kec. {kec} menerima ancaman melalui pesan singkat.",
                   "Relawan paslon melaporkan intimidasi saat memasang atribut di Kec. {kec}."),
    "bentrokan_massa": ("Gesekan antarpendukung paslon usai kampanye terbuka di Kec. {kec}, "
                        "berhasil dilerai aparat.",),
    "perusakan_apk": ("Baliho paslon dirusak orang tak dikenal di Kec. {kec}.",
                      "Sejumlah spanduk kampanye ditemukan dibakar di Kec. {kec}."),
    "ujaran_kebencian_sara": ("Unggahan bernada SARA terkait paslon beredar di grup media sosial "
                              "warga Kec. {kec}.",),
    "hoaks": ("Beredar kabar bohong soal penundaan pemungutan suara di Kec. {kec}.",
              "Hoaks surat suara sudah tercoblos beredar dari akun warga Kec. {kec}."),
    "gangguan_logistik": ("Pengiriman logistik ke Kec. {kec} tertunda karena kendaraan angkut "
                          "rusak.",
                          "Kardus logistik di gudang PPK Kec. {kec} terkena rembesan air hujan."),
    "bencana_alam": ("Banjir merendam sebagian permukiman di Kec. {kec}, lokasi TPS disiapkan "
                     "pindah.", "Tanah longsor memutus akses jalan menuju Kec. {kec}."),
    "kampanye_di_luar_jadwal": ("Kegiatan kampanye tanpa pemberitahuan ditemukan di Kec. {kec}.",
                                "Alat peraga kampanye masih terpasang pada masa tenang di "
                                "Kec. {kec}."),
    "lainnya": ("Keributan kecil di sekitar kantor PPK Kec. {kec}, situasi kembali kondusif.",),
}
_SUMBER = ("Laporan Bhabinkamtibmas", "Laporan masyarakat", "Laporan Panwascam", "Patroli Polsek",
           "Laporan Babinsa", "Pantauan media sosial")
# Tingkat weights (rendah, sedang, tinggi) where a category is more serious than usual.
_TINGKAT_WEIGHT = {"bentrokan_massa": (20, 50, 30), "intimidasi": (40, 45, 15),
                   "bencana_alam": (40, 40, 20)}
# Minimum new items in a week, where a deliberate defect needs rows to corrupt.
_MIN_NEW = {("6407", "insiden", "2024-W46"): 3, ("6401", "insiden", "2024-W43"): 2,
            ("6472", "netralitas", "2024-W45"): 3, ("6474", "netralitas", "2024-W47"): 2}


@dataclass(frozen=True)
class _Incident:
    id: str
    waktu: datetime
    kecamatan: str
    desa: str | None
    kategori: str
    tingkat: str
    meninggal: int
    luka: int
    handler: str
    sumber: str
    ringkasan: str
    path: tuple[tuple[str, str], ...]  # (week, status), one status change per week at most


def _kategori(rng: random.Random, h: int) -> str:
    """Campaign-period mix; logistics trouble and money politics peak in the last days."""
    weights = dict(_KATEGORI_WEIGHT)
    if h <= 10:
        weights.update(gangguan_logistik=15, politik_uang=22, perusakan_apk=10)
    if h <= 0:
        weights.update(kampanye_di_luar_jadwal=0, perusakan_apk=2)
    names = list(ENUMS["kategori_insiden"])
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def _incident_path(rng: random.Random, week: str, kategori: str,
                   tingkat: str) -> tuple[tuple[str, str], ...]:
    """Statuses move forward only, a week or more apart after the first report."""
    steps = ["dilaporkan"] if rng.random() < 0.5 else []
    steps.append("ditangani")
    if tingkat == "tinggi" or (kategori in {"politik_uang", "bentrokan_massa"}
                               and rng.random() < 0.35):
        steps.append("proses_hukum")
    doubtful = kategori in {"hoaks", "politik_uang", "intimidasi"} and rng.random() < 0.2
    steps.append("tidak_terbukti" if doubtful and "proses_hukum" not in steps else "selesai")
    path, offset = [], 0
    for i, status in enumerate(steps):
        if i:  # a case in court takes longer to close
            offset += rng.randint(2, 4) if steps[i - 1] == "proses_hukum" else rng.choice((1, 1, 2))
        path.append((_shift(week, offset), status))
    return tuple(path)


def _new_incident(rng: random.Random, kab: _Kab, number: int, week: str,
                  waktu: datetime) -> _Incident:
    h = h_minus(week)
    kategori = _kategori(rng, h)
    tingkat = rng.choices(list(ENUMS["tingkat"]),
                          weights=_TINGKAT_WEIGHT.get(kategori, (70, 27, 3)))[0]
    meninggal = luka = 0
    if tingkat == "tinggi" and kategori in _TINGKAT_WEIGHT:  # casualties only when serious
        luka = rng.randint(1, 6) if rng.random() < 0.6 else 0
        meninggal = 1 if kategori == "bencana_alam" and rng.random() < 0.2 else 0
    kec = rng.choices(kab.kecamatan, weights=[k.n_tps for k in kab.kecamatan])[0]
    desa = rng.choice(kec.desa).code if rng.random() < 0.7 else None
    handler = {"politik_uang": f"Sentra Gakkumdu {kab.short}",
               "kampanye_di_luar_jadwal": f"Bawaslu {kab.short}",
               "bencana_alam": f"BPBD {kab.short}",
               "gangguan_logistik": f"KPU {kab.short}"}.get(kategori, kab.polres)
    return _Incident(
        id=f"INS-{kab.code}-{number:04d}", waktu=waktu, kecamatan=kec.code, desa=desa,
        kategori=kategori, tingkat=tingkat, meninggal=meninggal, luka=luka, handler=handler,
        sumber=rng.choice(_SUMBER),
        ringkasan=rng.choice(_INSIDEN_TEXT[kategori]).format(kec=kec.name),
        path=_incident_path(rng, week, kategori, tingkat),
    )


def _incidents(seed: int, kab: _Kab, last_week: str) -> list[_Incident]:
    """Every incident from the start of the campaign to `last_week`, week by week."""
    out: list[_Incident] = []
    size = min(max(math.sqrt(kab.n_tps / 600), 0.35), 1.6)
    for week in _weeks_between(CAMPAIGN_START_WEEK, last_week):
        rng = _rng(seed, kab.code, "insiden", week)
        lam = _INCIDENT_RATE[kab.ikp_tinggi] * size * _interp(_INCIDENT_PROXIMITY, h_minus(week))
        n = max(_poisson(rng, lam), _MIN_NEW.get((kab.code, "insiden", week), 0))
        sent = _received_at(seed, kab.code, "insiden", week)
        for waktu in sorted(_moment(rng, week, sent) for _ in range(n)):
            out.append(_new_incident(rng, kab, len(out) + 1, week, waktu))
    return out


def _insiden_rows(kab: _Kab, incidents: list[_Incident], week: str) -> list[dict]:
    rows = []
    for inc in incidents:
        status = next((s for w, s in inc.path if w == week), None)
        if status is None:
            continue
        rows.append({
            "kode_kabkota": kab.code, "id_insiden": inc.id, "waktu_kejadian": inc.waktu,
            "kode_kecamatan": inc.kecamatan, "kode_desa": inc.desa, "kategori": inc.kategori,
            "tingkat": inc.tingkat, "status": status, "korban_meninggal": inc.meninggal,
            "korban_luka": inc.luka,
            "ditangani_oleh": None if status == "dilaporkan" else inc.handler,
            "sumber": inc.sumber, "ringkasan": inc.ringkasan,
        })
    return rows


# --------------------------------------------------------------------------------------------
# netralitas: a row per new ASN case plus every earlier case whose stage changed this week

_CASE_RATE = {True: 0.8, False: 0.5}
_CASE_PROXIMITY = ((45, 0.7), (24, 1.0), (10, 1.2), (3, 1.0), (-4, 0.3))
_PEGAWAI_WEIGHT = {"pns": 60, "pppk": 20, "honorer": 8, "kepala_desa": 12, "lainnya": 0}
_ASAL_WEIGHT = {"temuan_bawaslu": 50, "laporan_masyarakat": 40, "laporan_instansi": 10}
_PELANGGARAN_WEIGHT = {"media_sosial": 45, "kampanye_terlibat": 20, "fasilitas_negara": 8,
                       "keputusan_menguntungkan": 5, "deklarasi_dukungan": 12,
                       "mencalonkan_diri": 3, "lainnya": 7}
_SANKSI_WEIGHT = {"moral_tertutup": 20, "moral_terbuka": 15, "disiplin_ringan": 35,
                  "disiplin_sedang": 22, "disiplin_berat": 8}
_POSTS = {  # jenis_pegawai -> (instansi, jabatan) templates
    "asn": (("Dinas Pendidikan", "Guru"), ("Dinas Pendidikan", "Kepala Sekolah"),
            ("Dinas Kesehatan", "Perawat"), ("Dinas Kesehatan", "Kepala Puskesmas"),
            ("Kecamatan {kec}", "Camat"), ("Kecamatan {kec}", "Sekretaris Camat"),
            ("Kecamatan {kec}", "Staf"), ("Sekretariat Daerah", "Kepala Bagian"),
            ("Dinas Pekerjaan Umum dan Penataan Ruang", "Kepala Bidang"),
            ("Satuan Polisi Pamong Praja", "Anggota"), ("Dinas Perhubungan", "Staf")),
    "honorer": (("Dinas Lingkungan Hidup", "Tenaga Harian Lepas"),
                ("Kecamatan {kec}", "Tenaga Kontrak"), ("Dinas Pendidikan", "Guru Honorer")),
    "kepala_desa": (("Pemerintah Desa {desa}", "Kepala Desa"),
                    ("Pemerintah Desa {desa}", "Sekretaris Desa"),
                    ("Pemerintah Desa {desa}", "Kepala Dusun")),
}


@dataclass(frozen=True)
class _Case:
    id: str
    ref: str
    jenis_pegawai: str
    instansi: str
    jabatan: str
    lapor: date
    asal: str
    pelanggaran: str
    stages: tuple[tuple[str, date, str], ...]  # (week, date, tahap), in order
    sanksi: str | None


def _case_stages(rng: random.Random, asn: bool) -> list[tuple[int, str]]:
    """(week offset, tahap): Bawaslu reviews, then forwards ASN cases to BKN, which recommends
    the sanction the regional head imposes; non-ASN cases stop after the review."""
    stages = [(0, "registrasi"), (rng.choice((0, 1)), "kajian_bawaslu")]
    offset = stages[-1][0]
    r = rng.random()
    if not asn:
        ends = ("bukan_pelanggaran", "dihentikan", "tidak_ditindaklanjuti")
        return [*stages, (offset + 1, rng.choices(ends, weights=(4, 3, 3))[0])]
    if r < 0.28:
        return [*stages, (offset + 1, "bukan_pelanggaran" if r < 0.2 else "dihentikan")]
    for tahap, gaps in (("rekomendasi_ke_bkn", (1, 2)), ("rekomendasi_bkn", (1, 2, 3))):
        offset += rng.choice(gaps)
        stages.append((offset, tahap))
    offset += rng.choice((1, 2, 3))
    return [*stages, (offset, "sanksi_dijatuhkan" if rng.random() < 0.85
                      else "tidak_ditindaklanjuti")]


def _pick(rng: random.Random, weights: dict[str, int], enum: str) -> str:
    names = list(ENUMS[enum])
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def _new_case(seed: int, rng: random.Random, kab: _Kab, week: str, refs: set[str]) -> _Case:
    """A case reported in `week` and its whole course; numbered once the week is sorted."""
    has_desa = any(d.is_desa for d in kab.desa)
    weights = {**_PEGAWAI_WEIGHT, "kepala_desa": _PEGAWAI_WEIGHT["kepala_desa"] * has_desa}
    jenis = _pick(rng, weights, "jenis_pegawai")
    kec = rng.choice(kab.kecamatan)
    desa = rng.choice([d for d in kec.desa if d.is_desa] or list(kec.desa))
    instansi, jabatan = rng.choice(_POSTS["asn" if jenis in ASN_TYPES else jenis])
    ref = f"SBJ-{kab.code}-{rng.getrandbits(16):04X}"
    while ref in refs:
        ref = f"SBJ-{kab.code}-{rng.getrandbits(16):04X}"
    refs.add(ref)
    stages, previous = [], week_start(week)
    for offset, tahap in _case_stages(rng, jenis in ASN_TYPES):
        w = _shift(week, offset)
        sent = _received_at(seed, kab.code, "netralitas", w).date()
        previous = _day_between(rng, max(previous, week_start(w)), sent)
        stages.append((w, previous, tahap))
    final = stages[-1][2]
    return _Case(
        id="", ref=ref, jenis_pegawai=jenis,
        instansi=instansi.format(kec=kec.name, desa=desa.name), jabatan=jabatan,
        lapor=stages[0][1], asal=_pick(rng, _ASAL_WEIGHT, "asal_kasus"),
        pelanggaran=_pick(rng, _PELANGGARAN_WEIGHT, "jenis_pelanggaran"),
        stages=tuple(stages),
        sanksi=_pick(rng, _SANKSI_WEIGHT, "sanksi") if final == "sanksi_dijatuhkan" else None,
    )


def _cases(seed: int, kab: _Kab, last_week: str) -> list[_Case]:
    """Every ASN case from the start of the campaign to `last_week`, week by week."""
    out: list[_Case] = []
    refs: set[str] = set()
    size = min(max(math.sqrt(kab.n_tps / 700), 0.35), 1.4)
    for week in _weeks_between(CAMPAIGN_START_WEEK, last_week):
        rng = _rng(seed, kab.code, "netralitas", week)
        lam = _CASE_RATE[kab.ikp_tinggi] * size * _interp(_CASE_PROXIMITY, h_minus(week))
        n = max(min(_poisson(rng, lam), 3), _MIN_NEW.get((kab.code, "netralitas", week), 0))
        new = sorted((_new_case(seed, rng, kab, week, refs) for _ in range(n)),
                     key=lambda c: c.lapor)
        out += [replace(c, id=f"ASN-{kab.code}-{len(out) + i:03d}")
                for i, c in enumerate(new, start=1)]
    return out


def _netralitas_rows(kab: _Kab, cases: list[_Case], week: str) -> list[dict]:
    rows = []
    for case in cases:
        this_week = [(d, t) for w, d, t in case.stages if w == week]
        if not this_week:
            continue
        tanggal, tahap = this_week[-1]  # several steps in one week: report the latest
        rows.append({
            "kode_kabkota": kab.code, "id_kasus": case.id, "ref_subjek": case.ref,
            "jenis_pegawai": case.jenis_pegawai, "instansi": case.instansi,
            "jabatan": case.jabatan, "tanggal_lapor": case.lapor, "asal": case.asal,
            "jenis_pelanggaran": case.pelanggaran, "tahap": tahap, "tanggal_tahap": tanggal,
            "sanksi": case.sanksi if tahap == "sanksi_dijatuhkan" else None,
        })
    return rows


# --------------------------------------------------------------------------------------------
# ringkasan: one row, a "kondisi terkini" paragraph written from the week's own figures

_KRITIS = frozenset({("6411", "2024-W47")})  # the desk's own judgement, explained in the narasi


def _new_incidents(week: str, insiden: list[dict]) -> list[dict]:
    return [r for r in insiden if week_of(r["waktu_kejadian"].date()) == week]


def _status_umum(kab: _Kab, week: str, insiden: list[dict]) -> str:
    """Laggards in the last weeks, or a serious or busy week, report trouble."""
    h = h_minus(week)
    if (kab.code, week) in _KRITIS:
        return "kritis"
    new = _new_incidents(week, insiden)
    lagging = _LAG_DAYS.get(kab.code, 0) >= 2 and 0 < h <= 17
    serious = any(r["tingkat"] == "tinggi" for r in new)
    return "ada_kendala" if lagging or serious or len(new) >= 4 else "aman_terkendali"


def _opening(kab: _Kab, h: int, status: str) -> str:
    mood = {"aman_terkendali": "situasi keamanan dan ketertiban aman dan kondusif",
            "ada_kendala": "situasi umum kondusif, namun terdapat beberapa kendala",
            "kritis": "terdapat kendala serius yang memerlukan perhatian Desk Pilkada Provinsi"}
    if h <= 0:
        return (f"Pemungutan suara 27 November 2024 di {kab.short} telah berlangsung dan "
                f"rekapitulasi di tingkat kecamatan berjalan; {mood[status]}.")
    if h <= 3:
        return (f"Memasuki masa tenang (24 s.d. 26 November), H-{h} menjelang pemungutan "
                f"suara, {mood[status]}.")
    if h <= 17:
        return f"Menjelang pemungutan suara (H-{h}), {mood[status]} di {kab.short}."
    return (f"Tahapan kampanye Pilkada Serentak 2024 di {kab.short} berjalan sesuai jadwal "
            f"(H-{h}); {mood[status]}.")


def _logistics_sentence(kab: _Kab, h: int, logistik: list[dict]) -> str:
    ballots = [r for r in logistik if r["barang"] in BALLOTS]
    need = sum(r["jumlah_kebutuhan"] for r in ballots)
    share = {s: sum(r[f"diterima_{s}"] for r in ballots) / need for s in _STAGES}
    if h <= 0:
        return "Seluruh logistik pemilihan telah diterima KPPS sebelum hari pemungutan suara."
    if share["kabkota"] == 0:
        others = [r for r in logistik if r["barang"] not in BALLOTS]
        arrived = sum(r["diterima_kabkota"] for r in others) / sum(
            r["jumlah_kebutuhan"] for r in others)
        return (f"Surat suara belum tiba di gudang KPU {kab.short}"
                + (f"; logistik lain telah diterima {_id_percent(arrived)}." if arrived else
                   ", yang masih menunggu kiriman dari penyedia."))
    where = {"kabkota": "gudang KPU", "ppk": "PPK", "pps": "PPS"}
    got = [f"{_id_percent(share[s])} di {where[s]}" for s in where if share[s]]
    text = f"Surat suara yang telah diterima: {', '.join(got)}."
    waiting = next((s for s in ("ppk", "pps") if not share[s]), None)
    if waiting:
        text += f" Distribusi ke {where[waiting]} belum dimulai."
    behind = {r["kode_desa"] for r in ballots
              if r["moda_angkut"] in {"sungai", "udara"} and r["diterima_ppk"]
              < r["jumlah_kebutuhan"]}
    if kab.code in _LAG_DAYS and behind and h <= 17:
        village = "kampung" if kab.code in _KAMPUNG else "desa"
        text += (f" Pengiriman ke {len(behind)} {village} yang hanya dapat dijangkau lewat sungai "
                 "atau udara tertinggal karena debit air sungai surut dan cuaca.")
    return text


def _security_sentence(keamanan: list[dict]) -> str:
    columns = ("jumlah_tps", "tps_rawan", "tps_sangat_rawan", *_DEPLOYMENT)
    total = {c: sum(r[c] for r in keamanan) for c in columns}
    people = (f"{_id_number(total['personel_polri'])} personel Polri dan "
              f"{_id_number(total['personel_tni'])} personel TNI")
    if total["personel_linmas"]:
        people += f", dibantu {_id_number(total['personel_linmas'])} anggota Linmas"
    return (f"Pengamanan melibatkan {people}; dari {_id_number(total['jumlah_tps'])} TPS, "
            f"{_id_number(total['tps_rawan'])} dipetakan rawan dan "
            f"{_id_number(total['tps_sangat_rawan'])} sangat rawan.")


def _events_sentence(kab: _Kab, week: str, insiden: list[dict], netralitas: list[dict]) -> str:
    new = _new_incidents(week, insiden)
    if new:
        cats = sorted({ENUMS["kategori_insiden"][r["kategori"]].lower() for r in new})
        handled = sum(r["status"] != "dilaporkan" for r in new)
        progress = ("seluruhnya sudah ditangani" if handled == len(new) else
                    "seluruhnya masih ditelusuri" if not handled else
                    f"{handled} di antaranya sudah ditangani")
        text = (f"Sepekan terakhir tercatat {len(new)} kejadian ({', '.join(cats)}); "
                f"{progress}.")
    else:
        text = "Tidak ada kejadian menonjol selama sepekan."
    fresh = sum(week_of(r["tanggal_lapor"]) == week for r in netralitas)
    sanctioned = sum(r["tahap"] == "sanksi_dijatuhkan" for r in netralitas)
    if fresh:
        text += (f" Bawaslu {kab.short} meregistrasi {fresh} dugaan pelanggaran netralitas ASN "
                 "baru.")
    if sanctioned:
        text += f" Sebanyak {sanctioned} kasus netralitas ASN telah berujung sanksi."
    return text


_CLOSING = {
    "aman_terkendali": "Desk Pilkada {short} terus memantau perkembangan situasi.",
    "ada_kendala": "Koordinasi dengan KPU, Bawaslu dan Forkopimda terus dilakukan untuk "
                   "mengatasi kendala.",
    "kritis": "Distribusi ke kampung di hulu Sungai Mahakam membutuhkan dukungan angkutan udara "
              "segera; tabel keamanan per kecamatan pekan ini belum terkirim karena gangguan "
              "jaringan di Long Bagun.",
}


def _ringkasan_rows(kab: _Kab, week: str, logistik: list[dict], keamanan: list[dict],
                    insiden: list[dict], netralitas: list[dict]) -> list[dict]:
    h = h_minus(week)
    status = _status_umum(kab, week, insiden)
    narasi = " ".join((_opening(kab, h, status), _logistics_sentence(kab, h, logistik),
                       _security_sentence(keamanan),
                       _events_sentence(kab, week, insiden, netralitas),
                       _CLOSING[status].format(short=kab.short)))
    return [{"kode_kabkota": kab.code, "status_umum": status, "narasi": narasi,
             "unit_pelapor": f"Kesbangpol {kab.short}"}]


# --------------------------------------------------------------------------------------------
# tindak_lanjut: what the Desk Pilkada meetings and the Forkopimda rakor decided, week by week
#
# Unlike the other kinds these are not drawn from the seed: a follow-up is a decision people
# took about what the other kinds show (Mahakam Ulu's river logistics, Samarinda's clash,
# Kukar's very vulnerable TPS), so the season's follow-ups are written out as a script that
# matches seed 2024's figures and narratives. Kutai Barat, Kritis in W47, deliberately has none:
# the bulletin must be able to say that nobody has acted on it yet.

_FORKOPIMDA_RAKOR = date(2024, 11, 13)  # the provincial Forkopimda coordination meeting


@dataclass(frozen=True)
class _FollowUp:
    """One follow-up and its whole course as its sender reports it: a row in every weekly
    report from the decision until the week it is closed (`selesai` or `dibatalkan`)."""

    sender: str  # a kab/kota desk, or the provincial desk under the province's code
    number: int
    kabkota: str  # whom it concerns: a kab/kota, or the whole province
    decided: date  # a Monday's Desk Pilkada, or the Forkopimda rakor
    forum: str
    bidang: str
    isu: str
    tindakan: str
    instansi: str
    tenggat: date
    # (tanggal_status, status, catatan), one entry per reported week, in order
    course: tuple[tuple[date, str, str | None], ...]

    @property
    def id(self) -> str:
        return f"TL-{self.sender}-{self.number:03d}"


def _nov(day: int) -> date:
    return date(2024, 11, day)


_FOLLOW_UPS: tuple[_FollowUp, ...] = (
    # Kutai Kartanegara: ASN and village heads at rallies; very vulnerable TPS in remote areas.
    _FollowUp("6402", 1, "6402", date(2024, 10, 28), "desk_pilkada", "netralitas",
              "Kepala desa dan ASN terpantau hadir dalam kegiatan kampanye paslon",
              "Terbitkan surat edaran Bupati tentang netralitas ASN dan kepala desa, lalu "
              "sosialisasikan lewat camat", "pemda", _nov(8),
              ((date(2024, 10, 28), "baru", None),
               (_nov(6), "selesai", "surat edaran terbit 6 November dan diteruskan ke camat"))),
    _FollowUp("6402", 2, "6402", _nov(11), "desk_pilkada", "keamanan",
              "TPS sangat rawan di kawasan tambang dan perkebunan Kec. Tabang dan Kembang "
              "Janggut", "Tambah personel dan patroli rutin di TPS sangat rawan sampai hari "
              "pemungutan suara", "polri", _nov(22),
              ((_nov(11), "baru", None),
               (_nov(20), "selesai", "personel tambahan ditempatkan di seluruh TPS sangat "
                                     "rawan"))),
    # Mahakam Ulu: ballots late at the warehouse, then the river too low to reach the PPK.
    _FollowUp("6411", 1, "6411", date(2024, 10, 28), "desk_pilkada", "logistik",
              "Surat suara belum tiba di gudang KPU Kab. Mahakam Ulu; logistik tertinggal "
              "dari jadwal", "Percepat pengiriman logistik dari Samarinda ke gudang KPU di "
              "Ujoh Bilang", "kpu", _nov(8),
              ((date(2024, 10, 28), "baru", None),
               (_nov(6), "berjalan", "kapal angkut kedua berangkat dari Samarinda"),
               (_nov(13), "berjalan", "sebagian muatan tertahan karena debit sungai surut"),
               (_nov(19), "selesai", "seluruh logistik tiba di gudang KPU 19 November"))),
    _FollowUp("6411", 2, "6411", _nov(11), "desk_pilkada", "logistik",
              "Debit Sungai Mahakam surut; kapal angkut tidak dapat mencapai PPK di hulu",
              "Sewa perahu ketinting tambahan untuk distribusi ke PPK Long Apari dan Long "
              "Pahangai", "pemda", _nov(16),
              ((_nov(13), "berjalan", "dua perahu disewa, menunggu muatan dari gudang KPU"),
               (_nov(19), "terkendala", "perahu tidak dapat melewati riam saat air surut; "
                                        "diusulkan angkutan udara"),
               (_nov(25), "dibatalkan", "digantikan angkutan udara TNI (TL-64-002)"))),
    # Samarinda: the clash after a rally in Sambutan, and the video that spread afterwards.
    _FollowUp("6472", 1, "6472", _nov(4), "desk_pilkada", "keamanan",
              "Gesekan antarpendukung paslon usai kampanye terbuka di Kec. Sambutan",
              "Fasilitasi pertemuan damai tim pemenangan paslon dan tambah patroli gabungan "
              "di Kec. Sambutan", "polri", _nov(8),
              ((_nov(7), "selesai", "pertemuan damai digelar 7 November"),)),
    _FollowUp("6472", 2, "6472", _nov(4), "desk_pilkada", "keamanan",
              "Video gesekan di Kec. Sambutan beredar dengan narasi provokatif di media "
              "sosial", "Patroli siber dan klarifikasi resmi bersama Polresta Samarinda",
              "diskominfo", _nov(22),
              ((_nov(4), "baru", None),
               (_nov(12), "berjalan", "akun penyebar dilaporkan ke platform"),
               (_nov(19), "selesai", "klarifikasi resmi dirilis dan konten diturunkan"))),
    _FollowUp("6472", 3, "6472", _nov(11), "desk_pilkada", "lainnya",
              "Alat peraga kampanye masih terpasang menjelang masa tenang",
              "Tertibkan alat peraga kampanye sebelum masa tenang 24 November", "pemda",
              _nov(23),
              ((_nov(11), "baru", None),
               (_nov(21), "selesai", "penertiban bersama Bawaslu dan Satpol PP"))),
    # Bontang: coastal TPS reached by sea; tired KPPS officers on voting day.
    _FollowUp("6474", 1, "6474", _nov(11), "desk_pilkada", "keamanan",
              "TPS di kampung pesisir dan pulau Kec. Bontang Selatan sulit dijangkau patroli "
              "darat", "Patroli laut di TPS pesisir dan pulau pada masa tenang dan hari "
              "pemungutan suara", "polri", _nov(27),
              ((_nov(11), "baru", None),
               (_nov(20), "berjalan", "kapal patroli Polairud disiagakan"),
               (_nov(27), "selesai", "patroli laut berjalan sampai penghitungan suara "
                                     "selesai"))),
    _FollowUp("6474", 2, "6474", _nov(18), "desk_pilkada", "lainnya",
              "Risiko kelelahan petugas KPPS saat pemungutan dan penghitungan suara",
              "Siagakan layanan kesehatan dan ambulans bagi petugas KPPS di setiap kelurahan",
              "dinkes", _nov(26),
              ((_nov(18), "baru", None),
               (_nov(26), "selesai", "tenggat pada laporan minggu lalu salah ketik; yang benar "
                                     "26 November"))),
    # The provincial desk: province-wide decisions, and help for the kab/kota that lag.
    _FollowUp(PROVINCE, 1, PROVINCE, _nov(4), "desk_pilkada", "partisipasi",
              "Hoaks penundaan pemungutan suara beredar di media sosial",
              "Klarifikasi resmi dan patroli siber bersama KPU dan Polda Kalimantan Timur",
              "diskominfo", _nov(8),
              ((_nov(7), "selesai", "klarifikasi dirilis di kanal resmi Pemprov dan KPU"),)),
    _FollowUp(PROVINCE, 2, "6411", _FORKOPIMDA_RAKOR, "rakor_forkopimda", "logistik",
              "Distribusi logistik ke kampung di hulu Sungai Mahakam tertinggal; sungai surut",
              "Dukungan angkutan udara (helikopter) untuk distribusi logistik ke PPK di hulu "
              "Kab. Mahakam Ulu", "tni", _nov(20),
              ((_FORKOPIMDA_RAKOR, "baru", None),
               (_nov(21), "berjalan", "helikopter tiba di Ujoh Bilang 21 November; sorti "
                                      "pertama ke Long Apari"),
               (_nov(26), "selesai", "seluruh logistik tiba di PPK dan TPS hulu 26 November"))),
    _FollowUp(PROVINCE, 3, PROVINCE, _FORKOPIMDA_RAKOR, "rakor_forkopimda", "keamanan",
              "Pengamanan TPS sangat rawan pada masa tenang dan hari pemungutan suara",
              "Tetapkan pola pengamanan dan tambahan personel di TPS sangat rawan se-Kalimantan "
              "Timur", "polri", _nov(22),
              ((_FORKOPIMDA_RAKOR, "baru", None),
               (_nov(20), "selesai", "rencana pengamanan ditetapkan; personel BKO dikirim ke "
                                     "kab/kota"))),
    _FollowUp(PROVINCE, 4, PROVINCE, _FORKOPIMDA_RAKOR, "rakor_forkopimda", "netralitas",
              "Dugaan pelanggaran netralitas ASN meningkat menjelang pemungutan suara",
              "Surat edaran Gubernur tentang netralitas ASN dan pemantauan oleh BKD di setiap "
              "perangkat daerah", "pemda", _nov(15),
              ((_nov(14), "selesai", "surat edaran terbit 14 November"),)),
    _FollowUp(PROVINCE, 5, "6411", _FORKOPIMDA_RAKOR, "rakor_forkopimda", "lainnya",
              "Laporan Desk Pilkada Kab. Mahakam Ulu terhambat gangguan jaringan di Long Bagun",
              "Pinjamkan telepon satelit dan perangkat internet satelit untuk Desk Pilkada "
              "Kab. Mahakam Ulu", "diskominfo", _nov(20),
              ((_FORKOPIMDA_RAKOR, "baru", None),
               (_nov(21), "terkendala", "perangkat tertahan di Samarinda menunggu angkutan"),
               (_nov(25), "selesai", "perangkat terpasang di Ujoh Bilang 25 November"))),
    _FollowUp(PROVINCE, 6, "6408", _nov(18), "desk_pilkada", "logistik",
              "Distribusi logistik ke PPS di Kab. Kutai Timur di bawah target",
              "Tambah armada angkut dan laporkan distribusi ke PPS setiap hari", "kpu", _nov(25),
              ((_nov(20), "berjalan", "armada tambahan dari KPU Provinsi tiba 20 November"),
               (_nov(25), "selesai", "seluruh PPS menerima logistik 25 November"))),
)


def _tindak_lanjut_rows(sender: str, week: str) -> list[dict]:
    """A sender's report for one week: every follow-up with a course entry that week, i.e.
    each one still open plus those closed this week. An empty list means no report is sent."""
    rows = []
    for f in _FOLLOW_UPS:
        entry = next(((d, s, c) for d, s, c in f.course if week_of(d) == week), None)
        if f.sender != sender or entry is None:
            continue
        tanggal, status, catatan = entry
        rows.append({
            "kode_kabkota": f.kabkota, "id_tindak_lanjut": f.id, "tanggal_keputusan": f.decided,
            "forum": f.forum, "bidang": f.bidang, "isu": f.isu, "tindakan": f.tindakan,
            "instansi": f.instansi, "tenggat": f.tenggat, "status": status,
            "tanggal_status": tanggal, "catatan": catatan,
        })
    return rows


# --------------------------------------------------------------------------------------------
# Writing files


@dataclass(frozen=True)
class _Format:
    ext: str = "csv"
    delimiter: str = ","
    encoding: str = "utf-8"
    newline: str = "\n"
    thousands: bool = False  # write 1.234 for 1234, as Excel in an Indonesian locale does


CSV = _Format()
EXCEL_ID_CSV = _Format(delimiter=";", encoding="cp1252", newline="\r\n", thousands=True)
XLSX = _Format(ext="xlsx")
JSON = _Format(ext="json")


@dataclass(frozen=True)
class _Out:
    """A file about to be written."""

    kab: str
    kind: str
    week: str
    rows: list[dict]
    received: datetime
    fmt: _Format = CSV
    columns: tuple[str, ...] = ()
    suffix: str = ""
    defect: str | None = None
    expected: str = "accepted"

    @property
    def name(self) -> str:
        return f"{self.kab}_{self.kind}_{self.week}{self.suffix}.{self.fmt.ext}"


def _text(value: object, fmt: _Format) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int) and fmt.thousands:
        return _id_number(value)
    return str(value)


def _csv_bytes(out: _Out) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=out.fmt.delimiter, lineterminator=out.fmt.newline)
    writer.writerow(out.columns)
    writer.writerows([_text(r.get(c), out.fmt) for c in out.columns] for r in out.rows)
    return buf.getvalue().encode(out.fmt.encoding)


def _json_bytes(out: _Out) -> bytes:
    def value(v: object) -> object:
        return v if v is None or isinstance(v, int) else _text(v, out.fmt)

    doc = [{c: value(r.get(c)) for c in out.columns} for r in out.rows]
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode()


def _write_xlsx(out: _Out, path: Path) -> None:
    """Codes as text cells (leading zeros), quantities as numbers, dates as real date cells."""
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"created": out.received.replace(tzinfo=None)})  # fixed, for determinism
    sheet = wb.add_worksheet(out.kind)
    iso = wb.add_format({"num_format": "yyyy-mm-dd"})
    for j, name in enumerate(out.columns):
        sheet.write_string(0, j, name)
    for i, row in enumerate(out.rows, start=1):
        for j, name in enumerate(out.columns):
            v = row.get(name)
            if isinstance(v, int):
                sheet.write_number(i, j, v)
            elif isinstance(v, date):
                sheet.write_datetime(i, j, datetime.combine(v, time()), iso)
            elif v is not None:
                sheet.write_string(i, j, str(v))
    wb.close()


def _write(out: _Out, out_dir: Path) -> SampleFile:
    path = out_dir / out.kab / out.name
    path.parent.mkdir(parents=True, exist_ok=True)
    if out.fmt.ext == "xlsx":
        _write_xlsx(out, path)
    else:
        path.write_bytes(_json_bytes(out) if out.fmt.ext == "json" else _csv_bytes(out))
    stamp = out.received.timestamp()
    os.utime(path, (stamp, stamp))
    return SampleFile(path, out.kab, out.kind, out.week, out.defect, out.expected)


def _stamped(out: _Out) -> _Out:
    """Fill per_tanggal with the report's date: within its week, never after it was sent."""
    columns = out.columns or tuple(column_names(out.kind))
    if "per_tanggal" not in columns:
        return replace(out, columns=columns)
    as_of = min(out.received.date(), week_end(out.week))
    return replace(out, columns=columns, rows=[{**r, "per_tanggal": as_of} for r in out.rows])


# --------------------------------------------------------------------------------------------
# Deliberate defects (docs/sample-data.md); each takes the clean file and returns what is sent


def _late(out: _Out, seed: int) -> list[_Out]:
    monday = datetime.combine(week_start(out.week) + timedelta(days=7), time(9, 0), WITA)
    return [replace(out, received=monday, defect="late")]


def _resubmission(out: _Out, seed: int) -> list[_Out]:
    """Thursday's file has one kecamatan whose TPS classes do not add up; Friday's fixes it."""
    start = week_start(out.week)
    wrong = [dict(r) for r in out.rows]
    i = _rng(seed, out.kab, out.kind, out.week, "cacat").randrange(len(wrong))
    wrong[i]["tps_rawan"] += 2
    first = datetime.combine(start + timedelta(days=3), time(10, 12), WITA)
    second = datetime.combine(start + timedelta(days=4), time(15, 40), WITA)
    return [replace(out, rows=wrong, received=first, defect="resubmission",
                    expected="superseded"),
            replace(out, received=second, suffix="_revisi", defect="resubmission")]


def _bad_logistik(out: _Out, seed: int) -> list[_Out]:
    """Three flaggable rows: more at the TPS than at the PPS, a village code that does not
    exist (a new desa typed in by hand), and a negative damaged count."""
    kab = _kab(out.kab)
    too_much, negative = _bad_logistik_targets(seed, kab)
    rows = [dict(r) for r in out.rows]
    for r in rows:
        if (r["kode_desa"], r["barang"]) == too_much:
            r["diterima_tps"] = r["diterima_pps"] + min(5, r["jumlah_kebutuhan"])
        if (r["kode_desa"], r["barang"]) == negative:
            r["rusak"] = -3
    known = {d.code for d in kab.desa}
    kec = kab.kecamatan[0].code
    ghost = next(f"{kec}2{n:03d}" for n in range(999, 0, -1) if f"{kec}2{n:03d}" not in known)
    template = next(r for r in rows if r["kode_kecamatan"] == kec)
    rows.append({**template, "kode_desa": ghost, "catatan": "desa baru hasil pemekaran"})
    return [replace(out, rows=rows, defect="bad_rows", expected="accepted_with_flags")]


def _casualty_rendah(out: _Out, seed: int) -> list[_Out]:
    rows = [dict(r) for r in out.rows]
    row = next(r for r in rows if week_of(r["waktu_kejadian"].date()) == out.week)
    row.update(tingkat="rendah", korban_meninggal=1)
    return [replace(out, rows=rows, defect="bad_rows", expected="accepted_with_flags")]


def _nip_subject(out: _Out, seed: int) -> list[_Out]:
    rows = [dict(r) for r in out.rows]
    row = next(r for r in rows if week_of(r["tanggal_lapor"]) == out.week)
    row["ref_subjek"] = "198503122010011002"
    return [replace(out, rows=rows, defect="bad_rows", expected="accepted_with_flags")]


def _cp1252_narasi(out: _Out, seed: int) -> list[_Out]:
    row = dict(out.rows[0])
    row["narasi"] += (" Patroli gabungan Polres Berau – Kodim 0902/Berau menjangkau ±40 kampung "
                      "pesisir; apel siaga di Tanjung Redeb – Gunung Tabur berjalan tertib.")
    return [replace(out, rows=[row], fmt=EXCEL_ID_CSV, defect="semicolon_csv")]


def _markup_narasi(out: _Out, seed: int) -> list[_Out]:
    row = dict(out.rows[0])
    row["narasi"] = ("Situasi kondusif <script>alert(1)</script> <img src=x onerror=alert(2)> "
                     f"& aman. {row['narasi']}")
    return [replace(out, rows=[row], defect="markup")]


def _as_xlsx(out: _Out, seed: int) -> list[_Out]:
    return [replace(out, fmt=XLSX, defect="xlsx")]


def _as_json(out: _Out, seed: int) -> list[_Out]:
    return [replace(out, fmt=JSON, defect="json")]


def _missing_linmas(out: _Out, seed: int) -> list[_Out]:
    columns = tuple(c for c in out.columns if c != "personel_linmas")
    return [replace(out, columns=columns, defect="missing_column", expected="rejected")]


def _wrong_kabkota(out: _Out, seed: int) -> list[_Out]:
    """Every row carries Kutai Kartanegara's codes (the clerk reused Kukar's template)."""
    kukar = _kab("6402")
    own = [k.code for k in _kab(out.kab).kecamatan]
    rows = []
    for r in out.rows:
        kec = kukar.kecamatan[own.index(r["kode_kecamatan"]) % len(kukar.kecamatan)]
        rows.append({**r, "kode_kabkota": kukar.code, "kode_kecamatan": kec.code,
                     "kode_desa": kec.desa[0].code if r["kode_desa"] else None})
    return [replace(out, rows=rows, defect="wrong_kabkota", expected="rejected")]


def _not_sent(out: _Out, seed: int) -> list[_Out]:
    return []


# The open follow-up Samarinda's W46 report leaves out, and the tenggat Bontang types wrong in W47.
_DROPPED_FOLLOW_UP = "TL-6472-002"
_TENGGAT_TYPO = ("TL-6474-002", date(2024, 11, 16))


def _dropped_follow_up(out: _Out, seed: int) -> list[_Out]:
    """An open follow-up deleted from the report instead of updated: the file is accepted with
    a whole-file `tindak_lanjut_hilang` finding; the next report lists it again, done."""
    rows = [r for r in out.rows if r["id_tindak_lanjut"] != _DROPPED_FOLLOW_UP]
    return [replace(out, rows=rows, defect="dropped_open", expected="accepted_with_flags")]


def _tenggat_typo(out: _Out, seed: int) -> list[_Out]:
    """A new follow-up's tenggat typed 16 instead of 26 November, before its decision date."""
    code, wrong = _TENGGAT_TYPO
    rows = [{**r, "tenggat": wrong} if r["id_tindak_lanjut"] == code else r for r in out.rows]
    return [replace(out, rows=rows, defect="bad_rows", expected="accepted_with_flags")]


_DEFECTS: dict[tuple[str, str, str], Callable[[_Out, int], list[_Out]]] = {
    ("6411", "logistik", "2024-W47"): _late,
    ("6402", "keamanan", "2024-W46"): _resubmission,
    ("6401", "logistik", "2024-W45"): _bad_logistik,
    ("6407", "insiden", "2024-W46"): _casualty_rendah,
    ("6472", "netralitas", "2024-W45"): _nip_subject,
    ("6403", "ringkasan", "2024-W47"): _cp1252_narasi,
    ("6472", "ringkasan", "2024-W47"): _markup_narasi,
    ("6408", "logistik", "2024-W47"): _as_xlsx,
    ("6474", "netralitas", "2024-W47"): _as_json,
    ("6409", "keamanan", "2024-W44"): _missing_linmas,
    ("6401", "insiden", "2024-W43"): _wrong_kabkota,
    ("6411", "keamanan", "2024-W47"): _not_sent,
    ("6472", "tindak_lanjut", "2024-W46"): _dropped_follow_up,
    ("6474", "tindak_lanjut", "2024-W47"): _tenggat_typo,
}
# Defects found by comparing with the sender's report of the week before: without that week
# among the weeks generated the pipeline has nothing to compare with and accepts the file.
_NEEDS_PREVIOUS_WEEK = frozenset({"dropped_open"})
# Berau's desk saves its security table from Excel in an Indonesian locale, every week.
_EXCEL_ID_DESKS = frozenset({("6403", "keamanan")})


def _sent(out: _Out, seed: int, weeks: Sequence[str]) -> list[_Out]:
    """The file(s) a desk actually sends for one kind and week, among `weeks` generated."""
    out = _stamped(out)
    if (out.kab, out.kind) in _EXCEL_ID_DESKS:
        out = replace(out, fmt=EXCEL_ID_CSV, defect="semicolon_csv")
    defect = _DEFECTS.get((out.kab, out.kind, out.week))
    sent = [_stamped(o) for o in defect(out, seed)] if defect else [out]
    return [replace(o, expected="accepted")
            if o.defect in _NEEDS_PREVIOUS_WEEK and _shift(o.week, -1) not in weeks else o
            for o in sent]


# --------------------------------------------------------------------------------------------
# Entry point


@dataclass(frozen=True)
class _Season:
    """What one kab/kota does over the whole season; each week's files are views of it."""

    seed: int
    kab: _Kab
    logistik: list[_DesaPlan]
    keamanan: list[_KecSecurity]
    incidents: list[_Incident]
    cases: list[_Case]

    @classmethod
    def build(cls, seed: int, kab: _Kab, last_week: str) -> _Season:
        return cls(seed, kab, _logistik_plans(seed, kab), _keamanan_plans(seed, kab),
                   _incidents(seed, kab, last_week), _cases(seed, kab, last_week))

    def rows(self, week: str) -> dict[str, list[dict]]:
        """The clean rows of every kind the desk sends for one week (follow-ups only in a week
        it has some to report); the summary is written from the rest."""
        seed, kab = self.seed, self.kab
        logistik = _logistik_rows(seed, kab, self.logistik, week)
        keamanan = _keamanan_rows(seed, kab, self.keamanan, week)
        insiden = _insiden_rows(kab, self.incidents, week)
        netralitas = _netralitas_rows(kab, self.cases, week)
        ringkasan = _ringkasan_rows(kab, week, logistik, keamanan, insiden, netralitas)
        rows = {"ringkasan": ringkasan, "logistik": logistik, "keamanan": keamanan,
                "insiden": insiden, "netralitas": netralitas}
        if tindak_lanjut := _tindak_lanjut_rows(kab.code, week):
            rows["tindak_lanjut"] = tindak_lanjut
        return rows


def generate(out_dir: Path, weeks: list[str], seed: int = 2024,
             province: str = PROVINCE) -> list[SampleFile]:
    """Write every kab/kota's five submissions for each week, and the follow-up reports the
    kab/kota and provincial desks send, under `out_dir`; return them, each with the verdict the
    pipeline should reach. Same seed, same bytes and mtimes."""
    if province != PROVINCE:
        raise ValueError(
            f"contoh bercerita ini hanya untuk Kalimantan Timur (64); provinsi '{province}' "
            f"dibuat oleh samples.national (pilkada sample --province {province})"
        )
    weeks = sorted(set(weeks), key=week_start)  # also rejects malformed labels
    if not weeks:
        return []
    out_dir = Path(out_dir).resolve()
    files = []

    def send(sender: str, kind: str, week: str, rows: list[dict]) -> None:
        clean = _Out(sender, kind, week, rows, _received_at(seed, sender, kind, week))
        files.extend(_write(o, out_dir) for o in _sent(clean, seed, weeks))

    for kab in _province():
        season = _Season.build(seed, kab, weeks[-1])
        for week in weeks:
            for kind, kind_rows in season.rows(week).items():
                send(kab.code, kind, week, kind_rows)
    for week in weeks:  # the provincial desk, under the province's code
        if rows := _tindak_lanjut_rows(PROVINCE, week):
            send(PROVINCE, "tindak_lanjut", week, rows)
    return files
