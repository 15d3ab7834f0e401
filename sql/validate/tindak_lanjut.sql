-- Derived columns the tindak_lanjut suite checks. A kab/kota desk reports its own follow-ups;
-- the provincial desk (a 2-digit sender code) may name any kab/kota of its province or the
-- province itself. A follow-up's history is keyed by (sender, id_tindak_lanjut), so the status
-- rule compares with the same sender's latest earlier report of that id.
WITH prev AS (
    SELECT p.pengirim, p.id_tindak_lanjut, p.status
    FROM core.tindak_lanjut_current p
    WHERE p.pengirim IN (SELECT DISTINCT _expected_kabkota FROM batch)
      AND p.week < (SELECT max(_week) FROM batch)
    QUALIFY row_number() OVER (PARTITION BY p.pengirim, p.id_tindak_lanjut
                               ORDER BY p.week DESC) = 1
)
SELECT
    b.*,
    b.kode_kabkota = b._expected_kabkota
        OR (length(b._expected_kabkota) = 2 AND b.kode_kabkota IN (
            SELECT k.kabkota_code FROM ref.kabkota k WHERE k.provinsi_code = b._expected_kabkota))
        AS _kabkota_cocok,
    (b.tanggal_keputusan - b._week_start) AS _hari_keputusan_dari_awal_minggu,
    (b.tanggal_status - b._week_start) AS _hari_status_dari_awal_minggu,
    (b.tenggat - b._week_start) AS _hari_tenggat_dari_awal_minggu,
    p.status AS _status_sebelumnya,
    coalesce(now_rank.rank >= prev_rank.rank, true) OR b.catatan IS NOT NULL
        AS _status_tidak_mundur
FROM batch b
LEFT JOIN prev p ON p.pengirim = b._expected_kabkota AND p.id_tindak_lanjut = b.id_tindak_lanjut
LEFT JOIN ref.enumeration now_rank
    ON now_rank.enum_name = 'status_tindak_lanjut' AND now_rank.value = b.status
LEFT JOIN ref.enumeration prev_rank
    ON prev_rank.enum_name = 'status_tindak_lanjut' AND prev_rank.value = p.status
ORDER BY b._file_id, b._row;
