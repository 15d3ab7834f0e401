-- Derived columns the logistik suite checks: reference lookups, the ballot minimum, the date
-- window, and the cross-week rule (cumulative quantities may not fall without a note). A row is
-- compared only with its file's own kab/kota's requirement and history: a desa code of another
-- kab/kota is already refused (kode_desa_valid), and a batch gets only its kab/kota's rows of
-- these national-size tables (sql/validate/inputs/, docs/decisions.md).
SELECT
    b.*,
    b.kode_kabkota = b._expected_kabkota AS _kabkota_cocok,
    kc.kabkota_code IS NOT DISTINCT FROM b._expected_kabkota
        AND kc.kecamatan_code IS NOT NULL AS _kecamatan_valid,
    d.desa_code IS NOT NULL AND d.kecamatan_code = b.kode_kecamatan
        AND d.kabkota_code = b._expected_kabkota AS _desa_valid,
    CASE WHEN b.barang IN ('ss_gubernur', 'ss_bupati_walikota')
         THEN coalesce(r.jumlah_kebutuhan, 0) ELSE 0 END AS _kebutuhan_minimum,
    (b.per_tanggal - b._week_start) AS _hari_dari_awal_minggu,
    p.kode_desa IS NOT NULL AND b.catatan IS NULL AND (
        b.diterima_kabkota < p.diterima_kabkota OR b.diterima_ppk < p.diterima_ppk
        OR b.diterima_pps < p.diterima_pps OR b.diterima_tps < p.diterima_tps
    ) AS _turun_tanpa_catatan
FROM batch b
LEFT JOIN ref.kecamatan kc ON kc.kecamatan_code = b.kode_kecamatan
LEFT JOIN ref.desa d ON d.desa_code = b.kode_desa
LEFT JOIN ref.kebutuhan r
    ON r.desa_code = b.kode_desa AND r.barang = b.barang AND r.kabkota_code = b._expected_kabkota
LEFT JOIN core.logistik_current p
    ON p.kode_desa = b.kode_desa AND p.barang = b.barang AND p.kode_kabkota = b._expected_kabkota
   AND p.week = (SELECT w.week FROM ref.week w WHERE w.week_start = b._week_start - INTERVAL 7 DAY)
ORDER BY b._file_id, b._row;
