"""The submission contract (architecture §3) as data: kinds, columns, types, enumerations, aliases.

Everything that needs to know what a regency may send (the parser, the GX suites, the sample
generator, the reference tables, the docs) reads it from here, so a column is added in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["code", "str", "int", "date", "datetime"]

KINDS: tuple[str, ...] = ("ringkasan", "logistik", "keamanan", "insiden", "netralitas",
                          "tindak_lanjut")
# Kinds every kab/kota owes every week; a missing one is "laporan belum diterima". Follow-ups are
# sent when there are any (an empty or absent report means none recorded), never chased as late.
REQUIRED_KINDS: tuple[str, ...] = KINDS[:5]
# Kinds the provincial desk may send under the province's own code (`64/64_<kind>_<week>.csv`),
# its rows naming any kab/kota of the province or the province itself.
PROVINCE_KINDS: frozenset[str] = frozenset({"tindak_lanjut"})


# The plausible range of every count a desk reports (documented in docs/submission-format.md).
# No single row of any kind can honestly exceed it (all of Indonesia has ~820,000 TPS and ~204
# million voters), and 200,000 rows of it sum to 2e12, far inside 64 bits, so no SQL sum can
# overflow. Checked by the suites: rule `tidak_negatif` has both ends (expectations/*.json).
COUNT_MIN = 0
COUNT_MAX = 10_000_000


@dataclass(frozen=True)
class Column:
    """One column of a submission kind; `required` means the header must be present; `bounds`
    is an int column's plausible range (inclusive), a value outside it flags the row."""

    name: str
    type: ColumnType
    required: bool = True
    nullable: bool = False
    label_id: str = ""
    bounds: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.type == "int" and self.bounds is None:  # every count has a range
            object.__setattr__(self, "bounds", (COUNT_MIN, COUNT_MAX))


ENUMS: dict[str, dict[str, str]] = {
    # enumeration name -> {value: Indonesian label}
    "status_umum": {
        "aman_terkendali": "Aman terkendali",
        "ada_kendala": "Ada kendala",
        "kritis": "Kritis",
    },
    "barang": {
        "ss_gubernur": "Surat suara Gubernur",
        "ss_bupati_walikota": "Surat suara Bupati/Wali Kota",
        "kotak_suara": "Kotak suara",
        "bilik_suara": "Bilik suara",
        "tinta": "Tinta",
        "segel": "Segel",
        "alat_coblos": "Alat coblos",
        "formulir_c": "Formulir model C",
    },
    "moda_angkut": {"darat": "Darat", "sungai": "Sungai", "laut": "Laut", "udara": "Udara"},
    "tingkat": {"rendah": "Rendah", "sedang": "Sedang", "tinggi": "Tinggi"},
    "status_insiden": {
        "dilaporkan": "Dilaporkan",
        "ditangani": "Ditangani",
        "proses_hukum": "Proses hukum",
        "selesai": "Selesai",
        "tidak_terbukti": "Tidak terbukti",
    },
    "kategori_insiden": {
        "politik_uang": "Politik uang",
        "intimidasi": "Intimidasi/ancaman",
        "bentrokan_massa": "Bentrokan massa",
        "perusakan_apk": "Perusakan alat peraga kampanye",
        "ujaran_kebencian_sara": "Ujaran kebencian/SARA",
        "hoaks": "Hoaks/disinformasi",
        "gangguan_logistik": "Gangguan logistik",
        "bencana_alam": "Bencana alam",
        "kampanye_di_luar_jadwal": "Kampanye di luar jadwal",
        "lainnya": "Lainnya",
    },
    "jenis_pegawai": {
        "pns": "PNS",
        "pppk": "PPPK",
        "honorer": "Honorer/non-ASN",
        "kepala_desa": "Kepala/perangkat desa",
        "lainnya": "Lainnya",
    },
    "asal_kasus": {
        "temuan_bawaslu": "Temuan Bawaslu",
        "laporan_masyarakat": "Laporan masyarakat",
        "laporan_instansi": "Laporan instansi",
    },
    "jenis_pelanggaran": {
        "media_sosial": "Dukungan lewat media sosial",
        "kampanye_terlibat": "Ikut kampanye/atribut",
        "fasilitas_negara": "Penggunaan fasilitas negara",
        "keputusan_menguntungkan": "Keputusan yang menguntungkan calon",
        "deklarasi_dukungan": "Deklarasi/ajakan dukungan",
        "mencalonkan_diri": "Sosialisasi pencalonan diri",
        "lainnya": "Lainnya",
    },
    "tahap_kasus": {
        "registrasi": "Registrasi",
        "kajian_bawaslu": "Kajian Bawaslu",
        "bukan_pelanggaran": "Bukan pelanggaran",
        "dihentikan": "Dihentikan",
        "rekomendasi_ke_bkn": "Direkomendasikan ke BKN",
        "rekomendasi_bkn": "Rekomendasi sanksi BKN",
        "sanksi_dijatuhkan": "Sanksi dijatuhkan",
        "tidak_ditindaklanjuti": "Tidak ditindaklanjuti",
    },
    "sanksi": {
        "moral_tertutup": "Sanksi moral (pernyataan tertutup)",
        "moral_terbuka": "Sanksi moral (pernyataan terbuka)",
        "disiplin_ringan": "Hukuman disiplin ringan (teguran/pernyataan tidak puas)",
        "disiplin_sedang": "Hukuman disiplin sedang (pemotongan tunjangan)",
        "disiplin_berat": "Hukuman disiplin berat (penurunan jabatan/pembebasan/pemberhentian)",
    },
    # Cross-sector follow-ups (tindak lanjut). The agencies are the Forkopimda members and the
    # offices a Desk Pilkada assigns work to: extend the list here and nowhere else.
    "forum": {
        "desk_pilkada": "Desk Pilkada",
        "rakor_forkopimda": "Rakor Forkopimda",
        "lainnya": "Forum lain",
    },
    "bidang": {
        "logistik": "Logistik",
        "keamanan": "Keamanan",
        "netralitas": "Netralitas ASN",
        "partisipasi": "Partisipasi pemilih",
        "lainnya": "Lainnya",
    },
    "instansi": {
        "kpu": "KPU",
        "bawaslu": "Bawaslu",
        "polri": "Polri",
        "tni": "TNI",
        "pemda": "Pemda",
        "bpbd": "BPBD",
        "kejaksaan": "Kejaksaan",
        "kesbangpol": "Kesbangpol",
        "dishub": "Dinas Perhubungan",
        "diskominfo": "Diskominfo",
        "dinkes": "Dinas Kesehatan",
        "dprd": "DPRD",
    },
    "status_tindak_lanjut": {
        "baru": "Baru",
        "berjalan": "Berjalan",
        "terkendala": "Terkendala",
        "selesai": "Selesai",
        "dibatalkan": "Dibatalkan",
    },
}

# Order of a case's stages and an incident's statuses, for "does not move backwards" checks and
# for the bulletin's case-flow table. Terminal stages share the last rank.
TAHAP_RANK: dict[str, int] = {
    "registrasi": 1,
    "kajian_bawaslu": 2,
    "rekomendasi_ke_bkn": 3,
    "rekomendasi_bkn": 4,
    "sanksi_dijatuhkan": 5,
    "bukan_pelanggaran": 5,
    "dihentikan": 5,
    "tidak_ditindaklanjuti": 5,
}
STATUS_INSIDEN_RANK: dict[str, int] = {
    "dilaporkan": 1,
    "ditangani": 2,
    "proses_hukum": 3,
    "selesai": 4,
    "tidak_terbukti": 4,
}
STATUS_TINDAK_LANJUT_RANK: dict[str, int] = {
    "baru": 1,
    "berjalan": 2,
    "terkendala": 2,
    "selesai": 3,
    "dibatalkan": 3,
}
# A follow-up in one of these states still needs someone to act (open; overdue past `tenggat`).
TINDAK_LANJUT_OPEN: frozenset[str] = frozenset({"baru", "berjalan", "terkendala"})
ASN_TYPES: frozenset[str] = frozenset({"pns", "pppk"})

_C = Column
COLUMNS: dict[str, tuple[Column, ...]] = {
    "ringkasan": (
        _C("kode_kabkota", "code"),
        _C("status_umum", "str"),
        _C("narasi", "str"),
        _C("unit_pelapor", "str"),
        _C("per_tanggal", "date"),
    ),
    "logistik": (
        _C("kode_kabkota", "code"),
        _C("kode_kecamatan", "code"),
        _C("kode_desa", "code"),
        _C("barang", "str"),
        _C("jumlah_kebutuhan", "int"),
        _C("diterima_kabkota", "int"),
        _C("diterima_ppk", "int"),
        _C("diterima_pps", "int"),
        _C("diterima_tps", "int"),
        _C("rusak", "int"),
        _C("jumlah_tps", "int"),
        _C("tps_lengkap", "int"),
        _C("moda_angkut", "str"),
        _C("per_tanggal", "date"),
        _C("catatan", "str", required=False, nullable=True),
    ),
    "keamanan": (
        _C("kode_kabkota", "code"),
        _C("kode_kecamatan", "code"),
        _C("jumlah_tps", "int"),
        _C("tps_kurang_rawan", "int"),
        _C("tps_rawan", "int"),
        _C("tps_sangat_rawan", "int"),
        _C("personel_polri", "int"),
        _C("personel_tni", "int"),
        _C("personel_linmas", "int"),
        _C("posko", "int"),
        _C("per_tanggal", "date"),
    ),
    "insiden": (
        _C("kode_kabkota", "code"),
        _C("id_insiden", "str"),
        _C("waktu_kejadian", "datetime"),
        _C("kode_kecamatan", "code"),
        _C("kode_desa", "code", required=False, nullable=True),
        _C("kategori", "str"),
        _C("tingkat", "str"),
        _C("status", "str"),
        _C("korban_meninggal", "int"),
        _C("korban_luka", "int"),
        _C("ditangani_oleh", "str", nullable=True),
        _C("sumber", "str", nullable=True),
        _C("ringkasan", "str"),
    ),
    "netralitas": (
        _C("kode_kabkota", "code"),
        _C("id_kasus", "str"),
        _C("ref_subjek", "str"),
        _C("jenis_pegawai", "str"),
        _C("instansi", "str"),
        _C("jabatan", "str", nullable=True),
        _C("tanggal_lapor", "date"),
        _C("asal", "str"),
        _C("jenis_pelanggaran", "str"),
        _C("tahap", "str"),
        _C("tanggal_tahap", "date"),
        _C("sanksi", "str", required=False, nullable=True),
    ),
    "tindak_lanjut": (
        _C("kode_kabkota", "code"),
        _C("id_tindak_lanjut", "str"),
        _C("tanggal_keputusan", "date"),
        _C("forum", "str"),
        _C("bidang", "str"),
        _C("isu", "str"),
        _C("tindakan", "str"),
        _C("instansi", "str"),
        _C("tenggat", "date"),
        _C("status", "str"),
        _C("tanggal_status", "date"),
        _C("catatan", "str", required=False, nullable=True),
    ),
}

# Which enumeration each enumerated column draws from.
ENUM_COLUMNS: dict[str, dict[str, str]] = {
    "ringkasan": {"status_umum": "status_umum"},
    "logistik": {"barang": "barang", "moda_angkut": "moda_angkut"},
    "keamanan": {},
    "insiden": {"kategori": "kategori_insiden", "tingkat": "tingkat", "status": "status_insiden"},
    "netralitas": {
        "jenis_pegawai": "jenis_pegawai",
        "asal": "asal_kasus",
        "jenis_pelanggaran": "jenis_pelanggaran",
        "tahap": "tahap_kasus",
        "sanksi": "sanksi",
    },
    "tindak_lanjut": {
        "forum": "forum",
        "bidang": "bidang",
        "instansi": "instansi",
        "status": "status_tindak_lanjut",
    },
}

# The natural key of a row within one submission (unique within a file).
ROW_KEYS: dict[str, tuple[str, ...]] = {
    "ringkasan": ("kode_kabkota",),
    "logistik": ("kode_desa", "barang"),
    "keamanan": ("kode_kecamatan",),
    "insiden": ("id_insiden",),
    "netralitas": ("id_kasus",),
    "tindak_lanjut": ("id_tindak_lanjut",),
}

# The columns that say which row this is (whose report, which village and item, which case). A
# finding about one of them removes the row (effect `row`); about any other column, a value
# that cannot be read removes only that value (`values`, docs/metrics.md "Rule effects").
IDENTITY: dict[str, frozenset[str]] = {
    kind: frozenset({"kode_kabkota", *keys}) for kind, keys in ROW_KEYS.items()
} | {"logistik": frozenset({"kode_kabkota", "kode_kecamatan", "kode_desa", "barang"})}

# Header aliases a desk's spreadsheet commonly carries, after normalisation (lower case, spaces
# and dashes to underscores). Documented in docs/submission-format.md.
ALIASES: dict[str, str] = {
    "kab_kota": "kode_kabkota",
    "kode_kab_kota": "kode_kabkota",
    "kode_kab": "kode_kabkota",
    "kd_kabkota": "kode_kabkota",
    "kecamatan": "kode_kecamatan",
    "kode_kec": "kode_kecamatan",
    "kd_kec": "kode_kecamatan",
    "desa": "kode_desa",
    "kode_kel": "kode_desa",
    "kode_desa_kelurahan": "kode_desa",
    "item": "barang",
    "jenis_barang": "barang",
    "logistik": "barang",
    "kebutuhan": "jumlah_kebutuhan",
    "jml_kebutuhan": "jumlah_kebutuhan",
    "di_kabkota": "diterima_kabkota",
    "gudang_kpu": "diterima_kabkota",
    "di_ppk": "diterima_ppk",
    "di_pps": "diterima_pps",
    "di_tps": "diterima_tps",
    "di_kpps": "diterima_tps",
    "diterima_kpps": "diterima_tps",
    "jml_tps": "jumlah_tps",
    "tps": "jumlah_tps",
    "rusak_kurang": "rusak",
    "barang_rusak": "rusak",
    "moda": "moda_angkut",
    "tanggal": "per_tanggal",
    "tgl": "per_tanggal",
    "keterangan": "catatan",
    "ket": "catatan",
    "polri": "personel_polri",
    "tni": "personel_tni",
    "linmas": "personel_linmas",
    "jumlah_posko": "posko",
    "kondisi_terkini": "narasi",
    "uraian": "narasi",
    "pelapor": "unit_pelapor",
    "id": "id_insiden",
    "waktu": "waktu_kejadian",
    "tanggal_kejadian": "waktu_kejadian",
    "meninggal": "korban_meninggal",
    "luka": "korban_luka",
    "luka_luka": "korban_luka",
    "kronologi": "ringkasan",
    "no_kasus": "id_kasus",
    "kode_subjek": "ref_subjek",
    "status_pegawai": "jenis_pegawai",
    "tgl_lapor": "tanggal_lapor",
    "sumber_kasus": "asal",
    "pelanggaran": "jenis_pelanggaran",
    "status_kasus": "tahap",
    "tgl_tahap": "tanggal_tahap",
    "id_tl": "id_tindak_lanjut",
    "no_tindak_lanjut": "id_tindak_lanjut",
    "tanggal_rapat": "tanggal_keputusan",
    "tgl_keputusan": "tanggal_keputusan",
    "rapat": "forum",
    "permasalahan": "isu",
    "masalah": "isu",
    "rencana_tindak_lanjut": "tindakan",
    "batas_waktu": "tenggat",
    "deadline": "tenggat",
    "status_tindak_lanjut": "status",
    "tgl_status": "tanggal_status",
}


def column_names(kind: str) -> list[str]:
    return [c.name for c in COLUMNS[kind]]

