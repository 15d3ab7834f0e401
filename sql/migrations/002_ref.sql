-- Reference data: regions, the derived TPS master, requirements, enumerations, status policy.
-- Filled by tasks/contract/regions.py from reference/ (sources cited in reference/README.md).
CREATE TABLE IF NOT EXISTS ref.kabkota (
    kabkota_code      VARCHAR PRIMARY KEY,
    kabkota_name      VARCHAR NOT NULL,
    short_name        VARCHAR NOT NULL,
    type              VARCHAR NOT NULL,
    n_kecamatan       INTEGER NOT NULL,
    n_desa_kelurahan  INTEGER NOT NULL,
    dpt_2024          INTEGER NOT NULL,
    tps_2024          INTEGER NOT NULL,
    tps_lokasi_khusus INTEGER NOT NULL,
    ikp_2024_score    DOUBLE,
    ikp_2024_category VARCHAR,
    river_access      BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS ref.kecamatan (
    kecamatan_code VARCHAR PRIMARY KEY,
    kecamatan_name VARCHAR NOT NULL,
    kabkota_code   VARCHAR NOT NULL,
    n_desa         INTEGER NOT NULL,
    n_kelurahan    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ref.desa (
    desa_code      VARCHAR PRIMARY KEY,
    desa_name      VARCHAR NOT NULL,
    type           VARCHAR NOT NULL,
    kecamatan_code VARCHAR NOT NULL,
    kabkota_code   VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS ref.tps (
    tps_code       VARCHAR PRIMARY KEY,
    desa_code      VARCHAR NOT NULL,
    kecamatan_code VARCHAR NOT NULL,
    kabkota_code   VARCHAR NOT NULL,
    dpt            INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS ref.kebutuhan (
    kabkota_code     VARCHAR NOT NULL,
    kecamatan_code   VARCHAR NOT NULL,
    desa_code        VARCHAR NOT NULL,
    barang           VARCHAR NOT NULL,
    n_tps            INTEGER NOT NULL,
    dpt              INTEGER NOT NULL,
    jumlah_kebutuhan BIGINT NOT NULL,
    PRIMARY KEY (desa_code, barang)
);
CREATE TABLE IF NOT EXISTS ref.enumeration (
    enum_name VARCHAR NOT NULL,
    value     VARCHAR NOT NULL,
    label_id  VARCHAR NOT NULL,
    rank      INTEGER,
    PRIMARY KEY (enum_name, value)
);
-- When each logistics stage is expected to be complete, as days before voting day (H-n).
-- The expected share ramps linearly from 0 at start_h to 100 % at due_h.
CREATE TABLE IF NOT EXISTS ref.stage_target (
    stage    VARCHAR PRIMARY KEY,
    seq      INTEGER NOT NULL,
    label_id VARCHAR NOT NULL,
    start_h  INTEGER NOT NULL,
    due_h    INTEGER NOT NULL
);
-- Status thresholds; the stricter row applies when h <= h_max (tightening near voting day).
CREATE TABLE IF NOT EXISTS ref.status_threshold (
    metric       VARCHAR NOT NULL,
    h_max        INTEGER NOT NULL,
    waspada_at   DOUBLE NOT NULL,
    kritis_at    DOUBLE NOT NULL,
    description  VARCHAR NOT NULL,
    PRIMARY KEY (metric, h_max)
);
