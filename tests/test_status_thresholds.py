"""The status thresholds of docs/metrics.md, tested at their boundaries.

Each test writes one kab/kota's week straight into the warehouse, as the loader leaves it
(`raw.file` + `audit.submission` + `core.<kind>` rows; `core.current_file` needs an accepted
verdict that is not superseded), with quantities chosen so that the judged figure lands exactly
on a threshold or one unit below it, then reads `mart.status_finding` and `mart.kabkota_weekly`.

Kota Bontang (6474: 3 kecamatan, 15 kelurahan, requirements from `ref.kebutuhan`) is the desk.
2024-W46 ends on 17 Nov (H-10); 2024-W47 on 24 Nov (H-3), inside the stricter "from H-7" rows.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

KAB = "6474"
H10 = "2024-W46"
H3 = "2024-W47"
WITA = ZoneInfo("Asia/Makassar")
KINDS = ("ringkasan", "logistik", "keamanan", "insiden", "netralitas")
# Ballots first: the largest requirements give the finest steps when a gap is built unit by unit.
BARANG = ("ss_gubernur", "ss_bupati_walikota", "segel", "alat_coblos", "bilik_suara",
          "formulir_c", "kotak_suara", "tinta")
# The security file's own TPS count (the desk reports it per kecamatan). Chosen even, and 200 in
# all, so that 2.0, 1.5 and one Linmas less are integers of Linmas: 400, 399, 300, 299.
TPS_PER_KEC = (80, 80, 40)
DOCS = Path(__file__).resolve().parent.parent / "docs" / "metrics.md"


def week_start(week: str) -> date:
    year, n = week.split("-W")
    return date.fromisocalendar(int(year), int(n), 1)


# --------------------------------------------------------------------------------------------
# Writing a desk's week into the warehouse


class Desk:
    """Submissions of one kab/kota, written as the loader would leave them."""

    def __init__(self, con: Any, kab: str = KAB) -> None:
        self.con = con
        self.kab = kab
        self.need: dict[tuple[str, str], tuple[str, int, int]] = {
            (desa, barang): (kec, n_tps, keb)
            for kec, desa, barang, n_tps, keb in con.execute(
                "SELECT kecamatan_code, desa_code, barang, n_tps, jumlah_kebutuhan "
                "FROM ref.kebutuhan WHERE kabkota_code = ? ORDER BY desa_code, barang",
                [kab]).fetchall()
        }
        self.kecamatan = [k for (k,) in con.execute(
            "SELECT kecamatan_code FROM ref.kecamatan WHERE kabkota_code = ? "
            "ORDER BY kecamatan_code", [kab]).fetchall()]
        self.total = {b: sum(k for (_, b2), (_, _, k) in self.need.items() if b2 == b)
                      for b in BARANG}
        self.columns = {kind: [c for (c, *_) in con.execute(f"DESCRIBE core.{kind}").fetchall()
                               if c not in ("file_id", "row_number", "flagged")]
                        for kind in KINDS}

    def submit(self, kind: str, week: str, rows: list[dict[str, Any]],
               verdict: str = "accepted", late: bool = False) -> int:
        (file_id,) = self.con.execute(
            "SELECT coalesce(max(file_id), 0) + 1 FROM raw.file").fetchone()
        received = datetime.combine(week_start(week) + timedelta(days=3), time(10), WITA)
        name = f"{self.kab}_{kind}_{week}.csv"
        self.con.execute(
            "INSERT INTO raw.file (file_id, source_path, file_name, sha256, size_bytes, "
            "source_mtime, received_at, ingested_at, archive_path, kabkota_code, kind, week, "
            "file_format) VALUES (?, ?, ?, ?, 1, ?, ?, ?, '', ?, ?, ?, 'csv')",
            [file_id, f"{self.kab}/{name}", name, f"{file_id:064x}", received, received,
             received, self.kab, kind, week])
        self.con.execute(
            "INSERT INTO audit.submission (file_id, verdict, reason, version, is_late, "
            "rows_total, rows_flagged, run_id) VALUES (?, ?, '', 1, ?, ?, 0, 'test')",
            [file_id, verdict, late, len(rows)])
        cols = self.columns[kind]
        if rows:
            self.con.executemany(
                f"INSERT INTO core.{kind} (file_id, row_number, flagged, {', '.join(cols)}) "
                f"VALUES ({', '.join(['?'] * (len(cols) + 3))})",
                [[file_id, i + 2, False, *(r.get(c) for c in cols)]
                 for i, r in enumerate(rows)])
        return file_id

    def supersede(self, old: int, new: int) -> None:
        self.con.execute("UPDATE audit.submission SET superseded_by = ? WHERE file_id = ?",
                         [new, old])

    # rows of each kind --------------------------------------------------------------------

    def ringkasan(self, week: str, status_umum: str = "aman_terkendali") -> list[dict]:
        return [{"kode_kabkota": self.kab, "status_umum": status_umum,
                 "narasi": "Situasi aman dan kondusif.", "unit_pelapor": "Kesbangpol",
                 "per_tanggal": week_start(week) + timedelta(days=3)}]

    def logistik(self, week: str, short: dict[str, int] | None = None) -> list[dict]:
        """Every village × item; all four stages hold the requirement less `short[barang]`
        units of that item in all (taken village by village, in code order)."""
        left = dict(short or {})
        rows = []
        for (desa, barang), (kec, n_tps, keb) in self.need.items():
            take = min(left.get(barang, 0), keb)
            left[barang] = left.get(barang, 0) - take
            got = keb - take
            rows.append({
                "kode_kabkota": self.kab, "kode_kecamatan": kec, "kode_desa": desa,
                "barang": barang, "jumlah_kebutuhan": keb, "diterima_kabkota": got,
                "diterima_ppk": got, "diterima_pps": got, "diterima_tps": got, "rusak": 0,
                "jumlah_tps": n_tps, "tps_lengkap": n_tps if not take else 0,
                "moda_angkut": "darat", "per_tanggal": week_start(week) + timedelta(days=3),
                "catatan": None,
            })
        assert not any(left.values()), left
        return rows

    def keamanan(self, week: str, linmas: int = 400) -> list[dict]:
        """One row per kecamatan, 200 TPS in all; `linmas` Linmas in all."""
        total = sum(TPS_PER_KEC)
        rows = []
        given = 0
        for i, (kec, tps) in enumerate(zip(self.kecamatan, TPS_PER_KEC, strict=True)):
            share = linmas - given if i == len(TPS_PER_KEC) - 1 else linmas * tps // total
            given += share
            rows.append({
                "kode_kabkota": self.kab, "kode_kecamatan": kec, "jumlah_tps": tps,
                "tps_kurang_rawan": tps - 10, "tps_rawan": 8, "tps_sangat_rawan": 2,
                "personel_polri": tps, "personel_tni": tps // 2, "personel_linmas": share,
                "posko": 2, "per_tanggal": week_start(week) + timedelta(days=3),
            })
        return rows

    def insiden(self, week: str, id_: str, tingkat: str = "rendah",
                status: str = "dilaporkan", meninggal: int = 0, luka: int = 0) -> dict:
        return {
            "kode_kabkota": self.kab, "id_insiden": id_,
            "waktu_kejadian": datetime.combine(week_start(week) + timedelta(days=1), time(9)),
            "kode_kecamatan": self.kecamatan[0], "kode_desa": None,
            "kategori": "bentrokan_massa" if tingkat == "tinggi" else "perusakan_apk",
            "tingkat": tingkat, "status": status, "korban_meninggal": meninggal,
            "korban_luka": luka, "ditangani_oleh": "Polres Bontang", "sumber": "Patroli",
            "ringkasan": "Kejadian uji.",
        }

    def kasus(self, week: str, id_: str, jenis: str = "pns",
              tahap: str = "registrasi") -> dict:
        day = week_start(week) + timedelta(days=1)
        return {
            "kode_kabkota": self.kab, "id_kasus": id_, "ref_subjek": f"SBJ-{id_}",
            "jenis_pegawai": jenis, "instansi": "Dinas Uji", "jabatan": "Staf",
            "tanggal_lapor": day, "asal": "temuan_bawaslu", "jenis_pelanggaran": "media_sosial",
            "tahap": tahap, "tanggal_tahap": day, "sanksi": None,
        }

    def week(self, week: str, *, skip: tuple[str, ...] = (), status_umum: str = "aman_terkendali",
             short: dict[str, int] | None = None, linmas: int = 400,
             insiden: list[dict] | None = None, netralitas: list[dict] | None = None) -> None:
        """All five kinds for one week; by default every figure is Siap."""
        rows = {
            "ringkasan": self.ringkasan(week, status_umum),
            "logistik": self.logistik(week, short),
            "keamanan": self.keamanan(week, linmas),
            "insiden": insiden or [],
            "netralitas": netralitas or [],
        }
        for kind in KINDS:
            if kind not in skip:
                self.submit(kind, week, rows[kind])

    # reading the marts ----------------------------------------------------------------------

    def findings(self, week: str, kab: str | None = None) -> dict[str, dict[str, Any]]:
        cur = self.con.execute(
            "SELECT * FROM mart.status_finding WHERE kabkota_code = ? AND week = ?",
            [kab or self.kab, week])
        names = [d[0] for d in cur.description]
        return {r[names.index("metric")]: dict(zip(names, r, strict=True))
                for r in cur.fetchall()}

    def head(self, week: str, kab: str | None = None) -> dict[str, Any]:
        cur = self.con.execute(
            "SELECT * FROM mart.kabkota_weekly WHERE kabkota_code = ? AND week = ?",
            [kab or self.kab, week])
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        assert len(rows) == 1, rows
        return dict(zip(names, rows[0], strict=True))


@pytest.fixture
def desk(warehouse) -> Desk:
    return Desk(warehouse)


ALWAYS = {"logistik_selisih", "insiden_terbuka_tinggi", "korban_meninggal_baru",
          "korban_meninggal_verifikasi", "kasus_asn_baru", "laporan_hilang", "status_umum",
          "tahap_lewat_tenggat", "data_tak_terhitung"}
NEAR = ALWAYS | {"linmas_per_tps", "logistik_hilang"}  # from H-7


# --------------------------------------------------------------------------------------------
# The table itself


# docs/metrics.md row label -> metric; and what each documented cell means in ref rows.
DOC_METRIC = {
    "logistics gap `selisih_target`": "logistik_selisih",
    "shortfall at a stage past its due date": "tahap_lewat_tenggat",
    "Linmas per TPS": "linmas_per_tps",
    "open high-severity incidents": "insiden_terbuka_tinggi",
    "deaths in new incidents": "korban_meninggal_baru",
    "deaths claimed in incident rows that do not count (perlu verifikasi)":
        "korban_meninggal_verifikasi",
    "new ASN cases in the week": "kasus_asn_baru",
    "report kinds missing": "laporan_hilang",
    "logistics report missing": "logistik_hilang",
    "figures that cannot be judged (report received, no valid value)": "data_tak_terhitung",
    "status reported by the kab/kota (`status_umum`)": "status_umum",
}


def _doc_table() -> dict[str, tuple[str, str, str]]:
    text = DOCS.read_text(encoding="utf-8")
    body = text[text.index("| metric | Waspada when"):].split("\n\n")[0].splitlines()[2:]
    out = {}
    for line in body:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        out[DOC_METRIC[cells[0]]] = (cells[1], cells[2], cells[3])
    return out


def test_documented_thresholds_are_the_policy_table(warehouse) -> None:
    doc = _doc_table()
    assert set(doc) == set(DOC_METRIC.values())
    ref: dict[str, dict[int, tuple[float, float, str]]] = {}
    for metric, h_max, waspada, kritis, direction, h_min in warehouse.execute(
            "SELECT metric, h_max, waspada_at, kritis_at, direction, h_min "
            "FROM ref.status_threshold").fetchall():
        ref.setdefault(metric, {})[h_max] = (waspada, kritis, direction)
        assert (h_min == 0) == doc[metric][2].endswith("until voting day"), metric
    assert set(ref) == set(doc), "every policy row is documented, every documented row exists"
    for metric, (waspada_doc, kritis_doc, judged) in doc.items():
        rows = ref[metric]
        # "from H-7": only a row with h_max 7; "always": a row reaching any H-n
        assert max(rows) == (7 if judged.startswith("from H-7") else 9999), metric
        for h_max, (waspada, kritis, direction) in rows.items():
            if waspada_doc == "—":  # never Waspada alone: reaching it is already Kritis
                assert direction == "above" and waspada >= kritis, metric
            if kritis_doc == "—":  # never Kritis
                assert kritis >= 1e9, metric
            # the documented numbers are the row's: "≥ 0.10 (≥ 0.05 from H-7)" has both rows
            for cell, value in ((waspada_doc, waspada), (kritis_doc, kritis)):
                shown = [float(n) for n in re.findall(r"\d+\.\d+|(?<![H-])\b\d+\b", cell)]
                if shown:
                    assert value == (shown[-1] if h_max == 7 and len(shown) > 1
                                     else shown[0]), (metric, h_max, cell)
    expected = {
        ("logistik_selisih", 9999): (0.10, 0.25, "above"),
        ("logistik_selisih", 7): (0.05, 0.15, "above"),
        ("tahap_lewat_tenggat", 9999): (0.005, 0.05, "above"),
        ("linmas_per_tps", 7): (2.0, 1.5, "below"),
        ("insiden_terbuka_tinggi", 9999): (1, 3, "above"),
        ("korban_meninggal_baru", 9999): (1, 1, "above"),
        ("korban_meninggal_verifikasi", 9999): (1, 1, "above"),
        ("kasus_asn_baru", 9999): (3, 1e9, "above"),
        ("laporan_hilang", 9999): (1, 1e9, "above"),
        ("logistik_hilang", 7): (1, 1, "above"),
        ("data_tak_terhitung", 9999): (1, 1e9, "above"),
        ("status_umum", 9999): (1, 2, "above"),
    }
    assert {(m, h): v for m, rows in ref.items() for h, v in rows.items()} == expected
    assert doc["logistik_selisih"] == ("≥ 0.10 (≥ 0.05 from H-7)", "≥ 0.25 (≥ 0.15 from H-7)",
                                       "always, until voting day")
    assert doc["tahap_lewat_tenggat"] == ("≥ 0.005", "≥ 0.05", "always, until voting day")
    assert doc["linmas_per_tps"] == ("< 2.0", "< 1.5", "from H-7, until voting day")
    assert doc["insiden_terbuka_tinggi"] == ("≥ 1", "≥ 3", "always")
    assert doc["korban_meninggal_baru"] == ("—", "≥ 1", "always")
    assert doc["korban_meninggal_verifikasi"] == ("—", "≥ 1", "always")
    assert doc["kasus_asn_baru"] == ("≥ 3", "—", "always")
    assert doc["laporan_hilang"] == ("≥ 1", "—", "always")
    assert doc["logistik_hilang"] == ("—", "yes", "from H-7, until voting day")
    assert doc["data_tak_terhitung"] == ("≥ 1 figure", "—", "always")
    assert doc["status_umum"] == ("`ada_kendala`", "`kritis`", "always")


# --------------------------------------------------------------------------------------------
# A complete, on-time week is Siap; what is judged depends on H-n


@pytest.mark.parametrize(("week", "judged"), [(H10, ALWAYS), (H3, NEAR)], ids=["H-10", "H-3"])
def test_a_complete_week_is_siap(desk: Desk, week: str, judged: set[str]) -> None:
    desk.week(week)
    found = desk.findings(week)
    assert set(found) == judged
    assert {m: f["level"] for m, f in found.items()} == dict.fromkeys(judged, 0)
    assert found["logistik_selisih"]["value"] == 0.0
    head = desk.head(week)
    assert (head["status"], head["status_level"], head["alasan"]) == ("Siap", 0, None)
    assert head["h"] == {H10: 10, H3: 3}[week]
    if week == H3:
        assert found["linmas_per_tps"]["value"] == 2.0  # 400 / 200: exactly the rule


# --------------------------------------------------------------------------------------------
# Logistics gap


def shortfall(desk: Desk, gap: Fraction, above: bool) -> dict[str, int]:
    """Units missing per item so that the kab/kota's gap (1 − mean of the eight items' shares,
    every stage alike) is `gap` or one unit above it (`above`), or one unit below it.

    0.25 is exact in binary and is hit exactly (two whole items missing: shares 6/8). 0.10,
    0.05 and 0.15 are not representable, and no mean of shares can make 1 − mean equal the
    stored double (1 − x is exact for x in [0.5, 1], so it is a multiple of 2⁻⁵³, which those
    doubles are not): there the state is one ballot (≈ 1/(8 × 137,000) ≈ 1e-6) above or below,
    far beyond floating-point error (1e-16) yet well inside any meaningful tolerance."""
    need = gap * 8  # whole items' worth missing
    out: dict[str, int] = {}
    for barang in BARANG:
        if need <= 0:
            break
        total = desk.total[barang]
        if need > 1 or (need == 1 and above):
            out[barang], need = total, need - 1
            continue
        exact = need * total
        n = math.ceil(exact)
        if above and n == exact:
            n += 1  # an exact decimal tie would be decided by rounding: step over it
        if not above:
            n -= 1  # the largest number strictly below
        out[barang], need = n, Fraction(0)
    return out


GAP_CASES = [
    # week, boundary, at/above it?, expected level
    (H10, Fraction(1, 10), True, 1),
    (H10, Fraction(1, 10), False, 0),
    (H10, Fraction(1, 4), True, 2),
    (H10, Fraction(1, 4), False, 1),
    (H10, Fraction(3, 20), True, 1),   # the H-7 Kritis line is not yet in force at H-10
    (H10, Fraction(1, 20), True, 0),   # nor the H-7 Waspada line
    (H3, Fraction(1, 20), True, 1),
    (H3, Fraction(1, 20), False, 0),
    (H3, Fraction(3, 20), True, 2),
    (H3, Fraction(3, 20), False, 1),
]


@pytest.mark.parametrize(("week", "gap", "above", "level"), GAP_CASES,
                         ids=[f"{'H-10' if w == H10 else 'H-3'}-{float(g)}-{'at' if a else 'below'}"
                              for w, g, a, _ in GAP_CASES])
def test_logistics_gap_boundaries(desk: Desk, week: str, gap: Fraction, above: bool,
                                  level: int) -> None:
    desk.week(week, short=shortfall(desk, gap, above))
    found = desk.findings(week)["logistik_selisih"]
    value, boundary = found["value"], float(gap)
    if gap == Fraction(1, 4) and above:
        assert value == 0.25  # exact: six of eight items complete
    elif above:
        assert boundary < value < boundary + 1e-5
    else:
        assert boundary - 1e-5 < value < boundary
    assert found["level"] == level
    # every stage is short alike, so the warehouse stage (due H-10, past due in both weeks'
    # bulletins) is also judged on its own: 0.5 % missing is Waspada, 5 % Kritis
    late = desk.findings(week)["tahap_lewat_tenggat"]
    assert late["value"] == pytest.approx(value, abs=1e-12)
    late_level = 2 if value >= 0.05 else 1 if value >= 0.005 else 0
    assert late["level"] == late_level
    head = desk.head(week)
    assert head["status_level"] == max(level, late_level)
    assert head["level_logistik"] == max(level, late_level)
    h = 10 if week == H10 else 3
    shown = f"{math.floor(round((1 - value) * 1000, 6)) / 10:.1f}".replace(".", ",")
    assert found["reason_id"] == (  # a share is never rounded up
        f"logistik di gudang KPU kab/kota baru {shown}% (target 100%) pada H-{h}")
    assert late["reason_id"] == (
        f"logistik di gudang KPU kab/kota baru {shown}%, padahal tenggatnya 17-11-2024 (H-10)")
    reasons = (head["alasan"] or "").split("; ")
    assert (found["reason_id"] in reasons) == bool(level)  # worded either way, counted if judged
    assert late["reason_id"] in reasons


# --------------------------------------------------------------------------------------------
# Linmas per TPS (judged from H-7 only)


LINMAS_CASES = [
    # Linmas over 200 TPS -> level; every ratio below is exact or far from its boundary
    (400, 0),  # 2.0 exactly: meets the rule
    (399, 1),  # 1.995: one Linmas short of 2 per TPS
    (398, 1),  # 1.99
    (300, 1),  # 1.5 exactly: Waspada, not yet Kritis
    (299, 2),  # 1.495: one Linmas short of 1.5 per TPS
    (298, 2),  # 1.49
]


@pytest.mark.parametrize(("linmas", "level"), LINMAS_CASES,
                         ids=[f"{n / 200:g}" for n, _ in LINMAS_CASES])
def test_linmas_boundaries_near_voting_day(desk: Desk, linmas: int, level: int) -> None:
    desk.week(H3, linmas=linmas)
    found = desk.findings(H3)["linmas_per_tps"]
    assert found["value"] == linmas / 200
    assert found["level"] == level
    head = desk.head(H3)
    assert (head["status_level"], head["level_keamanan"]) == (level, level)
    assert head["linmas_per_tps"] == linmas / 200
    if linmas == 300:
        assert found["reason_id"] == "Linmas baru 1,50 per TPS (ketentuan 2) pada H-3"
        assert found["reason_en"] == "only 1.50 Linmas per TPS (rule: 2) at H-3"
        assert head["alasan"] == found["reason_id"]
        assert head["status"] == "Waspada"


@pytest.mark.parametrize(("linmas", "rule"), [(399, 2.0), (398, 2.0), (299, 1.5), (298, 1.5)],
                         ids=["1.995", "1.99", "1.495", "1.49"])
def test_linmas_reason_does_not_round_up_to_the_rule_it_breaks(desk: Desk, linmas: int,
                                                               rule: float) -> None:
    """A Waspada for "fewer than 2 Linmas per TPS" must not read "Linmas baru 2,0 per TPS
    (ketentuan 2)", nor a Kritis for "fewer than 1.5" read "1,5": the figure named in the reason
    has to be below the line it is judged against."""
    desk.week(H3, linmas=linmas)
    found = desk.findings(H3)["linmas_per_tps"]
    assert found["level"] >= 1
    m = re.search(r"Linmas baru (\d+(?:,\d+)?) per TPS", found["reason_id"])
    assert m, found["reason_id"]
    shown = float(m[1].replace(",", "."))
    assert shown < rule, found["reason_id"]


def test_linmas_is_not_judged_before_h7(desk: Desk) -> None:
    desk.week(H10, linmas=200)  # 1.0 per TPS at H-10
    found = desk.findings(H10)
    assert "linmas_per_tps" not in found
    head = desk.head(H10)
    assert head["linmas_per_tps"] == 1.0
    assert (head["status"], head["alasan"]) == ("Siap", None)


def test_linmas_without_a_security_file_is_not_judged_as_short(desk: Desk) -> None:
    desk.week(H3, skip=("keamanan",))
    found = desk.findings(H3)
    assert found["linmas_per_tps"]["value"] is None
    assert found["linmas_per_tps"]["level"] == 0
    assert found["laporan_hilang"]["level"] == 1  # the missing file is what is reported


# --------------------------------------------------------------------------------------------
# Open high-severity incidents, deaths


OPEN_CASES = [
    # (tingkat, status) of this week's incidents -> open high-severity count, level
    ([], 0, 0),
    ([("tinggi", "dilaporkan")], 1, 1),
    ([("tinggi", "ditangani"), ("tinggi", "proses_hukum")], 2, 1),
    ([("tinggi", "dilaporkan"), ("tinggi", "ditangani"), ("tinggi", "proses_hukum")], 3, 2),
    ([("tinggi", "dilaporkan"), ("tinggi", "ditangani"), ("tinggi", "selesai")], 2, 1),
    ([("tinggi", "tidak_terbukti")] * 3, 0, 0),
    ([("sedang", "dilaporkan")] * 3, 0, 0),
]


@pytest.mark.parametrize(("incidents", "count", "level"), OPEN_CASES,
                         ids=["none", "1", "2", "3", "2-open-1-closed", "3-unproven",
                              "3-sedang"])
def test_open_high_severity_incidents(desk: Desk, incidents: list, count: int,
                                      level: int) -> None:
    rows = [desk.insiden(H10, f"INS-{KAB}-{i:04d}", t, s) for i, (t, s) in enumerate(incidents)]
    desk.week(H10, insiden=rows)
    found = desk.findings(H10)["insiden_terbuka_tinggi"]
    # no incident at all: mart.insiden_weekly has no row, so the judged value is NULL (Siap)
    assert (found["value"] or 0, found["level"]) == (count, level)
    assert desk.head(H10)["status_level"] == level
    if level:
        assert found["reason_id"] == f"{count} insiden tingkat tinggi masih terbuka"
        assert desk.head(H10)["alasan"] == found["reason_id"]


def test_incident_state_carries_over_weeks(desk: Desk) -> None:
    """Open at week end = latest status up to that week: an incident not mentioned again stays
    open; one closed this week no longer counts."""
    a, b = f"INS-{KAB}-0001", f"INS-{KAB}-0002"
    desk.week(H10, insiden=[desk.insiden(H10, a, "tinggi"), desk.insiden(H10, b, "tinggi")])
    desk.week(H3, insiden=[desk.insiden(H10, b, "tinggi", "selesai")])
    assert desk.findings(H10)["insiden_terbuka_tinggi"]["value"] == 2
    found = desk.findings(H3)["insiden_terbuka_tinggi"]
    assert (found["value"], found["level"]) == (1, 1)


@pytest.mark.parametrize(("meninggal", "luka", "level"), [(0, 0, 0), (0, 3, 0), (1, 0, 2),
                                                         (2, 1, 2)])
def test_deaths_in_new_incidents(desk: Desk, meninggal: int, luka: int, level: int) -> None:
    # closed the same week, so only the casualty rule can fire
    row = desk.insiden(H10, f"INS-{KAB}-0001", "tinggi", "selesai", meninggal, luka)
    desk.week(H10, insiden=[row])
    found = desk.findings(H10)["korban_meninggal_baru"]
    assert (found["value"], found["level"]) == (meninggal, level)
    head = desk.head(H10)
    assert head["status"] == ["Siap", "Waspada", "Kritis"][level]
    if level:
        assert head["alasan"] == f"{meninggal} korban meninggal dalam insiden minggu ini"


def test_deaths_count_only_in_the_week_first_reported(desk: Desk) -> None:
    id_ = f"INS-{KAB}-0001"
    desk.week(H10, insiden=[desk.insiden(H10, id_, "tinggi", "ditangani", 1)])
    desk.week(H3, insiden=[desk.insiden(H10, id_, "tinggi", "selesai", 1)])
    assert desk.findings(H10)["korban_meninggal_baru"]["level"] == 2
    found = desk.findings(H3)["korban_meninggal_baru"]
    assert (found["value"], found["level"]) == (0, 0)
    assert desk.head(H3)["status"] == "Siap"


# --------------------------------------------------------------------------------------------
# New ASN cases


@pytest.mark.parametrize(("jenis", "count", "level"), [
    (["pns", "pppk"], 2, 0),
    (["pns", "pppk", "pns"], 3, 1),
    (["pns", "pppk", "honorer"], 2, 0),       # not ASN: kept, but outside the count
    (["pns", "kepala_desa", "lainnya"], 1, 0),
    (["pppk"] * 4, 4, 1),
], ids=["2", "3", "2+honorer", "1+2-non-asn", "4"])
def test_new_asn_cases(desk: Desk, jenis: list[str], count: int, level: int) -> None:
    rows = [desk.kasus(H10, f"ASN-{KAB}-{i:03d}", j) for i, j in enumerate(jenis)]
    desk.week(H10, netralitas=rows)
    found = desk.findings(H10)["kasus_asn_baru"]
    assert (found["value"], found["level"]) == (count, level)
    head = desk.head(H10)
    assert (head["status_level"], head["level_netralitas"], head["kasus_asn_baru"]) == (
        level, level, count)
    if level:
        assert head["alasan"] == f"{count} kasus netralitas ASN baru minggu ini"


def test_asn_cases_are_new_only_in_their_first_week(desk: Desk) -> None:
    rows = [desk.kasus(H10, f"ASN-{KAB}-{i:03d}") for i in range(3)]
    desk.week(H10, netralitas=rows)
    desk.week(H3, netralitas=[{**r, "tahap": "kajian_bawaslu"} for r in rows])
    assert desk.findings(H10)["kasus_asn_baru"]["level"] == 1
    found = desk.findings(H3)["kasus_asn_baru"]
    assert (found["value"], found["level"]) == (0, 0)
    assert desk.head(H3)["kasus_asn_kumulatif"] == 3


# --------------------------------------------------------------------------------------------
# Missing reports


@pytest.mark.parametrize(("week", "skip", "level", "reasons"), [
    (H10, ("netralitas",), 1, ["laporan netralitas belum diterima"]),
    (H10, ("ringkasan", "insiden"), 1, ["laporan ringkasan, insiden belum diterima"]),
    (H10, ("logistik",), 1, ["laporan logistik belum diterima"]),  # not judged before H-7
    (H3, ("ringkasan",), 1, ["laporan ringkasan belum diterima"]),
    (H3, ("logistik",), 2, ["laporan logistik tidak diterima pada H-3",
                            "laporan logistik belum diterima"]),
], ids=["H-10-netralitas", "H-10-two", "H-10-logistik", "H-3-ringkasan", "H-3-logistik"])
def test_missing_reports(desk: Desk, week: str, skip: tuple[str, ...], level: int,
                         reasons: list[str]) -> None:
    desk.week(week, skip=skip)
    found = desk.findings(week)
    assert (found["laporan_hilang"]["value"], found["laporan_hilang"]["level"]) == (len(skip), 1)
    if week == H3:
        want = 2 if "logistik" in skip else 0
        assert found["logistik_hilang"]["level"] == want
    else:
        assert "logistik_hilang" not in found
    head = desk.head(week)
    assert head["status_level"] == level
    assert head["jenis_hilang"] == list(skip)
    assert head["alasan"] == "; ".join(reasons)
    assert head["level_kualitas_data"] == level


def test_a_rejected_logistics_file_does_not_count(desk: Desk) -> None:
    desk.week(H3, skip=("logistik",))
    desk.submit("logistik", H3, desk.logistik(H3), verdict="rejected")
    assert desk.findings(H3)["logistik_hilang"]["level"] == 2
    assert desk.head(H3)["status"] == "Kritis"
    assert desk.head(H3)["file_ditolak"] == 1


def test_a_superseded_version_gives_way_to_its_correction(desk: Desk) -> None:
    desk.week(H3, skip=("logistik",))
    first = desk.submit("logistik", H3, desk.logistik(H3, {"ss_gubernur": desk.total[
        "ss_gubernur"]}))
    second = desk.submit("logistik", H3, desk.logistik(H3))
    desk.supersede(first, second)
    found = desk.findings(H3)
    assert found["logistik_hilang"]["level"] == 0
    assert found["logistik_selisih"]["value"] == 0.0
    assert desk.head(H3)["status"] == "Siap"


@pytest.mark.parametrize(("week", "level"), [(H10, 1), (H3, 2)], ids=["H-10", "H-3"])
def test_a_kabkota_that_sent_nothing(desk: Desk, week: str, level: int) -> None:
    """Its gap is not judged (no figures), it is Waspada for the missing reports and Kritis
    from H-7 because logistics is missing."""
    desk.week(week)  # Bontang reports, so the week exists; Mahakam Ulu sends nothing
    found = desk.findings(week, "6411")
    assert found["logistik_selisih"]["value"] is None
    assert found["logistik_selisih"]["level"] == 0
    assert (found["laporan_hilang"]["value"], found["laporan_hilang"]["level"]) == (5, 1)
    head = desk.head(week, "6411")
    assert head["status_level"] == level
    assert head["jenis_hilang"] == list(KINDS)
    expected = ["laporan ringkasan, logistik, keamanan, insiden, netralitas belum diterima"]
    if week == H3:
        expected.insert(0, "laporan logistik tidak diterima pada H-3")
    assert head["alasan"] == "; ".join(expected)


# --------------------------------------------------------------------------------------------
# Status reported by the kab/kota


@pytest.mark.parametrize(("status_umum", "level", "reason"), [
    ("aman_terkendali", 0, None),
    ("ada_kendala", 1, "kab/kota melaporkan ada kendala"),
    ("kritis", 2, "kab/kota melaporkan kondisi kritis"),
])
def test_status_reported_by_the_kabkota(desk: Desk, status_umum: str, level: int,
                                        reason: str | None) -> None:
    desk.week(H10, status_umum=status_umum)
    found = desk.findings(H10)["status_umum"]
    assert (found["value"], found["level"]) == (level, level)
    head = desk.head(H10)
    assert (head["status_level"], head["status_umum"], head["alasan"]) == (
        level, status_umum, reason)


# --------------------------------------------------------------------------------------------
# The overall status: the worst level, with every reason in words


def test_overall_status_is_the_worst_level_with_every_reason(desk: Desk) -> None:
    death = desk.insiden(H3, f"INS-{KAB}-0001", "tinggi", "selesai", meninggal=1)
    cases = [desk.kasus(H3, f"ASN-{KAB}-{i:03d}") for i in range(3)]
    desk.week(H3, linmas=300, insiden=[death], netralitas=cases)
    levels = {m: f["level"] for m, f in desk.findings(H3).items()}
    assert levels == {**dict.fromkeys(NEAR, 0), "korban_meninggal_baru": 2,
                      "linmas_per_tps": 1, "kasus_asn_baru": 1}
    head = desk.head(H3)
    assert (head["status"], head["status_level"]) == ("Kritis", 2)
    assert (head["level_logistik"], head["level_keamanan"], head["level_netralitas"],
            head["level_kualitas_data"]) == (0, 2, 1, 0)
    # Kritis first, then Waspada; within a level by area, then metric
    assert head["alasan"] == (
        "1 korban meninggal dalam insiden minggu ini; "
        "Linmas baru 1,50 per TPS (ketentuan 2) pada H-3; "
        "3 kasus netralitas ASN baru minggu ini")
    assert head["alasan_en"] == (
        "1 deaths in incidents this week; "
        "only 1.50 Linmas per TPS (rule: 2) at H-3; "
        "3 new civil-servant neutrality cases this week")


def test_several_waspada_stay_waspada(desk: Desk) -> None:
    # a 1 % shortfall: Waspada at the past-due warehouse stage, below the ramp's 5 % at H-3
    short = shortfall(desk, Fraction(1, 100), True)
    open_ = desk.insiden(H3, f"INS-{KAB}-0001", "tinggi", "ditangani")
    desk.week(H3, short=short, linmas=398, insiden=[open_], status_umum="ada_kendala",
              skip=("netralitas",))
    levels = {m: f["level"] for m, f in desk.findings(H3).items()}
    assert levels == {**dict.fromkeys(NEAR, 0), "tahap_lewat_tenggat": 1, "linmas_per_tps": 1,
                      "insiden_terbuka_tinggi": 1, "laporan_hilang": 1, "status_umum": 1}
    head = desk.head(H3)
    assert (head["status"], head["status_level"]) == ("Waspada", 1)
    assert head["alasan"].split("; ")[0] == "1 insiden tingkat tinggi masih terbuka"
    assert len(head["alasan"].split("; ")) == 5
    assert "laporan netralitas belum diterima" in head["alasan"]
    assert "kab/kota melaporkan ada kendala" in head["alasan"]
    assert re.search(r"logistik di gudang KPU kab/kota baru 98,9%, padahal tenggatnya "
                     r"17-11-2024 \(H-10\)", head["alasan"])


# --------------------------------------------------------------------------------------------
# The campaign's phases, the next deadline, and figures one report can supply for another

H_PLUS = "2024-W48"  # holds voting day: the week's Sunday is H+4


def test_readiness_is_not_judged_after_voting_day(desk: Desk) -> None:
    """Logistics and Linmas are pre-vote judgments: a post-vote week is not made Kritis by a
    shortfall or a Linmas count nobody can act on any more; security still counts."""
    death = desk.insiden(H_PLUS, f"INS-{KAB}-0009", "tinggi", "selesai", meninggal=1)
    desk.week(H_PLUS, short=shortfall(desk, Fraction(1, 4), True), linmas=100, insiden=[death])
    found = desk.findings(H_PLUS)
    assert not {"logistik_selisih", "tahap_lewat_tenggat", "linmas_per_tps",
                "logistik_hilang"} & set(found)
    head = desk.head(H_PLUS)
    assert (head["fase"], head["h"], head["linmas_dinilai"]) == ("pasca_pemungutan", -4, False)
    assert (head["status"], head["alasan"]) == ("Kritis",
                                                "1 korban meninggal dalam insiden minggu ini")
    desk.week(H3)
    desk.week(H10)
    assert (desk.head(H3)["fase"], desk.head(H3)["linmas_dinilai"]) == ("persiapan", True)
    assert (desk.head(H10)["fase"], desk.head(H10)["linmas_dinilai"]) == ("persiapan", False)


def test_next_deadline_is_the_first_stage_not_complete(desk: Desk) -> None:
    desk.week(H3, short=shortfall(desk, Fraction(1, 10), True))
    head = desk.head(H3)
    assert (head["tahap_berikut"], head["tenggat_tahap_berikut"], head["h_tahap_berikut"],
            head["tahap_berikut_lewat_tenggat"]) == ("kabkota", date(2024, 11, 17), 10, True)
    desk.week(H10)  # complete: nothing left to deliver
    assert desk.head(H10)["tahap_berikut"] is None


def test_a_missing_security_report_does_not_blank_the_tps_count(desk: Desk) -> None:
    desk.week(H3, skip=("keamanan",))
    head = desk.head(H3)
    tps = sum(n for (_, n, _) in {(d, n, 0) for (d, _), (_, n, _) in desk.need.items()})
    assert (head["jumlah_tps"], head["jumlah_tps_sumber"]) == (tps, "logistik")
    desk.week(H10)
    assert (desk.head(H10)["jumlah_tps"], desk.head(H10)["jumlah_tps_sumber"]) == (
        sum(TPS_PER_KEC), "keamanan")


def test_a_narrative_that_contradicts_the_figures_is_noted(desk: Desk) -> None:
    new = desk.insiden(H3, f"INS-{KAB}-0003")
    desk.week(H3, skip=("ringkasan",), insiden=[new])
    desk.submit("ringkasan", H3, [{**desk.ringkasan(H3)[0],
                                   "narasi": "Minggu ini tidak ada kejadian menonjol."}])
    assert desk.head(H3)["catatan_konsistensi"] == (
        "Narasi menyebut tidak ada kejadian, tetapi laporan insiden memuat 1 insiden baru "
        "minggu ini.")
    desk.week(H10)  # no incident, plain narrative: nothing to note
    assert desk.head(H10)["catatan_konsistensi"] is None


def test_villages_are_behind_only_against_the_plan_for_the_date(desk: Desk) -> None:
    """At H-10 the warehouse stage is due (100 %) while the village stage's ramp has not begun:
    a village short only at PPS is not behind; one short at the warehouse is."""
    (desa, barang), (kec, _, keb) = next(iter(desk.need.items()))
    rows = desk.logistik(H10)
    for r in rows:
        if r["kode_desa"] == desa and r["barang"] == barang:
            r["diterima_pps"] = r["diterima_tps"] = 0
    desk.week(H10, skip=("logistik",))
    desk.submit("logistik", H10, rows)
    assert desk.head(H10)["desa_tertinggal"] == 0
    assert desk.head(H10)["desa_kurang"] == 1  # short against the full requirement
    rows2 = desk.logistik(H3)
    for r in rows2:
        if r["kode_desa"] == desa and r["barang"] == barang:
            r.update(diterima_kabkota=keb - 1, diterima_ppk=keb - 1, diterima_pps=0,
                     diterima_tps=0)
    desk.week(H3, skip=("logistik",))
    desk.submit("logistik", H3, rows2)
    (row,) = desk.con.execute(
        "SELECT kecamatan_code, desa_tertinggal, tahap, barang FROM mart.desa_tertinggal "
        "WHERE week = ? AND kabkota_code = ?", [H3, KAB]).fetchall()
    assert row == (kec, 1, "kabkota", [barang])


# --------------------------------------------------------------------------------------------
# Excluded and missing data (issue 21): a status never rests on them without saying so


def _submit_week(desk: Desk, week: str, logistik: list[dict] | None = None,
                 keamanan: list[dict] | None = None, skip: tuple[str, ...] = ()) -> None:
    rows = {"ringkasan": desk.ringkasan(week),
            "logistik": desk.logistik(week) if logistik is None else logistik,
            "keamanan": desk.keamanan(week) if keamanan is None else keamanan,
            "insiden": [], "netralitas": []}
    for kind in KINDS:
        if kind not in skip:
            desk.submit(kind, week, rows[kind])


def test_a_share_from_part_of_the_villages_says_so_and_excludes_nothing_as_zero(desk: Desk):
    rows = desk.logistik(H3, shortfall(desk, Fraction(1, 100), True))
    villages = sorted({r["kode_desa"] for r in rows})
    dropped = set(villages[-2:])  # the shortfall is in the first villages: these are complete
    for r in rows:
        if r["kode_desa"] in dropped:
            r["excluded_columns"] = ["diterima_kabkota"]
    _submit_week(desk, H3, logistik=rows)

    counted = [r for r in rows if r["kode_desa"] not in dropped]
    expected = sum(Fraction(sum(min(r["diterima_kabkota"], r["jumlah_kebutuhan"])
                                for r in counted if r["barang"] == b),
                            sum(r["jumlah_kebutuhan"] for r in counted if r["barang"] == b))
                   for b in BARANG) / len(BARANG)
    head = desk.head(H3)
    assert math.isclose(head["pct_kabkota"], float(expected), rel_tol=1e-12)
    assert (head["desa_total"], head["desa_dihitung"]) == (len(villages), len(villages) - 2)
    found = desk.findings(H3)["tahap_lewat_tenggat"]
    assert found["level"] == 1
    assert found["reason_id"].endswith(
        f"(dihitung dari {len(villages) - 2} dari {len(villages)} desa/kelurahan)")
    assert found["reason_en"].endswith(f"(counted from {len(villages) - 2} of "
                                       f"{len(villages)} villages)")
    assert head["status"] == "Waspada" and "dihitung dari" in head["alasan"]


def test_a_stage_with_no_valid_value_is_said_not_judged_silently(desk: Desk):
    rows = desk.logistik(H3)
    for r in rows:
        r["excluded_columns"] = ["diterima_pps"]
    _submit_week(desk, H3, logistik=rows)
    found = desk.findings(H3)
    assert found["data_tak_terhitung"]["level"] == 1
    assert found["data_tak_terhitung"]["reason_id"] == (
        "tidak dapat dinilai karena tidak ada angka yang sah (semua ditandai): "
        "logistik di PPS (desa/kelurahan)")
    assert found["logistik_selisih"]["level"] == 0  # the other stages are judged as usual
    head = desk.head(H3)
    assert head["pct_pps"] is None and head["pct_kabkota"] == 1.0
    assert head["status"] == "Waspada"


def test_a_logistics_report_with_nothing_valid_is_judged_as_missing_and_says_so(desk: Desk):
    rows = desk.logistik(H3)
    for r in rows:
        r["excluded_columns"] = ["diterima_kabkota", "diterima_ppk", "diterima_pps",
                                 "diterima_tps"]
    _submit_week(desk, H3, logistik=rows)
    found = desk.findings(H3)
    assert found["logistik_hilang"]["level"] == 2
    assert found["logistik_hilang"]["reason_id"] == (
        "laporan logistik diterima, tetapi tidak ada angka yang sah pada H-3 "
        "(semua baris/nilai ditandai)")
    assert found["data_tak_terhitung"]["level"] == 0  # said once, not twice
    assert desk.head(H3)["status"] == "Kritis"


def test_linmas_from_part_of_the_kecamatan_says_so(desk: Desk):
    rows = desk.keamanan(H3, linmas=300)
    rows[-1]["excluded_columns"] = ["personel_linmas"]
    _submit_week(desk, H3, keamanan=rows)
    counted = rows[:-1]
    found = desk.findings(H3)["linmas_per_tps"]
    assert found["value"] == sum(r["personel_linmas"] for r in counted) / sum(
        r["jumlah_tps"] for r in counted)
    assert found["level"] == 1
    assert found["reason_id"].endswith(f"(dihitung dari {len(counted)} dari {len(rows)} "
                                       "kecamatan)")
    head = desk.head(H3)
    assert (head["kecamatan_total"], head["kecamatan_dihitung_linmas"]) == (3, 2)


def test_a_missing_report_is_not_a_reported_zero(desk: Desk):
    _submit_week(desk, H10, skip=("insiden",))
    _submit_week(desk, H3)  # an empty incident list: reported, nothing happened
    missing, zero = desk.head(H10), desk.head(H3)
    assert (missing["insiden_dilaporkan"], missing["insiden_baru"]) == (False, 0)
    assert (zero["insiden_dilaporkan"], zero["insiden_baru"]) == (True, 0)
    # the status that only missing data causes says so
    assert missing["status"] == "Waspada"
    assert missing["alasan"] == "laporan insiden belum diterima"
    assert zero["status"] == "Siap"
    # a logistics report not received is no 0 %: its figures are absent, not zero
    _submit_week(desk, "2024-W45", skip=("logistik",))
    gone = desk.head("2024-W45")
    assert gone["pct_kabkota"] is None and gone["desa_total"] is None
    assert "laporan logistik belum diterima" in gone["alasan"]
