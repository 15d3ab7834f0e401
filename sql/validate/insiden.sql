-- Derived columns the insiden suite checks, including the cross-week rule that an incident's
-- status does not move backwards from what the kab/kota reported before.
SELECT
    b.*,
    b.kode_kabkota = b._expected_kabkota AS _kabkota_cocok,
    kc.kecamatan_code IS NOT NULL AND kc.kabkota_code = b._expected_kabkota AS _kecamatan_valid,
    b.kode_desa IS NULL OR (d.desa_code IS NOT NULL AND d.kecamatan_code = b.kode_kecamatan)
        AS _desa_valid,
    -- HUGEINT: two 64-bit counts always add up without overflow, whatever a desk typed.
    (coalesce(b.korban_meninggal, 0)::HUGEINT + coalesce(b.korban_luka, 0) = 0
        OR b.tingkat = 'tinggi') AS _korban_tingkat_konsisten,
    datediff('day', b._week_start, b.waktu_kejadian) AS _hari_dari_awal_minggu,
    coalesce(now_rank.rank >= (
        -- the furthest this incident had got in any earlier week's current report
        SELECT max(e.rank)
        FROM core.insiden_current p
        JOIN ref.enumeration e ON e.enum_name = 'status_insiden' AND e.value = p.status
        WHERE p.kode_kabkota = b.kode_kabkota AND p.id_insiden = b.id_insiden AND p.week < b._week
    ), true) AS _status_tidak_mundur
FROM batch b
LEFT JOIN ref.kecamatan kc ON kc.kecamatan_code = b.kode_kecamatan
LEFT JOIN ref.desa d ON d.desa_code = b.kode_desa
LEFT JOIN ref.enumeration now_rank
    ON now_rank.enum_name = 'status_insiden' AND now_rank.value = b.status
ORDER BY b._file_id, b._row;
