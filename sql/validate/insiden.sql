-- Derived columns the insiden suite checks, including the cross-week rule that an incident's
-- status does not move backwards from what the kab/kota reported before.
SELECT
    b.*,
    b.kode_kabkota = b._expected_kabkota AS _kabkota_cocok,
    kc.kecamatan_code IS NOT NULL AND kc.kabkota_code = b._expected_kabkota AS _kecamatan_valid,
    b.kode_desa IS NULL OR (d.desa_code IS NOT NULL AND d.kecamatan_code = b.kode_kecamatan)
        AS _desa_valid,
    (coalesce(b.korban_meninggal, 0) + coalesce(b.korban_luka, 0) = 0
        OR b.tingkat = 'tinggi') AS _korban_tingkat_konsisten,
    datediff('day', b._week_start, b.waktu_kejadian) AS _hari_dari_awal_minggu,
    coalesce(now_rank.rank >= prev.max_rank, true) AS _status_tidak_mundur
FROM batch b
LEFT JOIN ref.kecamatan kc ON kc.kecamatan_code = b.kode_kecamatan
LEFT JOIN ref.desa d ON d.desa_code = b.kode_desa
LEFT JOIN ref.enumeration now_rank
    ON now_rank.enum_name = 'status_insiden' AND now_rank.value = b.status
LEFT JOIN (
    SELECT i.kode_kabkota, i.id_insiden, i.week, max(e.rank) AS max_rank
    FROM core.insiden_current i
    JOIN ref.enumeration e ON e.enum_name = 'status_insiden' AND e.value = i.status
    GROUP BY ALL
) prev ON prev.kode_kabkota = b.kode_kabkota AND prev.id_insiden = b.id_insiden
      AND prev.week < b._week
ORDER BY b._file_id, b._row;
