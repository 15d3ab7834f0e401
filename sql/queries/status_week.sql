-- Who has submitted what for a week: one row per kab/kota and kind, with the current version,
-- lateness, and how many files were rejected.
WITH kinds(kind, seq) AS (
    VALUES ('ringkasan', 1), ('logistik', 2), ('keamanan', 3), ('insiden', 4), ('netralitas', 5)
)
SELECT
    k.kabkota_code, k.short_name, kinds.kind,
    CASE WHEN c.file_id IS NULL THEN 'belum_ada'
         WHEN s.is_late THEN 'terlambat' ELSE 'tepat_waktu' END AS keadaan,
    c.version,
    s.verdict,
    s.rows_flagged,
    (SELECT count(*) FROM audit.submission_status x
      WHERE x.kabkota_code = k.kabkota_code AND x.kind = kinds.kind AND x.week = $week
        AND x.status = 'rejected') AS ditolak
FROM ref.kabkota k
CROSS JOIN kinds
LEFT JOIN core.current_file c
    ON c.kabkota_code = k.kabkota_code AND c.kind = kinds.kind AND c.week = $week
LEFT JOIN audit.submission s ON s.file_id = c.file_id
ORDER BY k.kabkota_code, kinds.seq;
