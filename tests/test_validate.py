"""Validate: every rule of the GX suites, on clean batches and on batches that break one rule.

Each kind is validated as production does it: many files of one kind in one batch (the clean
file plus one broken file per case), so one GX run per kind covers every case; the findings of
each broken file are then compared with what its case expects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import polars as pl
import pytest

from tasks.contract.regions import desa_requirements, regions, tps_master
from tasks.contract.submission import COLUMNS, ENUM_COLUMNS, ENUMS, KINDS, ROW_KEYS
from tasks.ingest.validate import (
    FILE,
    ROW,
    _gx_context,
    load_suite,
    prepare,
    suite_document,
    validate_kind,
)
from tasks.resources import EXPECTATIONS_DIR, SQL_DIR
from tasks.weeks import previous_week, week_start

KAB = "6474"  # Kota Bontang: 3 kecamatan, 15 kelurahan (120 logistik rows)
WEEK = "2024-W47"
PREV = previous_week(WEEK)
_DTYPES = {"code": pl.String, "str": pl.String, "int": pl.Int64, "date": pl.Date,
           "datetime": pl.Datetime("us")}


def frame(kind: str, rows: list[dict], file_id: int = 1, kab: str = KAB,
          week: str = WEEK) -> pl.DataFrame:
    """A batch frame as `tasks.ingest.judge.judge` builds it from typed rows."""
    schema = {c.name: _DTYPES[c.type] for c in COLUMNS[kind]} | {ROW: pl.Int64}
    typed = pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)
    return typed.with_columns(
        pl.lit(file_id).alias(FILE),
        pl.lit(kab).alias("_expected_kabkota"),
        pl.lit(week).alias("_week"),
        pl.lit(week_start(week)).alias("_week_start"),
    )


# ---------------------------------------------------------------------------------------------
# clean batches

NEED = {(d, b): n for d, b, n in desa_requirements()
        .filter(pl.col("kabkota_code") == KAB)
        .select("desa_code", "barang", "jumlah_kebutuhan").iter_rows()}


def clean_logistik() -> list[dict]:
    req = desa_requirements().filter(pl.col("kabkota_code") == KAB)
    rows = []
    for i, r in enumerate(req.iter_rows(named=True)):
        need = r["jumlah_kebutuhan"]
        rows.append({
            ROW: i + 2, "kode_kabkota": KAB, "kode_kecamatan": r["kecamatan_code"],
            "kode_desa": r["desa_code"], "barang": r["barang"], "jumlah_kebutuhan": need,
            "diterima_kabkota": need, "diterima_ppk": need, "diterima_pps": need // 2,
            "diterima_tps": 0, "rusak": 0, "jumlah_tps": r["n_tps"], "tps_lengkap": 0,
            "moda_angkut": "darat", "per_tanggal": date(2024, 11, 20), "catatan": None,
        })
    return rows


def clean_keamanan() -> list[dict]:
    tps = (tps_master().filter(pl.col("kabkota_code") == KAB)
           .group_by("kecamatan_code").agg(n=pl.len()).sort("kecamatan_code"))
    return [
        {ROW: i + 2, "kode_kabkota": KAB, "kode_kecamatan": kec, "jumlah_tps": n,
         "tps_kurang_rawan": n - 3, "tps_rawan": 2, "tps_sangat_rawan": 1,
         "personel_polri": 2 * n, "personel_tni": n // 2, "personel_linmas": 2 * n, "posko": 3,
         "per_tanggal": date(2024, 11, 21)}
        for i, (kec, n) in enumerate(tps.iter_rows())
    ]


def clean_ringkasan() -> list[dict]:
    return [{ROW: 2, "kode_kabkota": KAB, "status_umum": "aman_terkendali",
             "narasi": "Distribusi logistik ke PPS selesai 90 %; situasi kamtibmas kondusif.",
             "unit_pelapor": "Desk Pilkada Kota Bontang", "per_tanggal": date(2024, 11, 22)}]


def clean_insiden() -> list[dict]:
    return [
        {ROW: 2, "kode_kabkota": KAB, "id_insiden": "INS-6474-001",
         "waktu_kejadian": datetime(2024, 11, 19, 14, 30), "kode_kecamatan": "647401",
         "kode_desa": None, "kategori": "hoaks", "tingkat": "rendah", "status": "ditangani",
         "korban_meninggal": 0, "korban_luka": 0, "ditangani_oleh": "Polres Bontang",
         "sumber": "laporan masyarakat", "ringkasan": "Kabar bohong soal TPS pindah."},
        {ROW: 3, "kode_kabkota": KAB, "id_insiden": "INS-6474-002",
         "waktu_kejadian": datetime(2024, 11, 20, 21, 0), "kode_kecamatan": "647402",
         "kode_desa": "6474021001", "kategori": "bentrokan_massa", "tingkat": "tinggi",
         "status": "proses_hukum", "korban_meninggal": 0, "korban_luka": 2,
         "ditangani_oleh": None, "sumber": None, "ringkasan": "Bentrokan pendukung."},
    ]


def clean_netralitas() -> list[dict]:
    return [
        {ROW: 2, "kode_kabkota": KAB, "id_kasus": "NET-6474-001", "ref_subjek": "SBJ-6474-7F3A",
         "jenis_pegawai": "pns", "instansi": "Dinas Pendidikan", "jabatan": None,
         "tanggal_lapor": date(2024, 11, 12), "asal": "temuan_bawaslu",
         "jenis_pelanggaran": "media_sosial", "tahap": "kajian_bawaslu",
         "tanggal_tahap": date(2024, 11, 19), "sanksi": None},
        {ROW: 3, "kode_kabkota": KAB, "id_kasus": "NET-6474-002", "ref_subjek": "SBJ-6474-0B1C",
         "jenis_pegawai": "honorer", "instansi": "Kelurahan Tanjung Laut", "jabatan": "Staf",
         "tanggal_lapor": date(2024, 10, 1), "asal": "laporan_masyarakat",
         "jenis_pelanggaran": "kampanye_terlibat", "tahap": "sanksi_dijatuhkan",
         "tanggal_tahap": date(2024, 11, 18), "sanksi": "moral_terbuka"},
    ]


def clean_tindak_lanjut() -> list[dict]:
    return [
        {ROW: 2, "kode_kabkota": KAB, "id_tindak_lanjut": "TL-6474-001",
         "tanggal_keputusan": date(2024, 11, 18), "forum": "desk_pilkada", "bidang": "logistik",
         "isu": "Kotak suara rusak di gudang", "tindakan": "Kirim kotak pengganti ke PPK",
         "instansi": "kpu", "tenggat": date(2024, 11, 22), "status": "berjalan",
         "tanggal_status": date(2024, 11, 21), "catatan": None},
        {ROW: 3, "kode_kabkota": KAB, "id_tindak_lanjut": "TL-6474-002",
         "tanggal_keputusan": date(2024, 11, 13), "forum": "rakor_forkopimda",
         "bidang": "keamanan", "isu": "TPS sangat rawan tanpa personel",
         "tindakan": "Tambah personel di TPS sangat rawan", "instansi": "polri",
         "tenggat": date(2024, 11, 25), "status": "selesai",
         "tanggal_status": date(2024, 11, 20), "catatan": "Tambahan 40 personel"},
    ]


CLEAN: dict[str, Callable[[], list[dict]]] = {
    "logistik": clean_logistik, "keamanan": clean_keamanan, "ringkasan": clean_ringkasan,
    "insiden": clean_insiden, "netralitas": clean_netralitas,
    "tindak_lanjut": clean_tindak_lanjut,
}


def _row_of(rows: list[dict], **match) -> int:
    (r,) = [r[ROW] for r in rows if all(r[k] == v for k, v in match.items())]
    return r


L_ROWS = clean_logistik()
R = _row_of(L_ROWS, kode_desa="6474011001", barang="kotak_suara")  # a plain item row
B = _row_of(L_ROWS, kode_desa="6474011001", barang="ss_gubernur")  # a ballot row
T = _row_of(L_ROWS, kode_desa="6474011001", barang="tinta")  # R's neighbour in the same desa


# ---------------------------------------------------------------------------------------------
# cases: one broken file each


@dataclass
class Case:
    id: str
    kind: str
    change: dict[int, dict] | Callable[[list[dict]], list[dict]]
    expect: set[tuple]  # (row, column, rule, severity) that must be reported
    also: set[tuple] = field(default_factory=set)  # further findings that are legitimate
    whole: set[tuple] = field(default_factory=set)  # (column, rule) findings about the file
    message: str | None = None  # a fragment every expected finding's message must contain

    def rows(self) -> list[dict]:
        rows = [dict(r) for r in CLEAN[self.kind]()]
        if callable(self.change):
            return self.change(rows)
        for r in rows:
            r.update(self.change.get(r[ROW], {}))
        return rows


def f(row, column, rule, severity="flag"):
    return (row, column, rule, severity)


def _drop(row: int) -> Callable[[list[dict]], list[dict]]:
    return lambda rows: [r for r in rows if r[ROW] != row]


def _non_null_columns(kind: str) -> list[str]:
    return [c.name for c in COLUMNS[kind] if not c.nullable]


def _wajib_cases() -> list[Case]:
    """Every non-nullable column left empty, with the knock-on findings that are legitimate."""
    knock_on = {
        ("logistik", "kode_kecamatan"): {f(R, "kode_kecamatan", "kode_kecamatan_valid")},
        ("logistik", "kode_desa"): {f(R, "kode_desa", "kode_desa_valid")},
        ("keamanan", "kode_kecamatan"): {f(2, "kode_kecamatan", "kode_kecamatan_valid")},
        ("insiden", "kode_kecamatan"): {f(2, "kode_kecamatan", "kode_kecamatan_valid")},
    }
    whole = {
        ("logistik", "kode_desa"): {("kode_desa", "lengkap")},
        ("logistik", "barang"): {("kode_desa", "lengkap")},
        ("keamanan", "kode_kecamatan"): {("kode_kecamatan", "lengkap")},
    }
    out = []
    for kind in KINDS:
        row = R if kind == "logistik" else 2
        for col in _non_null_columns(kind):
            out.append(Case(f"{kind}-wajib_diisi-{col}", kind, {row: {col: None}},
                            {f(row, col, "wajib_diisi")}, also=knock_on.get((kind, col), set()),
                            whole=whole.get((kind, col), set()), message="wajib diisi"))
    return out


def _negative_cases() -> list[Case]:
    out = []
    for kind, row, cols in [
        ("logistik", R, ["diterima_tps", "rusak", "tps_lengkap"]),
        ("keamanan", 2, ["personel_polri", "personel_tni", "personel_linmas", "posko"]),
        ("insiden", 3, ["korban_meninggal"]),
    ]:
        for col in cols:
            out.append(Case(f"{kind}-tidak_negatif-{col}", kind, {row: {col: -1}},
                            {f(row, col, "tidak_negatif")}, message="nilai -1 tidak boleh negatif"))
    return out


def _pilihan_cases() -> list[Case]:
    out = []
    for kind, cols in ENUM_COLUMNS.items():
        for col in cols:
            if col == "jenis_pegawai":
                continue  # other values are recorded on purpose (outside the ASN totals)
            row = R if kind == "logistik" else 2
            change = {row: {col: "tidak_ada_ini"}}
            whole = set()
            if col == "barang":
                whole = {("kode_desa", "lengkap")}
            if col == "sanksi":
                change = {3: {col: "tidak_ada_ini"}}  # the row whose tahap needs a sanksi
                row = 3
            out.append(Case(f"{kind}-pilihan_{col}", kind, change,
                            {f(row, col, f"pilihan_{col}")}, whole=whole,
                            message="nilai 'tidak_ada_ini' tidak dikenal; pilihan yang sah:"))
    return out


LOGISTIK_CASES = [
    Case("kabkota_lain", "logistik", {R: {"kode_kabkota": "6472"}},
         {f(R, "kode_kabkota", "kabkota_sesuai_folder", "reject")}, message="'6472'"),
    Case("kecamatan_kabkota_lain", "logistik", {R: {"kode_kecamatan": "647201"}},
         {f(R, "kode_kecamatan", "kode_kecamatan_valid"), f(R, "kode_desa", "kode_desa_valid")},
         message="tidak ada di"),
    Case("kecamatan_tidak_ada", "logistik", {R: {"kode_kecamatan": "647499"}},
         {f(R, "kode_kecamatan", "kode_kecamatan_valid"), f(R, "kode_desa", "kode_desa_valid")}),
    Case("desa_tidak_ada", "logistik", {R: {"kode_desa": "6474019999"}},
         {f(R, "kode_desa", "kode_desa_valid")}, whole={("kode_desa", "lengkap")},
         message="'6474019999' tidak ada di kecamatan ini"),
    Case("desa_kecamatan_lain", "logistik", {R: {"kode_desa": "6474021001"}},
         {f(R, "kode_desa", "kode_desa_valid")},
         also={f(R, "kode_desa", "baris_unik"),
               f(_row_of(L_ROWS, kode_desa="6474021001", barang="kotak_suara"), "kode_desa",
                 "baris_unik")},
         whole={("kode_desa", "lengkap")}),
    Case("baris_ganda", "logistik", {R: {"barang": "tinta"}},
         {f(R, "kode_desa", "baris_unik"), f(T, "kode_desa", "baris_unik")},
         whole={("kode_desa", "lengkap")}, message="lebih dari sekali"),
    Case("urutan_kabkota_ppk", "logistik", {R: {"diterima_ppk": NEED[("6474011001",
                                                                      "kotak_suara")] + 1}},
         {f(R, "diterima_ppk", "urutan_tahap")}),
    Case("urutan_ppk_pps", "logistik", {R: {"diterima_pps": NEED[("6474011001",
                                                                  "kotak_suara")] + 1}},
         {f(R, "diterima_pps", "urutan_tahap")}),
    Case("urutan_pps_tps", "logistik", {R: {"diterima_tps": NEED[("6474011001",
                                                                  "kotak_suara")] // 2 + 1}},
         {f(R, "diterima_tps", "urutan_tahap")}),
    Case("rusak_lebih_dari_diterima", "logistik",
         {R: {"rusak": NEED[("6474011001", "kotak_suara")] + 1}},
         {f(R, "rusak", "rusak_wajar")}),
    Case("tps_lengkap_lebih", "logistik", {R: {"tps_lengkap": L_ROWS[R - 2]["jumlah_tps"] + 1}},
         {f(R, "tps_lengkap", "tps_lengkap_wajar")}),
    Case("surat_suara_kurang", "logistik",
         {B: {"jumlah_kebutuhan": NEED[("6474011001", "ss_gubernur")] - 1}},
         {f(B, "jumlah_kebutuhan", "cadangan_surat_suara")},
         message=f"({NEED[('6474011001', 'ss_gubernur')]})"),
    Case("barang_lain_boleh_kecil", "logistik", {R: {"jumlah_kebutuhan": 1}}, set()),
    Case("tanggal_lama", "logistik", {R: {"per_tanggal": date(2024, 11, 10)}},
         {f(R, "per_tanggal", "tanggal_wajar")}, message="2024-11-10"),
    Case("tanggal_depan", "logistik", {R: {"per_tanggal": date(2024, 12, 2)}},
         {f(R, "per_tanggal", "tanggal_wajar")}),
    Case("tanggal_batas", "logistik",
         {R: {"per_tanggal": date(2024, 11, 11)}, T: {"per_tanggal": date(2024, 12, 1)}},
         set()),
    Case("satu_desa_hilang", "logistik", _drop(R), set(), whole={("kode_desa", "lengkap")},
         message="desa/kelurahan 6474011001 (Bontang Kuala) barang kotak_suara tidak dilaporkan"),
]

KEAMANAN_CASES = [
    Case("kabkota_lain", "keamanan", {3: {"kode_kabkota": "6401"}},
         {f(3, "kode_kabkota", "kabkota_sesuai_folder", "reject")}),
    Case("kecamatan_kabkota_lain", "keamanan", {3: {"kode_kecamatan": "647201"}},
         {f(3, "kode_kecamatan", "kode_kecamatan_valid")},
         whole={("kode_kecamatan", "lengkap")}, message="'647201'"),
    Case("kecamatan_ganda", "keamanan", {3: {"kode_kecamatan": "647401"}},
         {f(2, "kode_kecamatan", "baris_unik"), f(3, "kode_kecamatan", "baris_unik")},
         whole={("kode_kecamatan", "lengkap")}),
    Case("kelas_tidak_sama", "keamanan", {4: {"tps_rawan": 3}},
         {f(4, "jumlah_tps", "kelas_tps_sama_dengan_jumlah")}),
    Case("kelas_negatif", "keamanan", {4: {"tps_rawan": -1, "tps_kurang_rawan":
                                           clean_keamanan()[2]["tps_kurang_rawan"] + 3}},
         {f(4, "tps_rawan", "tidak_negatif")}),
    Case("tanggal_depan", "keamanan", {2: {"per_tanggal": date(2024, 12, 5)}},
         {f(2, "per_tanggal", "tanggal_wajar")}),
    Case("kecamatan_hilang", "keamanan", _drop(3), set(),
         whole={("kode_kecamatan", "lengkap")}, message="kecamatan 647402 (Bontang Selatan)"),
]

RINGKASAN_CASES = [
    Case("kabkota_lain", "ringkasan", {2: {"kode_kabkota": "6472"}},
         {f(2, "kode_kabkota", "kabkota_sesuai_folder", "reject")}),
    Case("narasi_terlalu_panjang", "ringkasan", {2: {"narasi": "x" * 2001}},
         {f(2, "narasi", "panjang_narasi")}, message="2.000 karakter"),
    Case("narasi_pas", "ringkasan", {2: {"narasi": "x" * 2000}}, set()),
    Case("dua_baris", "ringkasan", lambda rows: [*rows, {**rows[0], ROW: 3}],
         {f(2, "kode_kabkota", "satu_baris", "reject"),
          f(3, "kode_kabkota", "satu_baris", "reject")}, message="satu baris"),
    Case("tanggal_lama", "ringkasan", {2: {"per_tanggal": date(2024, 9, 1)}},
         {f(2, "per_tanggal", "tanggal_wajar")}),
]

INSIDEN_CASES = [
    Case("kabkota_lain", "insiden", {2: {"kode_kabkota": "6472"}},
         {f(2, "kode_kabkota", "kabkota_sesuai_folder", "reject")}),
    Case("kecamatan_kabkota_lain", "insiden", {2: {"kode_kecamatan": "647201"}},
         {f(2, "kode_kecamatan", "kode_kecamatan_valid")}),
    Case("desa_kecamatan_lain", "insiden", {3: {"kode_desa": "6474011001"}},
         {f(3, "kode_desa", "kode_desa_valid")}, message="'6474011001'"),
    Case("desa_tidak_ada", "insiden", {3: {"kode_desa": "6474029999"}},
         {f(3, "kode_desa", "kode_desa_valid")}),
    Case("id_ganda", "insiden", {3: {"id_insiden": "INS-6474-001"}},
         {f(2, "id_insiden", "id_unik"), f(3, "id_insiden", "id_unik")},
         message="'INS-6474-001' muncul lebih dari sekali"),
    Case("korban_tingkat_sedang", "insiden", {2: {"korban_meninggal": 1, "tingkat": "sedang"}},
         {f(2, "tingkat", "korban_berarti_tinggi")}, message="(tertulis 'sedang')"),
    Case("luka_negatif", "insiden", {3: {"korban_luka": -1}},
         {f(3, "korban_luka", "tidak_negatif")}),
    Case("kejadian_setelah_minggu", "insiden",
         {2: {"waktu_kejadian": datetime(2024, 12, 2, 8, 0)}},
         {f(2, "waktu_kejadian", "tanggal_wajar")}, message="2024-12-02 08:00"),
    Case("kejadian_terlalu_lama", "insiden",
         {2: {"waktu_kejadian": datetime(2024, 5, 1, 8, 0)}},
         {f(2, "waktu_kejadian", "tanggal_wajar")}),
]

NETRALITAS_CASES = [
    Case("kabkota_lain", "netralitas", {2: {"kode_kabkota": "6472"}},
         {f(2, "kode_kabkota", "kabkota_sesuai_folder", "reject")}),
    Case("id_ganda", "netralitas", {3: {"id_kasus": "NET-6474-001"}},
         {f(2, "id_kasus", "id_unik"), f(3, "id_kasus", "id_unik")}),
    Case("nip", "netralitas", {2: {"ref_subjek": "199001012015031001"}},
         {f(2, "ref_subjek", "bukan_nip")}, message="NIP"),
    Case("nip_di_dalam_kode", "netralitas", {2: {"ref_subjek": "SBJ-199001012015031001"}},
         {f(2, "ref_subjek", "bukan_nip")}),
    Case("nama", "netralitas", {2: {"ref_subjek": "Budi Santoso"}},
         {f(2, "ref_subjek", "bukan_nama")}, message="nama (nilainya tidak disimpan)"),
    Case("nama_tanpa_spasi", "netralitas", {2: {"ref_subjek": "BudiSantoso"}},
         {f(2, "ref_subjek", "bukan_nama")}),
    Case("sanksi_terlalu_dini", "netralitas", {2: {"sanksi": "disiplin_ringan"}},
         {f(2, "sanksi", "sanksi_sesuai_tahap")}),
    Case("sanksi_tidak_diisi", "netralitas", {3: {"sanksi": None}},
         {f(3, "sanksi", "sanksi_sesuai_tahap")}),
    Case("tahap_sebelum_lapor", "netralitas", {2: {"tanggal_tahap": date(2024, 11, 11)}},
         {f(2, "tanggal_tahap", "urutan_tanggal")}, message="2024-11-12"),
    Case("lapor_di_masa_depan", "netralitas",
         {2: {"tanggal_lapor": date(2024, 11, 26), "tanggal_tahap": date(2024, 11, 28)}},
         {f(2, "tanggal_lapor", "tanggal_wajar")}),
    Case("tahap_di_masa_depan", "netralitas", {2: {"tanggal_tahap": date(2024, 12, 5)}},
         {f(2, "tanggal_tahap", "tanggal_wajar")}),
    Case("lapor_terlalu_lama", "netralitas",
         {2: {"tanggal_lapor": date(2023, 11, 1)}},
         {f(2, "tanggal_lapor", "tanggal_wajar")}),
]

TINDAK_LANJUT_CASES = [
    Case("kabkota_lain", "tindak_lanjut", {2: {"kode_kabkota": "6472"}},
         {f(2, "kode_kabkota", "kabkota_sesuai_folder", "reject")}, message="'6472'"),
    Case("provinsi_dari_kabkota", "tindak_lanjut", {2: {"kode_kabkota": "64"}},
         {f(2, "kode_kabkota", "kabkota_sesuai_folder", "reject")}),
    Case("id_ganda", "tindak_lanjut", {3: {"id_tindak_lanjut": "TL-6474-001"}},
         {f(2, "id_tindak_lanjut", "id_unik"), f(3, "id_tindak_lanjut", "id_unik")},
         message="'TL-6474-001' muncul lebih dari sekali"),
    Case("instansi_tidak_dikenal", "tindak_lanjut", {2: {"instansi": "Kodim 0908"}},
         {f(2, "instansi", "pilihan_instansi")},
         message="nilai 'Kodim 0908' tidak dikenal; pilihan yang sah: bawaslu, bpbd"),
    Case("tenggat_sebelum_keputusan", "tindak_lanjut", {2: {"tenggat": date(2024, 11, 17)}},
         {f(2, "tenggat", "tenggat_setelah_keputusan")},
         message="tenggat 2024-11-17 lebih awal dari tanggal_keputusan 2024-11-18"),
    Case("tenggat_sama_dengan_keputusan", "tindak_lanjut", {2: {"tenggat": date(2024, 11, 18)}},
         set()),
    Case("status_sebelum_keputusan", "tindak_lanjut",
         {3: {"tanggal_status": date(2024, 11, 12)}},
         {f(3, "tanggal_status", "urutan_tanggal")}),
    Case("keputusan_di_masa_depan", "tindak_lanjut",
         {2: {"tanggal_keputusan": date(2024, 11, 26), "tenggat": date(2024, 11, 28),
              "tanggal_status": date(2024, 11, 26)}},
         {f(2, "tanggal_keputusan", "tanggal_wajar"), f(2, "tanggal_status", "tanggal_wajar")}),
    Case("tenggat_tahun_depan", "tindak_lanjut", {2: {"tenggat": date(2026, 1, 5)}},
         {f(2, "tenggat", "tanggal_wajar")}),
    Case("keputusan_senin_berikutnya_boleh", "tindak_lanjut",
         {2: {"tanggal_keputusan": date(2024, 11, 25), "tenggat": date(2024, 11, 27),
              "tanggal_status": date(2024, 11, 25)}}, set()),
]

CASES = [*LOGISTIK_CASES, *KEAMANAN_CASES, *RINGKASAN_CASES, *INSIDEN_CASES,
         *NETRALITAS_CASES, *TINDAK_LANJUT_CASES, *_wajib_cases(), *_negative_cases(),
         *_pilihan_cases()]


def _empties_a_date(case: Case) -> bool:
    dates = {c.name for c in COLUMNS[case.kind] if c.type in ("date", "datetime")}
    return isinstance(case.change, dict) and any(
        v is None and k in dates for change in case.change.values() for k, v in change.items())


# A row with an empty date is validated on its own (see test_empty_date_cell_is_flagged), so
# that the batch of the other cases of its kind does not depend on it.
BATCH_CASES = [c for c in CASES if not _empties_a_date(c)]
EMPTY_DATE_CASES = [c for c in CASES if _empties_a_date(c)]


def _check_case(case: Case, findings) -> None:
    rows = {(x.row, x.column, x.rule, x.severity) for x in findings if x.row is not None}
    whole = {(x.column, x.rule) for x in findings if x.row is None}
    missing = case.expect - rows
    assert not missing, f"expected finding(s) not reported: {missing}; got {rows}"
    extra = rows - case.expect - case.also
    assert not extra, f"unexpected finding(s): {extra}"
    assert whole == case.whole
    if case.message:  # about the row findings expected, or else the whole-file ones
        checked = [x for x in findings if (x.row, x.column, x.rule, x.severity) in case.expect]
        checked = checked or [x for x in findings if x.row is None]
        assert checked
        for x in checked:
            assert case.message in x.message, (x.rule, x.message)
    for x in findings:
        assert x.message and "{" not in x.message, x.message  # every placeholder was filled


@pytest.mark.parametrize("kind", KINDS)
def test_kind_cases(kind, warehouse, subtests):
    """One batch per kind: the clean file (id 1) and one broken file per case (id 2, 3, …)."""
    cases = [c for c in BATCH_CASES if c.kind == kind]
    assert cases
    frames = [frame(kind, CLEAN[kind]())]
    frames += [frame(kind, c.rows(), file_id=i) for i, c in enumerate(cases, start=2)]
    findings = validate_kind(warehouse, kind, pl.concat(frames, how="vertical_relaxed"))
    by_file: dict[int, list] = {}
    for x in findings:
        by_file.setdefault(x.file_id, []).append(x)
    assert by_file.get(1, []) == [], "the clean file must pass every rule"
    for i, case in enumerate(cases, start=2):
        with subtests.test(case=case.id):
            _check_case(case, by_file.get(i, []))


@pytest.mark.parametrize("case", EMPTY_DATE_CASES, ids=lambda c: c.id)
def test_empty_date_cell_is_flagged(case, warehouse):
    """An empty (or unreadable, hence empty) date is a wajib_diisi flag on its row, like any
    other empty required cell, and must not stop the validation of the whole batch."""
    batch = pl.concat([frame(case.kind, CLEAN[case.kind]()),
                       frame(case.kind, case.rows(), file_id=2)], how="vertical_relaxed")
    findings = validate_kind(warehouse, case.kind, batch)
    assert [x for x in findings if x.file_id == 1] == []
    _check_case(case, [x for x in findings if x.file_id == 2])


def test_empty_date_cases_exist():
    assert {c.kind for c in EMPTY_DATE_CASES} == set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_clean_batch_alone_yields_no_findings(kind, warehouse):
    assert validate_kind(warehouse, kind, frame(kind, CLEAN[kind]())) == []


def test_every_rule_of_every_suite_is_exercised():
    covered = {(c.kind, rule) for c in CASES for rule in {e[2] for e in c.expect}}
    covered |= {(c.kind, rule) for c in CASES for _, rule in c.whole}
    cross_week = {("logistik", "kumulatif_tidak_turun"), ("insiden", "status_tidak_mundur"),
                  ("netralitas", "tahap_tidak_mundur"),
                  ("tindak_lanjut", "status_tidak_mundur")}  # tested below with a history
    for kind in KINDS:
        for e in suite_document(kind)["expectations"]:
            key = (kind, e["meta"]["rule"])
            assert key in covered or key in cross_week, f"no case breaks {key}"


def test_findings_of_a_file_sent_to_the_wrong_folder_reject_every_row(warehouse):
    """A 6474 file dropped in 6472/: every row is judged against 6472 (reject severity)."""
    batch = frame("keamanan", clean_keamanan(), kab="6472")
    findings = validate_kind(warehouse, "keamanan", batch)
    rejects = {(x.row, x.rule) for x in findings if x.severity == "reject"}
    assert rejects == {(2, "kabkota_sesuai_folder"), (3, "kabkota_sesuai_folder"),
                       (4, "kabkota_sesuai_folder")}
    assert all("'6474'" in x.message for x in findings if x.rule == "kabkota_sesuai_folder")


# ---------------------------------------------------------------------------------------------
# cross-week rules, against a history seeded in core


def seed(con, kind: str, week: str, rows: list[dict], kab: str = KAB) -> int:
    """Record an accepted file of `week` with `rows` as the current version in the warehouse."""
    (file_id,) = con.execute(
        "INSERT INTO raw.file (file_id, source_path, file_name, sha256, size_bytes, received_at, "
        "ingested_at, archive_path, kabkota_code, kind, week, file_format) VALUES "
        "(nextval('raw.file_id_seq'), ?, ?, ?, 1, now(), now(), '-', ?, ?, ?, 'csv') "
        "RETURNING file_id",
        [f"{kab}/{kab}_{kind}_{week}.csv", f"{kab}_{kind}_{week}.csv", f"sha-{kind}-{week}",
         kab, kind, week]).fetchone()
    con.execute("INSERT INTO audit.submission (file_id, verdict, version) "
                "VALUES (?, 'accepted', 1)", [file_id])
    typed = frame(kind, rows).select([c.name for c in COLUMNS[kind]] + [ROW])
    staged = typed.rename({ROW: "row_number"}).with_columns(
        pl.lit(file_id).alias("file_id"), pl.lit(False).alias("flagged"))
    con.register("seeded", staged.to_arrow())
    con.execute(f"INSERT INTO core.{kind} BY NAME SELECT * FROM seeded")
    con.unregister("seeded")
    return file_id


def test_cumulative_logistik_may_not_fall_without_a_note(warehouse):
    previous = clean_logistik()
    previous[R - 2]["diterima_kabkota"] += 5
    previous[B - 2]["diterima_tps"] = 3  # this week the clean file says 0 for it
    seed(warehouse, "logistik", PREV, previous)
    silent = frame("logistik", clean_logistik(), file_id=1)
    noted = clean_logistik()
    noted[R - 2]["catatan"] = "koreksi: 5 kotak salah hitung minggu lalu"
    noted[B - 2]["catatan"] = "koreksi data TPS"
    batch = pl.concat([silent, frame("logistik", noted, file_id=2)], how="vertical_relaxed")
    findings = validate_kind(warehouse, "logistik", batch)
    assert {(x.file_id, x.row, x.column, x.rule) for x in findings} == {
        (1, R, "diterima_kabkota", "kumulatif_tidak_turun"),
        (1, B, "diterima_kabkota", "kumulatif_tidak_turun"),
    }
    assert all("catatan" in x.message for x in findings)


def test_cumulative_rule_only_looks_at_the_week_before(warehouse):
    older = clean_logistik()
    older[R - 2]["diterima_kabkota"] += 5
    seed(warehouse, "logistik", previous_week(PREV), older)
    assert validate_kind(warehouse, "logistik", frame("logistik", clean_logistik())) == []


def test_incident_status_may_not_move_backwards(warehouse):
    before = clean_insiden()
    before[0]["status"] = "selesai"  # INS-6474-001 was closed last week
    seed(warehouse, "insiden", PREV, before)
    now = frame("insiden", clean_insiden())  # ... and is 'ditangani' again now
    findings = validate_kind(warehouse, "insiden", now)
    assert [(x.row, x.column, x.rule) for x in findings] == [(2, "status",
                                                            "status_tidak_mundur")]
    assert "'ditangani' mundur" in findings[0].message


def test_netralitas_stage_may_not_move_backwards(warehouse):
    before = clean_netralitas()
    before[0]["tahap"] = "rekomendasi_ke_bkn"
    seed(warehouse, "netralitas", PREV, before)
    findings = validate_kind(warehouse, "netralitas", frame("netralitas", clean_netralitas()))
    assert [(x.row, x.column, x.rule) for x in findings] == [(2, "tahap", "tahap_tidak_mundur")]


def test_follow_up_status_may_not_move_backwards_without_a_note(warehouse):
    before = clean_tindak_lanjut()
    before[0]["status"] = "selesai"  # TL-6474-001 was reported done last week
    seed(warehouse, "tindak_lanjut", PREV, before)
    silent = clean_tindak_lanjut()  # ... and is 'berjalan' again now, without a word
    noted = clean_tindak_lanjut()
    noted[0]["catatan"] = "dibuka kembali: kotak pengganti ternyata rusak juga"
    batch = pl.concat([frame("tindak_lanjut", silent, file_id=1),
                       frame("tindak_lanjut", noted, file_id=2)], how="vertical_relaxed")
    findings = validate_kind(warehouse, "tindak_lanjut", batch)
    assert [(x.file_id, x.row, x.column, x.rule) for x in findings] == [
        (1, 2, "status", "status_tidak_mundur")]
    assert "'berjalan' mundur dibanding laporan sebelumnya ('selesai')" in findings[0].message


def test_follow_up_status_compares_with_the_latest_report_only(warehouse):
    """Reopened with a note last week: staying open this week is not 'moving backwards'."""
    done = clean_tindak_lanjut()
    done[0]["status"] = "selesai"
    seed(warehouse, "tindak_lanjut", previous_week(PREV), done)
    reopened = clean_tindak_lanjut()
    reopened[0]["catatan"] = "dibuka kembali"
    seed(warehouse, "tindak_lanjut", PREV, reopened)
    assert validate_kind(warehouse, "tindak_lanjut",
                         frame("tindak_lanjut", clean_tindak_lanjut())) == []


def test_an_open_follow_up_dropped_from_the_next_report_is_noted(warehouse):
    earlier = clean_tindak_lanjut()
    earlier.append({**earlier[0], ROW: 4, "id_tindak_lanjut": "TL-6474-003",
                    "tindakan": "Sewa perahu untuk distribusi", "status": "terkendala"})
    earlier.append({**earlier[0], ROW: 5, "id_tindak_lanjut": "TL-6474-004",
                    "status": "dibatalkan"})
    seed(warehouse, "tindak_lanjut", PREV, earlier)
    findings = validate_kind(warehouse, "tindak_lanjut",
                             frame("tindak_lanjut", clean_tindak_lanjut()))
    assert [(x.row, x.column, x.rule, x.severity) for x in findings] == [
        (None, "id_tindak_lanjut", "tindak_lanjut_hilang", "flag")]  # 004 was closed: fine
    assert findings[0].message.startswith("Hilang: tindak lanjut TL-6474-003 (\"Sewa perahu")
    assert f"terkendala pada laporan {PREV}" in findings[0].message


def test_the_provincial_desk_may_name_any_kabkota_of_its_province(warehouse):
    rows = clean_tindak_lanjut()
    rows[0]["kode_kabkota"] = "6411"  # Mahakam Ulu, from the province's desk
    rows[1]["kode_kabkota"] = "64"  # the whole province
    other = [dict(r) for r in clean_tindak_lanjut()]
    other[0]["kode_kabkota"] = "6301"  # a kab/kota of another province
    batch = pl.concat([frame("tindak_lanjut", rows, kab="64"),
                       frame("tindak_lanjut", other, file_id=2, kab="64")],
                      how="vertical_relaxed")
    findings = validate_kind(warehouse, "tindak_lanjut", batch)
    assert [(x.file_id, x.row, x.rule, x.severity) for x in findings] == [
        (2, 2, "kabkota_sesuai_folder", "reject")]


@pytest.mark.parametrize("kind", ["insiden", "netralitas", "tindak_lanjut"])
def test_cases_reported_in_several_earlier_weeks_are_not_duplicates(kind, warehouse):
    """Incidents and ASN cases are reported again every week while they run. A history of two
    earlier weeks must not multiply this week's rows, make them look repeated (id_unik) or
    make them go backwards."""
    for week in (previous_week(PREV), PREV):
        seed(warehouse, kind, week, CLEAN[kind]())
    batch = frame(kind, CLEAN[kind]())
    findings = validate_kind(warehouse, kind, batch)
    assert [(x.row, x.rule, x.message) for x in findings] == []
    assert prepare(warehouse, kind, batch).height == batch.height


# ---------------------------------------------------------------------------------------------
# the suites themselves


def _suite_columns(e: dict) -> list[str]:
    kw = e["kwargs"]
    cols = [kw[k] for k in ("column", "column_A", "column_B") if k in kw]
    return cols + list(kw.get("column_list", []))


@pytest.mark.parametrize("kind", KINDS)
def test_suite_names_only_contract_or_derived_columns(kind, warehouse):
    derived = set(prepare(warehouse, kind, frame(kind, CLEAN[kind]())).columns)
    derived_sql = set(re.findall(r"\bAS (_\w+)", (SQL_DIR / "validate" / f"{kind}.sql")
                                 .read_text(encoding="utf-8")))
    contract = {c.name for c in COLUMNS[kind]}
    doc = json.loads((EXPECTATIONS_DIR / f"{kind}.json").read_text(encoding="utf-8"))
    assert doc["name"] == kind
    for e in doc["expectations"]:
        for col in _suite_columns(e):
            if col.startswith("_"):
                assert col in derived, (kind, col)
                assert col in derived_sql or col in {FILE, ROW}, (kind, col)
            else:
                assert col in contract, (kind, col)
        meta = e["meta"]
        assert meta.get("rule") and meta.get("message"), e
        assert meta.get("severity") in {"reject", "flag"}, e
        if "column" in meta:
            assert meta["column"] in contract, (kind, meta)


@pytest.mark.parametrize("kind", KINDS)
def test_enumerations_in_suites_match_the_contract(kind):
    doc = suite_document(kind)
    sets = {e["kwargs"]["column"]: set(e["kwargs"]["value_set"]) for e in doc["expectations"]
            if e["type"] == "expect_column_values_to_be_in_set"
            and not e["kwargs"]["column"].startswith("_")}
    for col, enum in ENUM_COLUMNS[kind].items():
        if col == "jenis_pegawai":
            assert col not in sets  # recorded as sent; only pns/pppk count as ASN
            continue
        assert sets[col] == set(ENUMS[enum]), (kind, col)


@pytest.mark.parametrize("kind", KINDS)
def test_enumerations_are_written_only_in_the_contract(kind):
    """The suite files name an enumeration instead of copying its values (one place to extend
    the agencies, categories, stages…)."""
    raw = json.loads((EXPECTATIONS_DIR / f"{kind}.json").read_text(encoding="utf-8"))
    for e in raw["expectations"]:
        column = e["kwargs"].get("column")
        if column in ENUM_COLUMNS[kind] and e["type"] == "expect_column_values_to_be_in_set":
            assert e["kwargs"]["value_set"] == {"enum": ENUM_COLUMNS[kind][column]}, column
            assert "{pilihan}" in e["meta"]["message"], column


@pytest.mark.parametrize("kind", KINDS)
def test_every_required_column_has_a_wajib_diisi_rule(kind):
    rules = {(e["meta"]["rule"], e["kwargs"].get("column"))
             for e in suite_document(kind)["expectations"]}
    for col in _non_null_columns(kind):
        assert ("wajib_diisi", col) in rules, (kind, col)
    assert set(ROW_KEYS[kind]) <= {c.name for c in COLUMNS[kind]}


@pytest.mark.parametrize("kind", KINDS)
def test_configurations_built_once_leave_gx_results_as_they_were(kind, warehouse, monkeypatch):
    """`_building_once` (each expectation's configuration built once per validation) must give
    exactly GX's own results: on the batch that breaks every rule of the kind, both passes
    (BASIC, then COMPLETE for what failed) compared as documents, with far fewer builds."""
    from contextlib import nullcontext

    from great_expectations.expectations.expectation import Expectation

    import tasks.ingest.validate as validate

    cases = [c for c in BATCH_CASES if c.kind == kind]
    frames = [frame(kind, CLEAN[kind]())]
    frames += [frame(kind, c.rows(), file_id=i) for i, c in enumerate(cases, start=2)]
    pdf = prepare(warehouse, kind, pl.concat(frames, how="vertical_relaxed")).to_pandas()
    batch = validate._batch_definition(kind).get_batch(batch_parameters={"dataframe": pdf})
    builds = 0
    dump = Expectation.dict

    def counted(self, *args, **kwargs):
        nonlocal builds
        builds += 1
        return dump(self, *args, **kwargs)

    monkeypatch.setattr(Expectation, "dict", counted)
    once = validate._validated(kind, batch)
    once_builds, builds = builds, 0
    monkeypatch.setattr(validate, "_building_once", nullcontext)
    shipped = validate._validated(kind, batch)
    assert not once.success
    # (the documents' meta differ only in GX's batch load time)
    for part in ("success", "statistics", "results"):
        assert once.to_json_dict()[part] == shipped.to_json_dict()[part], part
    assert once_builds * 3 < builds, (once_builds, builds)


@pytest.mark.parametrize("kind", KINDS)
def test_every_suite_loads_into_an_ephemeral_gx_context(kind):
    ctx = _gx_context()
    suite = load_suite(kind)
    doc = suite_document(kind)
    stored = ctx.suites.add_or_update(suite)
    assert stored.name == kind
    assert ctx.suites.get(kind).name == kind
    assert len(stored.expectations) == len(doc["expectations"])
    assert [e.expectation_type for e in stored.expectations] == [
        e["type"] for e in doc["expectations"]]
    assert [e.meta["rule"] for e in stored.expectations] == [
        e["meta"]["rule"] for e in doc["expectations"]]


def test_policy_document():
    from tasks.ingest.validate import policy

    p = policy()
    assert p["reject_if_flagged_share_above"] == 0.5
    assert set(p["reject_if_empty"]) <= set(KINDS)


def test_week_window_in_clean_batches_is_really_inside_the_week():
    # guard for the fixtures themselves: clean dates fall in the reporting week's window
    ws = week_start(WEEK)
    for kind, make in CLEAN.items():
        for r in make():
            for c in COLUMNS[kind]:
                v = r.get(c.name)
                if c.type == "date" and v is not None and c.name == "per_tanggal":
                    assert ws - timedelta(days=7) <= v <= ws + timedelta(days=13)
    assert set(regions()["kecamatan"].filter(pl.col("kabkota_code") == KAB)["kecamatan_code"]
               ) == {"647401", "647402", "647403"}
