-- Readiness policy as data: stage targets and status thresholds (docs/metrics.md explains them).
ALTER TABLE ref.status_threshold ADD COLUMN IF NOT EXISTS direction VARCHAR DEFAULT 'above';

INSERT OR REPLACE INTO ref.stage_target VALUES
    ('kabkota', 1, 'gudang KPU kab/kota', 40, 10),
    ('ppk',     2, 'PPK (kecamatan)',     10,  2),
    ('pps',     3, 'PPS (desa/kelurahan)', 4,  1),
    ('tps',     4, 'KPPS (TPS)',           2,  0);

-- direction 'above': the level is reached when value >= threshold; 'below': when value < threshold.
-- A metric is only judged where a row with h_max >= H-n exists; the smallest such h_max applies.
INSERT OR REPLACE INTO ref.status_threshold
    (metric, h_max, waspada_at, kritis_at, description, direction) VALUES
    ('logistik_selisih',       9999, 0.10, 0.25, 'Selisih capaian logistik di bawah target tahapnya', 'above'),
    ('logistik_selisih',          7, 0.05, 0.15, 'Selisih capaian logistik (H-7 ke bawah: lebih ketat)', 'above'),
    ('linmas_per_tps',            7, 2.00, 1.50, 'Linmas per TPS menjelang hari H (ketentuan: 2)', 'below'),
    ('insiden_terbuka_tinggi', 9999, 1,    3,    'Insiden tingkat tinggi yang masih terbuka', 'above'),
    ('korban_meninggal_baru',  9999, 1,    1,    'Korban meninggal dalam insiden minggu ini', 'above'),
    ('kasus_asn_baru',         9999, 3,    1e9,  'Kasus netralitas ASN baru dalam seminggu', 'above'),
    ('laporan_hilang',         9999, 1,    1e9,  'Jenis laporan yang belum diterima minggu ini', 'above'),
    ('logistik_hilang',           7, 1,    1,    'Laporan logistik tidak diterima menjelang hari H', 'above'),
    ('status_umum',            9999, 1,    2,    'Status umum yang dilaporkan kab/kota (1 ada kendala, 2 kritis)', 'above');
