-- Derived columns the keamanan suite checks.
SELECT
    b.*,
    b.kode_kabkota = b._expected_kabkota AS _kabkota_cocok,
    kc.kecamatan_code IS NOT NULL AND kc.kabkota_code = b._expected_kabkota AS _kecamatan_valid,
    b.tps_kurang_rawan + b.tps_rawan + b.tps_sangat_rawan AS _jumlah_kelas_tps,
    (b.per_tanggal - b._week_start) AS _hari_dari_awal_minggu
FROM batch b
LEFT JOIN ref.kecamatan kc ON kc.kecamatan_code = b.kode_kecamatan
ORDER BY b._file_id, b._row;
