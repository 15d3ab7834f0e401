"""A realistic bulletin context without a warehouse, shared by the rendering and PDF tests.

Ten kab/kota with mixed statuses, one missing report, cross-sector follow-ups (overdue, blocked,
province-wide, a kab/kota needing action with none) and hostile free text in a narasi, an
incident summary and a follow-up: what the templates must survive.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tasks.config import WITA
from tasks.contract.submission import ENUMS, KINDS

XSS_NARASI = "Aman.\n<script>alert(1)</script> lalu <img src=x onerror=alert(2)> & selesai"
NARASI = {
    "Kukar": XSS_NARASI,
    "Mahulu": "Debit Sungai Mahakam turun; longboat logistik ke Long Apari tertahan 2 hari.\n"
    "Koordinasi dengan Polres untuk pengawalan.",
}
XSS_RINGKASAN = 'Spanduk dirusak <b onmouseover="alert(3)">malam</b> & pelaku kabur'
XSS_TINDAKAN = "Klarifikasi camat <script>alert(4)</script> & kepala desa"
XSS_REQUEST = "Mohon dukungan <script>alert(5)</script> angkutan udara"
REQUEST = XSS_REQUEST + " ke Long Apari."
# An incident row whose identity a rule rejected (its id used twice) that claims a death: left
# out of the counts, never out of sight.
FLAGGED_DEATH = {
    "kabkota_code": "6407", "kabkota_name": "Kabupaten Kutai Barat", "short_name": "Kubar",
    "id_insiden": "INS-6407-0003", "waktu_kejadian": datetime(2024, 11, 21, 17, 7),
    "kategori_label": "Politik uang", "tingkat": "rendah", "korban_meninggal": 1,
    "korban_luka": 0, "ringkasan": "Dugaan pembagian uang.",
    "alasan": "Baris 3, kolom id_insiden: id_insiden 'INS-6407-0003' muncul lebih dari sekali",
}

# code, name, short, status, previous status, TPS
KABKOTA = [
    ("6411", "Kabupaten Mahakam Ulu", "Mahulu", "Kritis", "Waspada", 77),
    ("6402", "Kabupaten Kutai Kartanegara", "Kukar", "Waspada", "Waspada", 1447),
    ("6407", "Kabupaten Kutai Barat", "Kubar", "Waspada", "Siap", 321),
    ("6408", "Kabupaten Kutai Timur", "Kutim", "Waspada", None, 701),
    ("6471", "Kota Balikpapan", "Balikpapan", "Siap", "Siap", 996),
    ("6403", "Kabupaten Berau", "Berau", "Siap", "Siap", 469),
    ("6474", "Kota Bontang", "Bontang", "Siap", "Siap", 277),
    ("6401", "Kabupaten Paser", "Paser", "Siap", "Waspada", 485),
    ("6409", "Kabupaten Penajam Paser Utara", "PPU", "Siap", "Siap", 293),
    ("6472", "Kota Samarinda", "Samarinda", "Siap", "Siap", 1202),
]
LEVEL = {"Siap": 0, "Waspada": 1, "Kritis": 2}
WEEK_END = date(2024, 11, 24)
MONDAY = WEEK_END + timedelta(days=1)  # tanggal_acuan: overdue means due before it
INSTANSI = {"polri": "Polri", "kpu": "KPU", "bawaslu": "Bawaslu", "pemda": "Pemda"}
STATUS_TL = {"baru": "Baru", "berjalan": "Berjalan", "terkendala": "Terkendala"}
# Open follow-ups: kab/kota (or the province, "64"), agency, due date, status, action.
FOLLOW_UPS = [
    ("6411", "polri", date(2024, 11, 20), "berjalan",
     "Pengawalan longboat logistik ke Long Apari"),
    ("6411", "kpu", date(2024, 11, 27), "terkendala",
     "Sewa helikopter untuk distribusi logistik ke Long Pahangai"),
    ("6402", "bawaslu", date(2024, 11, 28), "berjalan", XSS_TINDAKAN),
    ("6472", "polri", date(2024, 11, 23), "berjalan", "Patroli gabungan di gudang logistik KPU"),
    ("64", "pemda", date(2024, 11, 24), "baru", "Pastikan genset cadangan di TPS rawan padam"),
]


def _kabkota_row(
    i: int, code: str, name: str, short: str, status: str, prev: str | None, tps: int
) -> dict:
    missing_logistics = short == "Kutim"  # one kab/kota did not send logistik this week
    partial = short == "Kukar"  # some values excluded by rules: figures from part of the data
    pps = 0.41 if status == "Kritis" else 0.843 - 0.02 * i
    lengkap = round(tps * (0.2 if status == "Kritis" else 0.6 + 0.03 * i))
    rawan, sangat = round(tps * 0.18), round(tps * (0.09 if status != "Siap" else 0.02))
    log = {
        "pct_kabkota": 1.0,
        "pct_ppk": min(1.0, pps + 0.12),
        "pct_pps": pps,
        "pct_tps": 0.05,
        "pct_tps_lengkap": lengkap / tps,
        "tps_lengkap": lengkap,
        "jumlah_tps": tps,
        "desa_kurang": 12 - i,
        "rusak": i * 3,
        "proyeksi_lengkap_tps": None if status == "Kritis" else WEEK_END + timedelta(days=i),
        "desa_total": 100 + i,
        "desa_dihitung_pps": 100 + i - (3 if partial else 0),
    }
    if missing_logistics:
        log = dict.fromkeys(log)
        log["jumlah_tps"] = tps
    return {
        "kabkota_code": code,
        "kabkota_name": name,
        "short_name": short,
        "status": status,
        "status_level": LEVEL[status],
        "status_prev": prev,
        "alasan": None if status == "Siap" else f"logistik di PPS {round(pps * 100)}% < target",
        "alasan_en": None if status == "Siap" else f"supplies at PPS {round(pps * 100)}% < target",
        "status_umum": "kritis" if status == "Kritis" else "aman_terkendali",
        "narasi": NARASI.get(short, f"Situasi {short} kondusif.\nRapat koordinasi rutin."),
        **log,
        "tps_rawan": rawan,
        "tps_sangat_rawan": sangat,
        "linmas_per_tps": 1.4 if status == "Kritis" else 2.0,
        "polri_per_tps": 0.61,
        "tni_per_tps": 0.18,
        "insiden_baru": 1 if status != "Siap" else 0,
        "insiden_terbuka": 2 if i < 3 else 0,
        "kasus_asn_baru": i % 3,
        "kasus_asn_kumulatif": i,
        "kasus_asn_sanksi": i // 4,
        "jenis_diterima": 3 if missing_logistics else 5,
        "jenis_terlambat": 1 if i == 2 else 0,
        "jenis_hilang": ["logistik", "netralitas"] if missing_logistics else [],
        "file_ditolak": 0,
        "baris_ditandai": 3 if i == 1 else 0,
        "linmas_dinilai": True,
        "kecamatan_total": 10,
        "kecamatan_dihitung_linmas": 8 if partial else 10,
        "insiden_dilaporkan": True,
        "netralitas_dilaporkan": not missing_logistics,  # Kutim sent no ASN report either
        "kasus_non_asn_baru": 1 if short == "Kubar" else 0,
        "kasus_non_asn": 1 if short == "Kubar" else 0,
        "catatan_konsistensi": None,
        "tindak_lanjut_terbuka": sum(f[0] == code for f in FOLLOW_UPS),
        "tindak_lanjut_terlambat": sum(f[0] == code and f[2] < MONDAY for f in FOLLOW_UPS),
    }


def _items() -> list[dict]:
    return [
        {
            "barang": code,
            "label": label,
            "kebutuhan": 2_450_000 if code.startswith("ss_") else 6268,
            "pct_kabkota": 1.0,
            "pct_ppk": 0.93,
            "pct_pps": 0.78 - n * 0.01,
            "pct_tps": 0.04,
            "rusak": 120 if code.startswith("ss_") else n,
        }
        for n, (code, label) in enumerate(ENUMS["barang"].items())
    ]


def _incidents() -> list[dict]:
    when = datetime(2024, 11, 22, 21, 40, tzinfo=WITA)
    return [
        {
            "kabkota_name": "Kabupaten Mahakam Ulu",
            "id_insiden": "MHU-0007",
            "waktu_kejadian": when,
            "kategori_label": "Perusakan alat peraga kampanye",
            "tingkat": "sedang",
            "status_label": "Ditangani",
            "korban_meninggal": 0,
            "korban_luka": 0,
            "ringkasan": XSS_RINGKASAN,
            "baru": True,
        },
        {
            "kabkota_name": "Kabupaten Kutai Kartanegara",
            "id_insiden": "KKR-0031",
            "waktu_kejadian": when - timedelta(days=9),
            "kategori_label": "Bentrokan massa",
            "tingkat": "tinggi",
            "status_label": "Proses hukum",
            "korban_meninggal": 0,
            "korban_luka": 2,
            "ringkasan": "Bentrokan pendukung di Tenggarong.",
            "baru": False,
        },
    ]


def _provenance() -> list[dict]:
    rows = []
    for code, _, short, *_ in KABKOTA:
        for kind in KINDS:
            if short == "Kutim" and kind == "logistik":
                continue
            rows.append(
                {
                    "kabkota_code": code,
                    "kind": kind,
                    "file_name": f"{code}_{kind}_2024-W47.csv",
                    "version": 1,
                    "received_at": datetime(2024, 11, 23, 9, 15, tzinfo=WITA),
                    "sha256": f"{code}{kind}".encode().hex().ljust(64, "0")[:64],
                    "is_late": short == "Kubar" and kind == "netralitas",
                }
            )
    return rows


def _follow_ups() -> list[dict]:
    """Open follow-ups as `bulletin_tindak_lanjut.sql` returns them, the most overdue first."""
    names = {code: (name, short) for code, name, short, *_ in KABKOTA}
    rows = []
    for n, (code, instansi, tenggat, status, tindakan) in enumerate(FOLLOW_UPS, start=1):
        name, short = names.get(code, ("Kalimantan Timur", "Kalimantan Timur"))
        late = tenggat < MONDAY
        rows.append({
            "pengirim": "64", "id_tindak_lanjut": f"TL-64-{n:03d}", "kode_kabkota": code,
            "wilayah": name, "wilayah_singkat": short, "seluruh_provinsi": code == "64",
            "isu": "Isu dari rakor Forkopimda", "tindakan": tindakan,
            "instansi": instansi, "instansi_label": INSTANSI[instansi], "tenggat": tenggat,
            "status": status, "status_label": STATUS_TL[status], "terbuka": True,
            "terlambat": late, "hari_lewat_tenggat": (MONDAY - tenggat).days if late else None,
            "baru_minggu_ini": n == 5, "selesai_minggu_ini": False, "selesai_terlambat": False,
            "di_atas": False,
        })
    rows.sort(key=lambda r: (not r["terlambat"], -(r["hari_lewat_tenggat"] or 0),
                             r["status"] != "terkendala", r["tenggat"]))
    return rows


def _by_agency(rows: list[dict]) -> list[dict]:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["instansi"], []).append(r)
    ordered = sorted(groups.values(), key=lambda g: (-len(g), g[0]["instansi_label"]))
    return [{"instansi": g[0]["instansi"], "instansi_label": g[0]["instansi_label"],
             "items": g, "total": len(g), "di_atas": sum(r["di_atas"] for r in g)}
            for g in ordered]


def make_ctx(lang: str = "id") -> dict:
    """A realistic week: 10 kab/kota, mixed statuses, one missing report, hostile free text."""
    rows = [_kabkota_row(i, *k) for i, k in enumerate(KABKOTA)]
    follow_ups = _follow_ups()
    by_code = {r["kabkota_code"]: r for r in rows}

    def beside(code: str) -> dict:
        """An action's kab/kota identity, its figures and its open follow-ups."""
        k = by_code[code]
        mine = [f for f in follow_ups if f["kode_kabkota"] == code]
        for f in mine:
            f["di_atas"] = True
        return {"kabkota_code": code, "short_name": k["short_name"],
                "status_prev": k["status_prev"], "permintaan": [], "tenggat": None,
                "desa_tertinggal": None, "insiden_baru": k["insiden_baru"],
                "insiden_terbuka": k["insiden_terbuka"], "catatan_konsistensi": None,
                "tindak_lanjut": mine, "tindak_lanjut_total": len(mine)}

    desa = [  # as bulletin_desa_tertinggal.sql: one row per kab/kota, most villages first
        {"kabkota_code": "6402", "kabkota_name": "Kabupaten Kutai Kartanegara",
         "short_name": "Kukar", "desa": 32, "terpencil": 4, "kecamatan": 3,
         "kecamatan_terbanyak": "Muara Muntai", "desa_terbanyak": 10, "tahap": "pps"},
        {"kabkota_code": "6411", "kabkota_name": "Kabupaten Mahakam Ulu",
         "short_name": "Mahulu", "desa": 5, "terpencil": 5, "kecamatan": 1,
         "kecamatan_terbanyak": "Long Apari", "desa_terbanyak": 5, "tahap": "pps"},
    ]
    return {
        "lang": lang,
        "week": "2024-W47",
        "week_start": date(2024, 11, 18),
        "week_end": WEEK_END,
        "h": 3,
        "fase": "persiapan",
        "issued_at": datetime(2024, 11, 25, 7, 0, tzinfo=WITA),
        "province_name": "Kalimantan Timur",
        "kabkota_total": len(rows),
        "counts": {s: sum(r["status"] == s for r in rows) for s in LEVEL},
        "actions": [
            {
                "kabkota_name": "Kabupaten Mahakam Ulu",
                "status": "Kritis",
                "reason": "Logistik di PPS baru 41% (target 75%); 5 desa sungai belum terjangkau",
                "reasons": ["Logistik di PPS baru 41% (target 75%)",
                            "5 desa sungai belum terjangkau"],
                **beside("6411"),
                "permintaan": [REQUEST],
                "tenggat": {"tahap": "pps", "label": "PPS (desa/kelurahan)",
                            "tenggat": date(2024, 11, 26), "h": 1, "lewat": False},
                "desa_tertinggal": {"kabkota_code": "6411", "desa": 5, "terpencil": 5,
                                    "kecamatan": 1, "kecamatan_terbanyak": "Long Apari",
                                    "desa_terbanyak": 5, "tahap": "pps"},
            },
            {
                "kabkota_name": "Kabupaten Kutai Kartanegara",
                "status": "Waspada",
                "reason": "2 insiden terbuka, 1 dengan korban luka",
                "reasons": ["2 insiden terbuka, 1 dengan korban luka"],
                **beside("6402"),
            },
            {
                "kabkota_name": "Kabupaten Kutai Barat",
                "status": "Waspada",
                "reason": "Linmas 1,4 per TPS di 3 kecamatan",
                "reasons": ["Linmas 1,4 per TPS di 3 kecamatan"],
                **beside("6407"),
            },
            {
                "kabkota_name": "Kabupaten Kutai Timur",
                "status": "Waspada",
                "reason": "logistik di PPS belum dilaporkan",
                "reasons": ["logistik di PPS belum dilaporkan"],
                **beside("6408"),
            },
        ],
        "perubahan": [{"dari": "Waspada", "ke": "Siap", "kabkota": ["Paser"]}],
        "batas_fase": False,
        "tindak_lanjut": {
            "terbuka": len(follow_ups),
            "terlambat": sum(f["terlambat"] for f in follow_ups),
            "terkendala": sum(f["status"] == "terkendala" for f in follow_ups),
            "selesai_minggu_ini": 3,
            "selesai_terlambat": 1,
            "lewat_tenggat": _by_agency([f for f in follow_ups if f["terlambat"]]),
            "berjalan": _by_agency([f for f in follow_ups if not f["terlambat"]]),
        },
        "kabkota": rows,
        "logistik": {
            "items": _items(),
            "stage_targets": [
                {"stage": "ppk", "label": "PPK (kecamatan)", "expected": 1.0},
                {"stage": "pps", "label": "PPS (desa)", "expected": 0.75},
            ],
            "desa_tertinggal": desa,
            "desa_tertinggal_total": 37,
            "desa_tertinggal_terpencil": 9,
            "rusak_total": 318,
        },
        "keamanan": {
            "jumlah_tps": 6268,
            "tps_kurang_rawan": 4861,
            "tps_rawan": 1128,
            "tps_sangat_rawan": 279,
            "personel_polri": 3823,
            "personel_tni": 1128,
            "personel_linmas": 12409,
            "linmas_per_tps": 1.98,
            "polri_per_tps": 0.61,
            "tni_per_tps": 0.18,
            "insiden_baru": 4,
            "insiden_terbuka": 6,
            "insiden": _incidents(),
            "insiden_total": len(_incidents()),
            "korban_meninggal_baru": 0,
            "korban_luka_baru": 0,
            "perlu_verifikasi": [FLAGGED_DEATH],
        },
        "netralitas": {
            "kasus_baru": 9,
            "kasus_kumulatif": 45,
            "kasus_direkomendasikan": 17,
            "kasus_sanksi": 6,
            "median_hari_ke_rekomendasi": 12.5,
            "non_asn": [{"kabkota_code": "6407", "short_name": "Kubar", "jenis_pegawai": "honorer",
                         "jenis_label": "Honorer/non-ASN", "kasus_baru": 1, "kasus": 1}],
            "tahap": [
                {"tahap": code, "label": label, "kasus": n + 1}
                for n, (code, label) in enumerate(ENUMS["tahap_kasus"].items())
            ],
        },
        "kualitas": {"tepat_waktu": 48, "terlambat": 1, "hilang": 1, "ditolak": 0},
        "provenance": _provenance(),
    }
