-- Follow-ups still open in the sender's latest earlier report that a file in the batch no longer
-- lists: a follow-up is closed by reporting it `selesai` or `dibatalkan`, never by dropping it.
-- The mart keeps showing it as last reported (mart.tindak_lanjut.minggu_laporan).
-- `files` lists every file of the batch, a header-only one too (it has no row in `batch`).
WITH last_known AS (
    SELECT f._file_id, p.id_tindak_lanjut, p.tindakan, p.status, p.week
    FROM files f
    JOIN core.tindak_lanjut_current p ON p.pengirim = f._expected_kabkota AND p.week < f._week
    QUALIFY row_number() OVER (PARTITION BY f._file_id, p.id_tindak_lanjut
                               ORDER BY p.week DESC) = 1
)
SELECT l._file_id, 'id_tindak_lanjut' AS "column",
       format('tindak lanjut {} ("{}") masih berstatus {} pada laporan {} tetapi tidak ada di '
              || 'laporan ini; tetap cantumkan sampai selesai atau dibatalkan',
              l.id_tindak_lanjut, left(l.tindakan, 80), l.status, l.week) AS detail
FROM last_known l
WHERE l.status IN ('baru', 'berjalan', 'terkendala')
  AND NOT EXISTS (SELECT 1 FROM batch b
                  WHERE b._file_id = l._file_id AND b.id_tindak_lanjut = l.id_tindak_lanjut)
ORDER BY 1, 3;
