-- Derived columns the netralitas suite checks, including the cross-week rule that a case's
-- stage does not move backwards.
SELECT
    b.*,
    b.kode_kabkota = b._expected_kabkota AS _kabkota_cocok,
    (b.sanksi IS NOT NULL) = (b.tahap = 'sanksi_dijatuhkan') AS _sanksi_konsisten,
    (b.tanggal_lapor - b._week_start) AS _hari_lapor_dari_awal_minggu,
    (b.tanggal_tahap - b._week_start) AS _hari_tahap_dari_awal_minggu,
    coalesce(now_rank.rank >= (
        -- the furthest this case had got in any earlier week's current report
        SELECT max(e.rank)
        FROM core.netralitas_current p
        JOIN ref.enumeration e ON e.enum_name = 'tahap_kasus' AND e.value = p.tahap
        WHERE p.kode_kabkota = b.kode_kabkota AND p.id_kasus = b.id_kasus AND p.week < b._week
    ), true) AS _tahap_tidak_mundur
FROM batch b
LEFT JOIN ref.enumeration now_rank
    ON now_rank.enum_name = 'tahap_kasus' AND now_rank.value = b.tahap
ORDER BY b._file_id, b._row;
