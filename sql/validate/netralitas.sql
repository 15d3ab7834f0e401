-- Derived columns the netralitas suite checks, including the cross-week rule that a case's
-- stage does not move backwards.
SELECT
    b.*,
    b.kode_kabkota = b._expected_kabkota AS _kabkota_cocok,
    (b.sanksi IS NOT NULL) = (b.tahap = 'sanksi_dijatuhkan') AS _sanksi_konsisten,
    (b.tanggal_lapor - b._week_start) AS _hari_lapor_dari_awal_minggu,
    (b.tanggal_tahap - b._week_start) AS _hari_tahap_dari_awal_minggu,
    coalesce(now_rank.rank >= prev.max_rank, true) AS _tahap_tidak_mundur
FROM batch b
LEFT JOIN ref.enumeration now_rank
    ON now_rank.enum_name = 'tahap_kasus' AND now_rank.value = b.tahap
LEFT JOIN (
    SELECT n.kode_kabkota, n.id_kasus, n.week, max(e.rank) AS max_rank
    FROM core.netralitas_current n
    JOIN ref.enumeration e ON e.enum_name = 'tahap_kasus' AND e.value = n.tahap
    GROUP BY ALL
) prev ON prev.kode_kabkota = b.kode_kabkota AND prev.id_kasus = b.id_kasus
      AND prev.week < b._week
ORDER BY b._file_id, b._row;
