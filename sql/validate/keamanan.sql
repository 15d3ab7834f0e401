-- Derived columns the keamanan suite checks.
SELECT
    b.*,
    b.kode_kabkota = b._expected_kabkota AS _kabkota_cocok,
    kc.kecamatan_code IS NOT NULL AND kc.kabkota_code = b._expected_kabkota AS _kecamatan_valid,
    -- Added in HUGEINT: any three 64-bit values sum without overflow; a sum beyond BIGINT (only
    -- from values the rentang_wajar rule flags anyway) is NULL, which the equality rule skips.
    TRY_CAST(b.tps_kurang_rawan::HUGEINT + b.tps_rawan + b.tps_sangat_rawan AS BIGINT)
        AS _jumlah_kelas_tps,
    (b.per_tanggal - b._week_start) AS _hari_dari_awal_minggu
FROM batch b
LEFT JOIN ref.kecamatan kc ON kc.kecamatan_code = b.kode_kecamatan
ORDER BY b._file_id, b._row;
