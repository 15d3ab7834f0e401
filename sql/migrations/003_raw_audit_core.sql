-- Every file ever received, its verdict, row findings, and the typed rows keyed by submission.
CREATE SEQUENCE IF NOT EXISTS raw.file_id_seq START 1;

CREATE TABLE IF NOT EXISTS raw.file (
    file_id       BIGINT PRIMARY KEY,
    source_path   VARCHAR NOT NULL,
    file_name     VARCHAR NOT NULL,
    sha256        VARCHAR NOT NULL,
    size_bytes    BIGINT NOT NULL,
    source_mtime  TIMESTAMPTZ,         -- as listed by the inbox; with path and size: 'seen'
    received_at   TIMESTAMPTZ NOT NULL,
    ingested_at   TIMESTAMPTZ NOT NULL,
    archive_path  VARCHAR NOT NULL,
    kabkota_code  VARCHAR,
    kind          VARCHAR,
    week          VARCHAR,
    file_format   VARCHAR
);

CREATE TABLE IF NOT EXISTS audit.submission (
    file_id        BIGINT PRIMARY KEY,
    verdict        VARCHAR NOT NULL,   -- accepted | accepted_with_flags | rejected | duplicate
    reason         VARCHAR NOT NULL DEFAULT '',
    version        INTEGER,            -- 1, 2, … among non-duplicate files of kab/kota, kind, week
    is_late        BOOLEAN NOT NULL DEFAULT false,
    rows_total     INTEGER NOT NULL DEFAULT 0,
    rows_flagged   INTEGER NOT NULL DEFAULT 0,
    duplicate_of   BIGINT,
    superseded_by  BIGINT,
    run_id         VARCHAR
);

CREATE TABLE IF NOT EXISTS audit.row_issue (
    file_id    BIGINT NOT NULL,
    sha256     VARCHAR NOT NULL,
    row_number INTEGER,               -- as the desk sees it in the spreadsheet; NULL = whole file
    "column"   VARCHAR,
    rule       VARCHAR NOT NULL,
    severity   VARCHAR NOT NULL,      -- reject | flag
    message    VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS core.ringkasan (
    file_id BIGINT NOT NULL, row_number INTEGER NOT NULL, flagged BOOLEAN NOT NULL,
    kode_kabkota VARCHAR, status_umum VARCHAR, narasi VARCHAR, unit_pelapor VARCHAR,
    per_tanggal DATE
);
CREATE TABLE IF NOT EXISTS core.logistik (
    file_id BIGINT NOT NULL, row_number INTEGER NOT NULL, flagged BOOLEAN NOT NULL,
    kode_kabkota VARCHAR, kode_kecamatan VARCHAR, kode_desa VARCHAR, barang VARCHAR,
    jumlah_kebutuhan BIGINT, diterima_kabkota BIGINT, diterima_ppk BIGINT, diterima_pps BIGINT,
    diterima_tps BIGINT, rusak BIGINT, jumlah_tps BIGINT, tps_lengkap BIGINT,
    moda_angkut VARCHAR, per_tanggal DATE, catatan VARCHAR
);
CREATE TABLE IF NOT EXISTS core.keamanan (
    file_id BIGINT NOT NULL, row_number INTEGER NOT NULL, flagged BOOLEAN NOT NULL,
    kode_kabkota VARCHAR, kode_kecamatan VARCHAR, jumlah_tps BIGINT, tps_kurang_rawan BIGINT,
    tps_rawan BIGINT, tps_sangat_rawan BIGINT, personel_polri BIGINT, personel_tni BIGINT,
    personel_linmas BIGINT, posko BIGINT, per_tanggal DATE
);
CREATE TABLE IF NOT EXISTS core.insiden (
    file_id BIGINT NOT NULL, row_number INTEGER NOT NULL, flagged BOOLEAN NOT NULL,
    kode_kabkota VARCHAR, id_insiden VARCHAR, waktu_kejadian TIMESTAMP, kode_kecamatan VARCHAR,
    kode_desa VARCHAR, kategori VARCHAR, tingkat VARCHAR, status VARCHAR,
    korban_meninggal BIGINT, korban_luka BIGINT, ditangani_oleh VARCHAR, sumber VARCHAR,
    ringkasan VARCHAR
);
CREATE TABLE IF NOT EXISTS core.netralitas (
    file_id BIGINT NOT NULL, row_number INTEGER NOT NULL, flagged BOOLEAN NOT NULL,
    kode_kabkota VARCHAR, id_kasus VARCHAR, ref_subjek VARCHAR, jenis_pegawai VARCHAR,
    instansi VARCHAR, jabatan VARCHAR, tanggal_lapor DATE, asal VARCHAR,
    jenis_pelanggaran VARCHAR, tahap VARCHAR, tanggal_tahap DATE, sanksi VARCHAR
);
