"""The headline metrics of docs/metrics.md, recomputed independently and compared with the marts.

The sample inbox (samples.kaltim.generate, 2024-W44..W47) is ingested once by the real pipeline.
Then, for each kab/kota and week, every headline figure is recomputed here in plain Python from
the *files* themselves (csv / json / fastexcel, never the warehouse and never tasks.ingest.parse)
and the reference: which file counts (newest accepted version; rejected files and superseded
versions do not), which rows the pipeline must flag and what each flag takes out of the figures
(the rules and their effects re-applied by hand: the row, or only the values a rule is about, or
nothing), logistics shares capped per village over the quantities that count and averaged over the
eight items, the stage furthest behind its ramp, security per TPS,
incident and ASN-case state as of the week, data quality (late, missing, flagged), and finally the
overall status from the thresholds table of docs/metrics.md.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import fastexcel
import pytest

from samples.kaltim import generate
from tasks.contract.regions import desa_requirements
from tasks.contract.submission import ENUMS
from tasks.resources import REFERENCE_DIR
from tasks.warehouse.database import connect
from tests.pipeline import ingest, site

WEEKS = ["2024-W44", "2024-W45", "2024-W46", "2024-W47"]
KABKOTA = ("6401", "6402", "6403", "6407", "6408", "6409", "6411", "6471", "6472", "6474")
KINDS = ("ringkasan", "logistik", "keamanan", "insiden", "netralitas")
BARANG = ("ss_gubernur", "ss_bupati_walikota", "kotak_suara", "bilik_suara", "tinta", "segel",
          "alat_coblos", "formulir_c")
BALLOTS = ("ss_gubernur", "ss_bupati_walikota")
STAGES = ("kabkota", "ppk", "pps", "tps")
# docs/metrics.md, "Expected share by H-n": (start_h, due_h) of each stage's linear ramp.
RAMP = {"kabkota": (40, 10), "ppk": (10, 2), "pps": (4, 1), "tps": (2, 0)}
VOTING_DAY = date(2024, 11, 27)
WITA = ZoneInfo("Asia/Makassar")
ASN = ("pns", "pppk")
CLOSED = ("selesai", "tidak_terbukti")
# docs/metrics.md: files whose rows are independent reports are never refused for flagged rows.
INDEPENDENT_ROWS = ("insiden", "netralitas", "tindak_lanjut")

INT_COLUMNS = {
    "jumlah_kebutuhan", "diterima_kabkota", "diterima_ppk", "diterima_pps", "diterima_tps",
    "rusak", "jumlah_tps", "tps_lengkap", "tps_kurang_rawan", "tps_rawan", "tps_sangat_rawan",
    "personel_polri", "personel_tni", "personel_linmas", "posko", "korban_meninggal",
    "korban_luka",
}
DATE_COLUMNS = {"per_tanggal", "tanggal_lapor", "tanggal_tahap"}
DATETIME_COLUMNS = {"waktu_kejadian"}
# Columns a file must carry to be read at all (what the recomputation below uses).
NEEDED = {
    "ringkasan": ("kode_kabkota", "status_umum", "per_tanggal"),
    "logistik": ("kode_kabkota", "kode_kecamatan", "kode_desa", "barang", "jumlah_kebutuhan",
                 "diterima_kabkota", "diterima_ppk", "diterima_pps", "diterima_tps", "rusak",
                 "jumlah_tps", "tps_lengkap", "moda_angkut", "per_tanggal"),
    "keamanan": ("kode_kabkota", "kode_kecamatan", "jumlah_tps", "tps_kurang_rawan", "tps_rawan",
                 "tps_sangat_rawan", "personel_polri", "personel_tni", "personel_linmas",
                 "posko", "per_tanggal"),
    "insiden": ("kode_kabkota", "id_insiden", "waktu_kejadian", "kode_kecamatan", "kategori",
                "tingkat", "status", "korban_meninggal", "korban_luka", "ringkasan"),
    "netralitas": ("kode_kabkota", "id_kasus", "ref_subjek", "jenis_pegawai", "instansi",
                   "tanggal_lapor", "asal", "jenis_pelanggaran", "tahap", "tanggal_tahap"),
}

APPROX = {"rel": 1e-9, "abs": 1e-12}


# --------------------------------------------------------------------------------------------
# Weeks and reference, computed here rather than borrowed from tasks.weeks


def week_start(week: str) -> date:
    year, n = week.split("-W")
    return date.fromisocalendar(int(year), int(n), 1)


def week_end(week: str) -> date:
    return week_start(week) + timedelta(days=6)


def h_of(week: str) -> int:
    return (VOTING_DAY - week_end(week)).days


def deadline(week: str) -> datetime:
    """Saturday 12:00 WITA of the week (docs/metrics.md, data quality)."""
    return datetime.combine(week_start(week) + timedelta(days=5), time(12, 0), WITA)


def expected_share(stage: str, h: int) -> float:
    start, due = RAMP[stage]
    return max(0.0, min(1.0, (start - h) / (start - due)))


def _reference_csv(name: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / "kaltim" / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass(frozen=True)
class Reference:
    desa: dict[str, dict[str, str]]          # desa_code -> row of desa_kelurahan.csv
    kecamatan: dict[str, dict[str, str]]     # kecamatan_code -> row of kecamatan.csv
    need: dict[str, dict[tuple[str, str], int]]  # kab -> (desa, barang) -> requirement
    n_tps: dict[str, dict[str, int]]         # kab -> desa -> TPS


def build_reference() -> Reference:
    need: dict[str, dict[tuple[str, str], int]] = {}
    n_tps: dict[str, dict[str, int]] = {}
    for r in desa_requirements().iter_rows(named=True):
        need.setdefault(r["kabkota_code"], {})[(r["desa_code"], r["barang"])] = (
            r["jumlah_kebutuhan"])
        n_tps.setdefault(r["kabkota_code"], {})[r["desa_code"]] = r["n_tps"]
    return Reference(
        desa={r["desa_code"]: r for r in _reference_csv("desa_kelurahan.csv")},
        kecamatan={r["kecamatan_code"]: r for r in _reference_csv("kecamatan.csv")},
        need=need,
        n_tps=n_tps,
    )


# --------------------------------------------------------------------------------------------
# Reading the sent files (csv module, json module, fastexcel)


def _cell(name: str, value: Any, thousands: bool) -> Any:
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    if name in INT_COLUMNS:
        if isinstance(value, float):
            assert value.is_integer(), (name, value)
            return int(value)
        if isinstance(value, int):
            return value
        text = value.strip()
        return int(text.replace(".", "") if thousands else text)
    if name in DATE_COLUMNS:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        return date.fromisoformat(value.strip())
    if name in DATETIME_COLUMNS:
        if isinstance(value, datetime):
            return value
        return datetime.strptime(value.strip(), "%Y-%m-%d %H:%M")
    return value if isinstance(value, str) else str(value)


def read_rows(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """Header and typed rows of one sent file, whatever its format."""
    if path.suffix == ".xlsx":
        frame = fastexcel.read_excel(str(path)).load_sheet(0).to_polars()
        header = frame.columns
        raw = frame.to_dicts()
        thousands = False
    elif path.suffix == ".json":
        raw = json.loads(path.read_text(encoding="utf-8"))
        header = list(raw[0]) if raw else []
        thousands = False
    else:
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252")
        first = text.splitlines()[0]
        # Excel in an Indonesian locale: ';', Windows-1252, CRLF, dot thousands separators
        delimiter = ";" if first.count(";") > first.count(",") else ","
        thousands = delimiter == ";"
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = list(reader.fieldnames or [])
        raw = list(reader)
    rows = [{k: _cell(k, v, thousands) for k, v in r.items()} for r in raw]
    return header, rows


@dataclass
class Sent:
    """One file of the inbox, with what the pipeline should decide about it."""

    path: Path
    kab: str
    kind: str
    week: str
    received: datetime
    header: list[str]
    rows: list[dict[str, Any]]
    rejected: bool = False
    # row index -> what its findings exclude: ROW for the row, else column names (empty: a
    # finding whose value still counts, effect `nothing`)
    issues: dict[int, set[str]] = field(default_factory=dict)

    @property
    def late(self) -> bool:
        return self.received > deadline(self.week)

    @property
    def flagged(self) -> set[int]:
        """Rows with a finding (the ledger's rows_flagged)."""
        return set(self.issues)

    @property
    def excluded(self) -> set[int]:
        """Rows whose identity a rule rejected."""
        return {i for i, cols in self.issues.items() if ROW in cols}

    def counted(self) -> Iterator[dict[str, Any]]:
        """Rows that feed metrics: identity not rejected, excluded values blanked (None)."""
        for i, r in enumerate(self.rows):
            cols = self.issues.get(i, set())
            if ROW not in cols:
                yield {k: (None if k in cols else v) for k, v in r.items()}


NAME_RE = re.compile(r"^(\d{4})_([a-z]+)_(\d{4}-W\d{2})(_revisi)?\.(csv|json|xlsx)$")


def read_inbox(inbox: Path) -> list[Sent]:
    out = []
    for path in sorted(inbox.rglob("*")):
        if not path.is_file() or "_tindak_lanjut_" in path.name:
            continue  # follow-ups feed no metric this module recomputes
        m = NAME_RE.match(path.name)
        assert m, path
        assert path.parent.name == m[1]
        header, rows = read_rows(path)
        received = datetime.fromtimestamp(os.stat(path).st_mtime, WITA)
        out.append(Sent(path, m[1], m[2], m[3], received, header, rows))
    return out


# --------------------------------------------------------------------------------------------
# The rules, applied by hand: which files are rejected, which rows flagged


def _negative(row: dict[str, Any], columns: tuple[str, ...]) -> bool:
    return any(row.get(c) is not None and row[c] < 0 for c in columns)


def _missing(row: dict[str, Any], columns: tuple[str, ...]) -> bool:
    return any(row.get(c) is None for c in columns)


def _duplicates(rows: list[dict[str, Any]], key: tuple[str, ...]) -> set[int]:
    seen: dict[tuple, list[int]] = {}
    for i, r in enumerate(rows):
        seen.setdefault(tuple(r.get(k) for k in key), []).append(i)
    return {i for idx in seen.values() if len(idx) > 1 for i in idx}


ROW = "*"  # an issue that takes the whole row out (its identity is wrong)
# Identity columns (docs/metrics.md "Rule effects"): a finding about one removes the row.
KEYS = {"ringkasan": {"kode_kabkota"},
        "logistik": {"kode_kabkota", "kode_kecamatan", "kode_desa", "barang"},
        "keamanan": {"kode_kabkota", "kode_kecamatan"}, "insiden": {"kode_kabkota", "id_insiden"},
        "netralitas": {"kode_kabkota", "id_kasus"}}


class Issues(dict):
    """row index -> excluded columns, built rule by rule."""

    def add(self, i: int, *columns: str) -> None:
        self.setdefault(i, set()).update(columns)

    def rows(self, rows: set[int]) -> None:
        for i in rows:
            self.add(i, ROW)

    def missing(self, kind: str, i: int, row: dict[str, Any]) -> None:
        for c in NEEDED[kind]:
            if row.get(c) is None:
                self.add(i, ROW if c in KEYS[kind] else c)

    def negative(self, i: int, row: dict[str, Any], columns: tuple[str, ...]) -> None:
        for c in columns:
            if row.get(c) is not None and row[c] < 0:
                self.add(i, c)


def flag_logistik(f: Sent, ref: Reference, previous: Sent | None) -> dict[int, set[str]]:
    need = ref.need[f.kab]
    before = {}
    if previous is not None:
        before = {(r["kode_desa"], r["barang"]): r for r in previous.counted()}
    out = Issues()
    out.rows(_duplicates(f.rows, ("kode_desa", "barang")))
    qty = ("diterima_kabkota", "diterima_ppk", "diterima_pps", "diterima_tps")
    for i, r in enumerate(f.rows):
        desa = ref.desa.get(r["kode_desa"])
        kec = ref.kecamatan.get(r["kode_kecamatan"])
        prev = before.get((r["kode_desa"], r["barang"]))
        out.missing("logistik", i, r)
        if (r["barang"] not in ENUMS["barang"]
                or kec is None or kec["kabkota_code"] != f.kab
                or desa is None or desa["kecamatan_code"] != r["kode_kecamatan"]
                or desa["kabkota_code"] != f.kab):
            out.add(i, ROW)
        if r["moda_angkut"] not in ENUMS["moda_angkut"]:
            out.add(i, "moda_angkut")
        out.negative(i, r, ("jumlah_kebutuhan", *qty, "rusak", "jumlah_tps", "tps_lengkap"))
        for a, b in pairwise(qty):  # the chain: both quantities compared are in doubt
            if r[a] < r[b]:
                out.add(i, a, b)
        if r["rusak"] > r["diterima_kabkota"]:
            out.add(i, "rusak")
        if r["tps_lengkap"] > r["jumlah_tps"]:
            out.add(i, "tps_lengkap")
        if (r["barang"] in BALLOTS
                and r["jumlah_kebutuhan"] < need.get((r["kode_desa"], r["barang"]), 0)):
            out.add(i, "jumlah_kebutuhan")
        if not -7 <= (r["per_tanggal"] - week_start(f.week)).days <= 13:
            out.add(i, "per_tanggal")
        if (prev is not None and not r.get("catatan")
                and any(prev[c] is not None and r[c] < prev[c] for c in qty)):
            out.add(i)  # effect nothing: told, still counted
    return out


def flag_keamanan(f: Sent, ref: Reference) -> dict[int, set[str]]:
    out = Issues()
    out.rows(_duplicates(f.rows, ("kode_kecamatan",)))
    counts = ("jumlah_tps", "tps_kurang_rawan", "tps_rawan", "tps_sangat_rawan",
              "personel_polri", "personel_tni", "personel_linmas", "posko")
    for i, r in enumerate(f.rows):
        kec = ref.kecamatan.get(r["kode_kecamatan"])
        out.missing("keamanan", i, r)
        out.negative(i, r, counts)
        if kec is None or kec["kabkota_code"] != f.kab:
            out.add(i, ROW)
        if r["tps_kurang_rawan"] + r["tps_rawan"] + r["tps_sangat_rawan"] != r["jumlah_tps"]:
            out.add(i, "tps_kurang_rawan", "tps_rawan", "tps_sangat_rawan")
        if not -7 <= (r["per_tanggal"] - week_start(f.week)).days <= 13:
            out.add(i, "per_tanggal")
    return out


def flag_insiden(f: Sent, ref: Reference) -> dict[int, set[str]]:
    # Not re-applied: "status does not move backwards" (cross-week; the sample's paths only go
    # forward, so it cannot fire on it).
    out = Issues()
    out.rows(_duplicates(f.rows, ("id_insiden",)))
    for i, r in enumerate(f.rows):
        kec = ref.kecamatan.get(r["kode_kecamatan"])
        desa = ref.desa.get(r.get("kode_desa")) if r.get("kode_desa") else None
        days = (r["waktu_kejadian"].date() - week_start(f.week)).days
        out.missing("insiden", i, r)
        for column, enum in (("kategori", "kategori_insiden"), ("tingkat", "tingkat"),
                             ("status", "status_insiden")):
            if r[column] not in ENUMS[enum]:
                out.add(i, column)
        out.negative(i, r, ("korban_meninggal", "korban_luka"))
        if kec is None or kec["kabkota_code"] != f.kab:
            out.add(i, "kode_kecamatan")  # the place is an attribute of the incident
        if r.get("kode_desa") and (desa is None or desa["kecamatan_code"] != r["kode_kecamatan"]):
            out.add(i, "kode_desa")
        if r["korban_meninggal"] + r["korban_luka"] > 0 and r["tingkat"] != "tinggi":
            out.add(i, "tingkat")  # the casualties count; the severity is in doubt
        if not -180 <= days <= 7:
            out.add(i, "waktu_kejadian")
    return out


def flag_netralitas(f: Sent, ref: Reference) -> dict[int, set[str]]:
    # Not re-applied: "stage does not move backwards" (cross-week; never happens in the sample).
    out = Issues()
    out.rows(_duplicates(f.rows, ("id_kasus",)))
    start = week_start(f.week)
    for i, r in enumerate(f.rows):
        subject = r["ref_subjek"] or ""
        out.missing("netralitas", i, r)
        for column, enum in (("asal", "asal_kasus"), ("jenis_pelanggaran", "jenis_pelanggaran"),
                             ("tahap", "tahap_kasus")):
            if r[column] not in ENUMS[enum]:
                out.add(i, column)
        if r.get("sanksi") is not None and r["sanksi"] not in ENUMS["sanksi"]:
            out.add(i, "sanksi")
        if (re.search(r"\d{18}", subject)  # a NIP: personal data
                or not re.match(r"^(?=.*\d)[A-Za-z0-9._/-]{3,40}$", subject)):  # a name
            out.add(i, "ref_subjek")
        if (r.get("sanksi") is not None) != (r["tahap"] == "sanksi_dijatuhkan"):
            out.add(i, "sanksi")
        if r["tanggal_tahap"] < r["tanggal_lapor"]:
            out.add(i, "tanggal_tahap", "tanggal_lapor")
        if not -365 <= (r["tanggal_lapor"] - start).days <= 7:
            out.add(i, "tanggal_lapor")
        if not -365 <= (r["tanggal_tahap"] - start).days <= 13:
            out.add(i, "tanggal_tahap")
    return out


def flag_ringkasan(f: Sent, ref: Reference) -> dict[int, set[str]]:
    out = Issues()
    for i, r in enumerate(f.rows):
        out.missing("ringkasan", i, r)
        if r["status_umum"] not in ENUMS["status_umum"]:
            out.add(i, "status_umum")
    return out


@dataclass
class Inbox:
    """Every sent file, judged by hand: the file that counts per kab/kota, kind and week."""

    sent: list[Sent]
    ref: Reference

    def __post_init__(self) -> None:
        self.current: dict[tuple[str, str, str], Sent] = {}
        for kind in KINDS:  # logistik needs last week's current file, so weeks in order
            for week in WEEKS:
                for kab in KABKOTA:
                    self._judge(kab, kind, week)

    def _judge(self, kab: str, kind: str, week: str) -> None:
        files = sorted((f for f in self.sent if (f.kab, f.kind, f.week) == (kab, kind, week)),
                       key=lambda f: f.received)
        for f in files:
            if (any(c not in f.header for c in NEEDED[kind])
                    or any(r.get("kode_kabkota") != kab for r in f.rows)
                    or (kind in ("ringkasan", "logistik", "keamanan") and not f.rows)
                    or (kind == "ringkasan" and len(f.rows) != 1)):
                f.rejected = True
                continue
            if kind == "logistik":
                prev_week = WEEKS[WEEKS.index(week) - 1] if WEEKS.index(week) else None
                f.issues = flag_logistik(f, self.ref, self.current.get((kab, kind, prev_week)))
            else:
                f.issues = globals()[f"flag_{kind}"](f, self.ref)
            # only rows whose identity is wrong count toward refusing the file
            if (f.rows and len(f.excluded) / len(f.rows) > 0.5
                    and kind not in INDEPENDENT_ROWS):
                f.rejected = True
                continue
            self.current[(kab, kind, week)] = f  # the newest accepted version counts

    def file(self, kab: str, kind: str, week: str) -> Sent | None:
        return self.current.get((kab, kind, week))

    @cached_property
    def rejected(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for f in self.sent:
            if f.rejected:
                out[(f.kab, f.week)] = out.get((f.kab, f.week), 0) + 1
        return out


# --------------------------------------------------------------------------------------------
# The metrics, per docs/metrics.md


def logistik_metrics(inbox: Inbox, kab: str, week: str) -> dict[str, Any] | None:
    f = inbox.file(kab, "logistik", week)
    if f is None:
        return None
    need = inbox.ref.need[kab]
    got = {(r["kode_desa"], r["barang"]): r for r in f.counted()}
    item: dict[str, dict[str, Any]] = {}
    for barang in BARANG:
        keys = [k for k in need if k[1] == barang]
        total = sum(need[k] for k in keys)
        row = {"kebutuhan": total, "rusak": 0}
        for stage in STAGES:
            # only quantities that count: absent or excluded ones are unknown, not zero
            known = [k for k in keys if k in got and got[k][f"diterima_{stage}"] is not None]
            received = sum(min(got[k][f"diterima_{stage}"], need[k]) for k in known)
            row[f"di_{stage}"] = received
            row[f"pct_{stage}"] = received / sum(need[k] for k in known) if known else None
        row["rusak"] = sum(got[k]["rusak"] or 0 for k in keys if k in got)
        item[barang] = row
    out: dict[str, Any] = {"item": item}
    for stage in STAGES:
        shares = [item[b][f"pct_{stage}"] for b in BARANG if item[b][f"pct_{stage}"] is not None]
        out[f"pct_{stage}"] = sum(shares) / len(shares) if shares else None
    pps = {b: item[b]["pct_pps"] for b in BARANG if item[b]["pct_pps"] is not None}
    out["pct_pps_item_terendah"] = min(pps.values())
    weakest = [b for b, v in pps.items() if v == out["pct_pps_item_terendah"]]
    out["barang_terendah_pps"] = weakest[0] if len(weakest) == 1 else None  # a tie: any
    out["rusak"] = sum(item[b]["rusak"] for b in BARANG)
    out["rusak_surat_suara"] = sum(item[b]["rusak"] for b in BALLOTS)
    tps_of = inbox.ref.n_tps[kab]
    lengkap = lengkap_tps = kurang = terpencil = 0
    for desa, n in tps_of.items():
        rows = [got[(desa, b)] for b in BARANG if (desa, b) in got]
        full = [r["tps_lengkap"] for r in rows if r["tps_lengkap"] is not None]
        if full:  # the full-kit share is over the villages whose tps_lengkap counts
            lengkap += min(max(full), n)
            lengkap_tps += n
        short = any((desa, b) in got and got[(desa, b)]["diterima_pps"] is not None
                    and got[(desa, b)]["diterima_pps"] < need[(desa, b)] for b in BARANG)
        kurang += short
        terpencil += short and bool(rows) and rows[0]["moda_angkut"] in ("sungai", "udara")
    out.update(jumlah_tps=sum(tps_of.values()), tps_lengkap=lengkap,
               pct_tps_lengkap=lengkap / lengkap_tps, desa_total=len(tps_of),
               desa_kurang=kurang, desa_kurang_terpencil=terpencil)
    h = h_of(week)
    gaps = {s: expected_share(s, h) - out[f"pct_{s}"] for s in STAGES
            if out[f"pct_{s}"] is not None}
    worst = max(gaps.values())
    behind = [s for s, g in gaps.items() if g == worst]
    out["tahap_kritis"] = behind[0] if len(behind) == 1 else None  # a tie: any of them
    out["selisih_target"] = max(worst, 0.0)
    out["target_tahap_kritis"] = expected_share(behind[0], h)
    out["capaian_tahap_kritis"] = out[f"pct_{behind[0]}"]
    # Projected completion from the gain since last week (NULL when the share did not rise).
    i = WEEKS.index(week)
    last = logistik_metrics(inbox, kab, WEEKS[i - 1]) if i else None
    for stage in ("tps", "pps"):
        share = out[f"pct_{stage}"]
        gain = None if last is None else share - last[f"pct_{stage}"]
        out[f"laju_{stage}_per_minggu"] = gain
        out[f"proyeksi_lengkap_{stage}"] = (
            week_end(week) if share >= 1
            else week_end(week) + timedelta(days=math.ceil((1 - share) / gain * 7))
            if gain is not None and gain > 0 else None)
    return out


def keamanan_metrics(inbox: Inbox, kab: str, week: str) -> dict[str, Any] | None:
    f = inbox.file(kab, "keamanan", week)
    if f is None:
        return None
    rows = list(f.counted())
    s = {c: sum(r[c] for r in rows if r[c] is not None) for c in (
        "jumlah_tps", "tps_kurang_rawan", "tps_rawan", "tps_sangat_rawan", "personel_polri",
        "personel_tni", "personel_linmas", "posko")}

    def per_tps(*columns: str) -> float | None:
        """Over the kecamatan where the numerator's values and jumlah_tps all count."""
        known = [r for r in rows if all(r[c] is not None for c in (*columns, "jumlah_tps"))]
        tps = sum(r["jumlah_tps"] for r in known)
        return sum(r[c] for r in known for c in columns) / tps if tps else None

    return {**s, "polri_per_tps": per_tps("personel_polri"), "tni_per_tps": per_tps("personel_tni"),
            "linmas_per_tps": per_tps("personel_linmas"),
            "pct_tps_rawan": per_tps("tps_rawan", "tps_sangat_rawan")}


def _state(inbox: Inbox, kind: str, key: str, kab: str, week: str
           ) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Latest row per id reported up to `week`, and the week each id was first reported."""
    latest: dict[str, dict[str, Any]] = {}
    first: dict[str, str] = {}
    for w in WEEKS[: WEEKS.index(week) + 1]:
        f = inbox.file(kab, kind, w)
        for r in f.counted() if f else ():
            latest[r[key]] = r
            first.setdefault(r[key], w)
    return latest, first


def insiden_metrics(inbox: Inbox, kab: str, week: str) -> dict[str, int]:
    latest, first = _state(inbox, "insiden", "id_insiden", kab, week)
    new = [r for i, r in latest.items() if first[i] == week]
    open_ = [r for r in latest.values() if r["status"] not in CLOSED]
    return {
        "insiden_baru": len(new),
        "insiden_terbuka": len(open_),
        "insiden_terbuka_tinggi": sum(r["tingkat"] == "tinggi" for r in open_),
        "korban_meninggal_baru": sum(r["korban_meninggal"] or 0 for r in new),
        "korban_luka_baru": sum(r["korban_luka"] or 0 for r in new),
        "insiden_kumulatif": len(latest),
    }


RECOMMENDED = ("rekomendasi_ke_bkn", "rekomendasi_bkn", "sanksi_dijatuhkan")


def netralitas_metrics(inbox: Inbox, kab: str, week: str) -> dict[str, Any]:
    latest, first = _state(inbox, "netralitas", "id_kasus", kab, week)
    asn = {i: r for i, r in latest.items() if r["jenis_pegawai"] in ASN}
    # first date at a recommendation stage, over every row reported up to the week
    recommended: dict[str, date] = {}
    for w in WEEKS[: WEEKS.index(week) + 1]:
        f = inbox.file(kab, "netralitas", w)
        for r in f.counted() if f else ():
            if r["tahap"] in RECOMMENDED and r["tanggal_tahap"] <= week_end(week):
                d = recommended.get(r["id_kasus"])
                recommended[r["id_kasus"]] = min(d, r["tanggal_tahap"]) if d else r["tanggal_tahap"]
    days = [(recommended[i] - r["tanggal_lapor"]).days for i, r in asn.items() if i in recommended]
    return {
        "median_hari_ke_rekomendasi": statistics.median(days) if days else None,
        "kasus_baru": sum(first[i] == week for i in asn),
        "kasus_kumulatif": len(asn),
        "kasus_proses_bawaslu": sum(r["tahap"] in ("registrasi", "kajian_bawaslu")
                                    for r in asn.values()),
        "kasus_direkomendasikan": sum(r["tahap"] in RECOMMENDED for r in asn.values()),
        "kasus_sanksi": sum(r["tahap"] == "sanksi_dijatuhkan" for r in asn.values()),
        "kasus_ditutup": sum(r["tahap"] in (
            "bukan_pelanggaran", "dihentikan", "tidak_ditindaklanjuti") for r in asn.values()),
        "kasus_non_asn": len(latest) - len(asn),
    }


def kualitas_metrics(inbox: Inbox, kab: str, week: str) -> dict[str, Any]:
    current = {k: inbox.file(kab, k, week) for k in KINDS}
    got = [f for f in current.values() if f is not None]
    return {
        "jenis_diterima": len(got),
        "jenis_terlambat": sum(f.late for f in got),
        "jenis_hilang": [k for k, f in current.items() if f is None],
        "jenis_terlambat_daftar": [k for k, f in current.items() if f is not None and f.late],
        "baris_ditandai": sum(len(f.flagged) for f in got),
        "baris_total": sum(len(f.rows) for f in got),
        "file_ditolak": inbox.rejected.get((kab, week), 0),
    }


def status_of(inbox: Inbox, kab: str, week: str) -> tuple[int, dict[str, int]]:
    """Overall level and the level of every judged metric, from the table of docs/metrics.md."""
    h = h_of(week)
    near = h <= 7
    log = logistik_metrics(inbox, kab, week)
    sec = keamanan_metrics(inbox, kab, week)
    ins = insiden_metrics(inbox, kab, week)
    asn = netralitas_metrics(inbox, kab, week)
    q = kualitas_metrics(inbox, kab, week)
    ring = inbox.file(kab, "ringkasan", week)
    status_umum = next(ring.counted(), {}).get("status_umum") if ring else None

    def above(value: float, waspada: float | None, kritis: float | None) -> int:
        if kritis is not None and value >= kritis:
            return 2
        return 1 if waspada is not None and value >= waspada else 0

    # a claimed death that does not count (its row or its value excluded) is "perlu
    # verifikasi"; one whose value counts is among the deaths above, never both
    incidents = inbox.file(kab, "insiden", week)
    claimed = sum(incidents.rows[i]["korban_meninggal"] or 0
                  for i, cols in incidents.issues.items()
                  if ROW in cols or "korban_meninggal" in cols) if incidents else 0
    levels = {
        "insiden_terbuka_tinggi": above(ins["insiden_terbuka_tinggi"], 1, 3),
        "korban_meninggal_baru": above(ins["korban_meninggal_baru"], None, 1),
        "korban_meninggal_verifikasi": above(claimed, None, 1),
        "kasus_asn_baru": above(asn["kasus_baru"], 3, None),
        "laporan_hilang": above(len(q["jenis_hilang"]), 1, None),
        "status_umum": {"ada_kendala": 1, "kritis": 2}.get(status_umum, 0),
    }
    if h < 0:  # after voting day readiness is not judged any more
        return max(levels.values()), levels
    levels["logistik_selisih"] = 0 if log is None else (
        above(log["selisih_target"], 0.05, 0.15) if near
        else above(log["selisih_target"], 0.10, 0.25))
    # a stage whose due date is before the Monday of the bulletin is judged on what it lacks
    past_due = [1 - log[f"pct_{s}"] for s in STAGES
                if log is not None and h <= RAMP[s][1] and log[f"pct_{s}"] is not None
                and log[f"pct_{s}"] < 1]
    # a figure whose report came but none of whose values counts is said, not skipped
    uncounted = [s for s in STAGES if log is not None and log[f"pct_{s}"] is None]
    linmas_uncounted = near and sec is not None and sec["linmas_per_tps"] is None
    levels["data_tak_terhitung"] = above(
        (len(uncounted) if len(uncounted) < len(STAGES) else 0) + linmas_uncounted, 1, None)
    levels["tahap_lewat_tenggat"] = above(max(past_due), 0.005, 0.05) if past_due else 0
    if near:
        linmas = None if sec is None else sec["linmas_per_tps"]
        levels["linmas_per_tps"] = (0 if linmas is None else
                                    2 if linmas < 1.5 else 1 if linmas < 2.0 else 0)
        levels["logistik_hilang"] = 2 if "logistik" in q["jenis_hilang"] or (
            len(uncounted) == len(STAGES)) else 0
    return max(levels.values()), levels


# --------------------------------------------------------------------------------------------
# Fixtures: the sample, ingested once for the module


@dataclass
class Pipeline:
    con: Any
    inbox: Inbox

    def one(self, query: str, *params: Any) -> dict[str, Any] | None:
        cur = self.con.execute(query, list(params))
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        assert len(rows) <= 1, rows
        return dict(zip(names, rows[0], strict=True)) if rows else None

    def all(self, query: str, *params: Any) -> list[dict[str, Any]]:
        cur = self.con.execute(query, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory, prefect_harness) -> Iterator[Pipeline]:
    """The sample for 2024-W44..W47, ingested once by the flow (module-scoped: four weeks take
    seconds), in the environment `settings_env` gives a test (`tests.pipeline.site`)."""
    root = tmp_path_factory.mktemp("metrics")
    with pytest.MonkeyPatch.context() as mp:
        settings = site(root, mp)
        generate(Path(settings.inbox), WEEKS)
        inbox = Inbox(read_inbox(Path(settings.inbox)), build_reference())
        ingest(settings)
        with connect(settings.warehouse) as con:
            yield Pipeline(con, inbox)


# The pairs of the brief, each chosen for what it exercises.
PAIRS = [
    ("6402", "2024-W47"),  # Kutai Kartanegara at H-3: a clean week, Siap
    ("6401", "2024-W45"),  # Paser: 3 flagged logistics rows (chain, unknown desa, rusak < 0)
    ("6408", "2024-W47"),  # Kutai Timur: logistics sent as XLSX; Waspada on PPS
    ("6411", "2024-W47"),  # Mahakam Ulu: late logistics, no security file, reports "kritis"
    ("6407", "2024-W46"),  # Kutai Barat: a flagged incident row (death with tingkat rendah)
    ("6407", "2024-W47"),  # Kutai Barat: Linmas 1.6 per TPS at H-3
    ("6472", "2024-W45"),  # Samarinda: a flagged NIP in the ASN file
    ("6402", "2024-W46"),  # Kutai Kartanegara: security resubmitted, the first version superseded
    ("6403", "2024-W47"),  # Berau: security as a semicolon / Windows-1252 CSV
    ("6474", "2024-W47"),  # Bontang: the ASN file as JSON
    ("6409", "2024-W44"),  # Penajam Paser Utara: security rejected (no personel_linmas)
]
ALL_PAIRS = [(k, w) for w in WEEKS for k in KABKOTA]


def _ids(pairs: list[tuple[str, str]]) -> list[str]:
    return [f"{k}-{w}" for k, w in pairs]


# --------------------------------------------------------------------------------------------
# The hand-judged inbox agrees with the documented defects (guards the recomputation itself)


def test_hand_judgement_matches_the_documented_defects(pipeline: Pipeline) -> None:
    inbox = pipeline.inbox
    paser = inbox.file("6401", "logistik", "2024-W45")
    assert paser is not None and len(paser.flagged) == 3
    bad = [paser.rows[i] for i in sorted(paser.flagged)]
    assert any(r["diterima_tps"] > r["diterima_pps"] for r in bad)
    assert any(r["kode_desa"] not in inbox.ref.desa for r in bad)
    assert any(r["rusak"] < 0 for r in bad)
    assert inbox.rejected == {("6409", "2024-W44"): 1}
    assert inbox.file("6411", "keamanan", "2024-W47") is None
    assert inbox.file("6402", "keamanan", "2024-W46").path.name.endswith("_revisi.csv")
    late = [(f.kab, f.kind, f.week) for f in inbox.current.values() if f.late]
    assert late == [("6411", "logistik", "2024-W47")]
    # every file's verdict as the pipeline recorded it agrees with the hand judgement
    recorded = {(r["source_path"], r["sha256"]): r for r in pipeline.all(
        "SELECT source_path, sha256, status, rows_flagged, is_late FROM audit.submission_status "
        "WHERE kind <> 'tindak_lanjut'")}
    assert len(recorded) == len(inbox.sent)
    for f in inbox.sent:
        rel = f"{f.kab}/{f.path.name}"
        row = next(r for (p, _), r in recorded.items() if p.endswith(rel))
        counted = inbox.file(f.kab, f.kind, f.week) is f
        expected = ("rejected" if f.rejected else
                    "superseded" if not counted else
                    "accepted_with_flags" if f.flagged else "accepted")
        assert row["status"] == expected, rel
        if not f.rejected:
            assert row["rows_flagged"] == len(f.flagged), rel
            assert row["is_late"] == f.late, rel


# --------------------------------------------------------------------------------------------
# Headline metrics per kab/kota and week


@pytest.mark.parametrize(("kab", "week"), PAIRS, ids=_ids(PAIRS))
def test_logistics_match_the_mart(pipeline: Pipeline, kab: str, week: str) -> None:
    want = logistik_metrics(pipeline.inbox, kab, week)
    got = pipeline.one("SELECT * FROM mart.logistik_weekly WHERE kabkota_code = ? AND week = ?",
                       kab, week)
    assert want is not None and got is not None
    for stage in STAGES:
        assert got[f"pct_{stage}"] == pytest.approx(want[f"pct_{stage}"], **APPROX), stage
    for col in ("pct_pps_item_terendah", "pct_tps_lengkap", "selisih_target",
                "target_tahap_kritis", "capaian_tahap_kritis"):
        assert got[col] == pytest.approx(want[col], **APPROX), col
    for col in ("jumlah_tps", "tps_lengkap", "desa_total", "desa_kurang",
                "desa_kurang_terpencil", "rusak", "rusak_surat_suara"):
        assert got[col] == want[col], col
    for stage in ("tps", "pps"):
        assert got[f"proyeksi_lengkap_{stage}"] == want[f"proyeksi_lengkap_{stage}"], stage
    if want["laju_tps_per_minggu"] is None:
        assert got["laju_tps_per_minggu"] is None
    else:
        assert got["laju_tps_per_minggu"] == pytest.approx(want["laju_tps_per_minggu"], **APPROX)
    for col in ("tahap_kritis", "barang_terendah_pps"):
        if want[col] is not None:  # None: a tie, any of the tied values is right
            assert got[col] == want[col], col
    assert got["h"] == h_of(week)

    items = {r["barang"]: r for r in pipeline.all(
        "SELECT * FROM mart.logistik_item_weekly WHERE kabkota_code = ? AND week = ?",
        kab, week)}
    assert set(items) == set(BARANG)
    for barang, w in want["item"].items():
        g = items[barang]
        for col in ("kebutuhan", "di_kabkota", "di_ppk", "di_pps", "di_tps", "rusak"):
            assert g[col] == w[col], (barang, col)
        for stage in STAGES:
            assert g[f"pct_{stage}"] == pytest.approx(w[f"pct_{stage}"], **APPROX), (
                barang, stage)

    head = pipeline.one("SELECT * FROM mart.kabkota_weekly WHERE kabkota_code = ? AND week = ?",
                        kab, week)
    for col in ("pct_kabkota", "pct_ppk", "pct_pps", "pct_tps", "pct_tps_lengkap"):
        assert head[col] == pytest.approx(want[col], **APPROX), col
    for col in ("tps_lengkap", "desa_kurang", "rusak", "proyeksi_lengkap_tps"):
        assert head[col] == want[col], col


@pytest.mark.parametrize(("kab", "week"), PAIRS, ids=_ids(PAIRS))
def test_security_matches_the_mart(pipeline: Pipeline, kab: str, week: str) -> None:
    want = keamanan_metrics(pipeline.inbox, kab, week)
    got = pipeline.one("SELECT * FROM mart.keamanan_weekly WHERE kabkota_code = ? AND week = ?",
                       kab, week)
    head = pipeline.one("SELECT * FROM mart.kabkota_weekly WHERE kabkota_code = ? AND week = ?",
                        kab, week)
    if want is None:  # no security file counts (6411 W47 not sent, 6409 W44 rejected)
        assert got is None
        assert head["linmas_per_tps"] is None
        # the TPS count is then the logistics report's, never blank (docs/metrics.md)
        log = logistik_metrics(pipeline.inbox, kab, week)
        assert (head["jumlah_tps"], head["jumlah_tps_sumber"]) == (
            (log["jumlah_tps"], "logistik") if log else (None, None))
        return
    for col in ("jumlah_tps", "tps_kurang_rawan", "tps_rawan", "tps_sangat_rawan",
                "personel_polri", "personel_tni", "personel_linmas", "posko"):
        assert got[col] == want[col], col
    for col in ("polri_per_tps", "tni_per_tps", "linmas_per_tps", "pct_tps_rawan"):
        assert got[col] == pytest.approx(want[col], **APPROX), col
    for col in ("jumlah_tps", "tps_rawan", "tps_sangat_rawan"):
        assert head[col] == want[col], col
    for col in ("linmas_per_tps", "polri_per_tps", "tni_per_tps"):
        assert head[col] == pytest.approx(want[col], **APPROX), col


@pytest.mark.parametrize(("kab", "week"), PAIRS, ids=_ids(PAIRS))
def test_incidents_match_the_mart(pipeline: Pipeline, kab: str, week: str) -> None:
    want = insiden_metrics(pipeline.inbox, kab, week)
    got = pipeline.one("SELECT * FROM mart.insiden_weekly WHERE kabkota_code = ? AND week = ?",
                       kab, week)
    if got is None:  # no incident known yet: the mart has no row, the headline shows zeros
        assert want["insiden_kumulatif"] == 0
        got = dict.fromkeys(want, 0)
    assert {k: got[k] for k in want} == want
    head = pipeline.one("SELECT * FROM mart.kabkota_weekly WHERE kabkota_code = ? AND week = ?",
                        kab, week)
    assert (head["insiden_baru"], head["insiden_terbuka"]) == (
        want["insiden_baru"], want["insiden_terbuka"])


@pytest.mark.parametrize(("kab", "week"), PAIRS, ids=_ids(PAIRS))
def test_asn_cases_match_the_mart(pipeline: Pipeline, kab: str, week: str) -> None:
    want = netralitas_metrics(pipeline.inbox, kab, week)
    got = pipeline.one(
        "SELECT * FROM mart.netralitas_weekly WHERE kabkota_code = ? AND week = ?", kab, week)
    if got is None:
        assert want["kasus_kumulatif"] == 0 and want["kasus_non_asn"] == 0
        got = {**dict.fromkeys(want, 0), "median_hari_ke_rekomendasi": None}
    assert {k: got[k] for k in want} == want
    head = pipeline.one("SELECT * FROM mart.kabkota_weekly WHERE kabkota_code = ? AND week = ?",
                        kab, week)
    assert (head["kasus_asn_baru"], head["kasus_asn_kumulatif"], head["kasus_asn_sanksi"]) == (
        want["kasus_baru"], want["kasus_kumulatif"], want["kasus_sanksi"])


@pytest.mark.parametrize(("kab", "week"), PAIRS, ids=_ids(PAIRS))
def test_data_quality_matches_the_mart(pipeline: Pipeline, kab: str, week: str) -> None:
    want = kualitas_metrics(pipeline.inbox, kab, week)
    got = pipeline.one(
        "SELECT * FROM mart.kualitas_data_weekly WHERE kabkota_code = ? AND week = ?", kab, week)
    assert {k: got[k] for k in want} == want
    head = pipeline.one("SELECT * FROM mart.kabkota_weekly WHERE kabkota_code = ? AND week = ?",
                        kab, week)
    for col in ("jenis_diterima", "jenis_terlambat", "jenis_hilang", "file_ditolak",
                "baris_ditandai"):
        assert head[col] == want[col], col


@pytest.mark.parametrize(("kab", "week"), PAIRS, ids=_ids(PAIRS))
def test_overall_status_matches_the_mart(pipeline: Pipeline, kab: str, week: str) -> None:
    level, levels = status_of(pipeline.inbox, kab, week)
    head = pipeline.one("SELECT * FROM mart.kabkota_weekly WHERE kabkota_code = ? AND week = ?",
                        kab, week)
    assert (head["status"], head["status_level"]) == (["Siap", "Waspada", "Kritis"][level], level)
    findings = {r["metric"]: r["level"] for r in pipeline.all(
        "SELECT metric, level FROM mart.status_finding WHERE kabkota_code = ? AND week = ?",
        kab, week)}
    assert findings == levels
    assert (head["alasan"] is None) == (level == 0)


# --------------------------------------------------------------------------------------------
# The same recomputation over every kab/kota and week of the sample


def test_every_kabkota_and_week_matches(pipeline: Pipeline) -> None:
    inbox = pipeline.inbox
    heads = {(r["kabkota_code"], r["week"]): r for r in pipeline.all(
        "SELECT * FROM mart.kabkota_weekly")}
    assert set(heads) == set(ALL_PAIRS)
    mismatches = []
    for kab, week in ALL_PAIRS:
        head = heads[(kab, week)]
        want: dict[str, Any] = {}
        log = logistik_metrics(inbox, kab, week)
        sec = keamanan_metrics(inbox, kab, week)
        ins = insiden_metrics(inbox, kab, week)
        asn = netralitas_metrics(inbox, kab, week)
        q = kualitas_metrics(inbox, kab, week)
        for col in ("pct_kabkota", "pct_ppk", "pct_pps", "pct_tps", "pct_tps_lengkap",
                    "tps_lengkap", "desa_kurang", "rusak", "proyeksi_lengkap_tps"):
            want[col] = None if log is None else log[col]
        for col in ("jumlah_tps", "tps_rawan", "tps_sangat_rawan", "linmas_per_tps",
                    "polri_per_tps", "tni_per_tps"):
            want[col] = None if sec is None else sec[col]
        if sec is None and log is not None:
            want["jumlah_tps"] = log["jumlah_tps"]
        want.update(insiden_baru=ins["insiden_baru"], insiden_terbuka=ins["insiden_terbuka"],
                    kasus_asn_baru=asn["kasus_baru"], kasus_asn_kumulatif=asn["kasus_kumulatif"],
                    kasus_asn_sanksi=asn["kasus_sanksi"])
        for col in ("jenis_diterima", "jenis_terlambat", "jenis_hilang", "file_ditolak",
                    "baris_ditandai"):
            want[col] = q[col]
        level, _ = status_of(inbox, kab, week)
        want["status_level"] = level
        want["h"] = h_of(week)
        for col, value in want.items():
            ok = (head[col] == pytest.approx(value, **APPROX)
                  if isinstance(value, float) and not math.isnan(value) else head[col] == value)
            if not ok:
                mismatches.append((kab, week, col, value, head[col]))
    assert mismatches == []


# --------------------------------------------------------------------------------------------
# Projected completion when a week's logistics report is missing


def _logistik_file(con: Any, kab: str, week: str, file_id: int, share: tuple[int, int]) -> None:
    """A current logistik submission where every village holds `share` (num, den) of each item's
    requirement, rounded down, at every stage."""
    received = datetime.combine(week_start(week) + timedelta(days=3), time(10), WITA)
    name = f"{kab}_logistik_{week}.csv"
    con.execute("INSERT INTO raw.file (file_id, source_path, file_name, sha256, size_bytes, "
                "source_mtime, received_at, ingested_at, archive_path, kabkota_code, kind, week, "
                "file_format) VALUES (?, ?, ?, ?, 1, ?, ?, ?, '', ?, 'logistik', ?, 'csv')",
                [file_id, f"{kab}/{name}", name, f"{file_id:064x}", received, received, received,
                 kab, week])
    con.execute("INSERT INTO audit.submission (file_id, verdict, version) "
                "VALUES (?, 'accepted', 1)", [file_id])
    num, den = share
    con.execute(
        "INSERT INTO core.logistik (file_id, row_number, flagged, kode_kabkota, kode_kecamatan, "
        "kode_desa, barang, jumlah_kebutuhan, diterima_kabkota, diterima_ppk, diterima_pps, "
        "diterima_tps, rusak, jumlah_tps, tps_lengkap, moda_angkut) "
        "SELECT ?, 1 + row_number() OVER (ORDER BY desa_code, barang), false, kabkota_code, "
        "kecamatan_code, desa_code, barang, jumlah_kebutuhan, q, q, q, q, 0, n_tps, 0, 'darat' "
        "FROM (SELECT *, jumlah_kebutuhan * ? // ? AS q FROM ref.kebutuhan) "
        "WHERE kabkota_code = ?", [file_id, num, den, kab])


def test_weekly_gain_is_not_taken_over_two_weeks_when_a_week_is_missing(warehouse) -> None:
    """docs/metrics.md: weekly gain = this week's share − last week's. When last week's logistics
    report is missing, the share of two weeks ago is not last week's: the mart must not present
    a two-week gain as one week's pace (NULL, or the gain spread over the two weeks)."""
    kab = "6474"
    _logistik_file(warehouse, kab, "2024-W45", 1, (1, 4))
    _logistik_file(warehouse, kab, "2024-W47", 2, (1, 2))  # nothing for 2024-W46
    need = build_reference().need[kab]

    def share(num: int, den: int) -> float:
        # every item holds the same share; the kab/kota share is their mean
        items = [sum(v * num // den for (_, b), v in need.items() if b == barang)
                 / sum(v for (_, b), v in need.items() if b == barang) for barang in BARANG]
        return sum(items) / len(items)

    before, now = share(1, 4), share(1, 2)
    got = {r[0]: r[1:] for r in warehouse.execute(
        "SELECT week, pct_tps, laju_tps_per_minggu, proyeksi_lengkap_tps "
        "FROM mart.logistik_weekly WHERE kabkota_code = ?", [kab]).fetchall()}
    assert got["2024-W45"][0] == pytest.approx(before, **APPROX)
    pct, gain, projected = got["2024-W47"]
    assert pct == pytest.approx(now, **APPROX)
    weekly = (now - before) / 2
    honest = week_end("2024-W47") + timedelta(days=math.ceil((1 - now) / weekly * 7))
    assert gain is None or gain == pytest.approx(weekly, **APPROX), (
        f"gain {gain} is the two-week gain {now - before}, not a weekly one")
    assert projected in (None, honest), f"projected {projected}; at the real pace {honest}"
