-- Who has submitted what for a week: one row per sender and kind, with the current version,
-- lateness, and how many files were rejected. Every kab/kota owes the five required kinds
-- (tasks.contract.submission.REQUIRED_KINDS) and may send tindak_lanjut (optional: absent is `tidak_wajib`,
-- never `belum_ada`); the provincial desk, under its province code, may send what
-- tasks.contract.submission.PROVINCE_KINDS lists, and any other kind it sent this week (rejected by name) is
-- shown too, so its rejections are counted.
WITH kinds(kind, seq, wajib) AS (
    VALUES ('ringkasan', 1, true), ('logistik', 2, true), ('keamanan', 3, true),
           ('insiden', 4, true), ('netralitas', 5, true), ('tindak_lanjut', 6, false)
), senders AS (
    SELECT k.kabkota_code AS code, k.short_name AS name, kinds.kind, kinds.seq, kinds.wajib,
           false AS provinsi
    FROM ref.kabkota k CROSS JOIN kinds
    UNION ALL
    SELECT p.provinsi_code, 'Desk provinsi ' || p.provinsi_name, x.kind,
           coalesce(kinds.seq, 99), false, true
    FROM ref.provinsi p
    CROSS JOIN (SELECT 'tindak_lanjut' AS kind
                UNION SELECT kind FROM audit.submission_status WHERE week = $week) x
    LEFT JOIN kinds ON kinds.kind = x.kind
    WHERE x.kind = 'tindak_lanjut'
       OR EXISTS (SELECT 1 FROM audit.submission_status f
                  WHERE f.kabkota_code = p.provinsi_code AND f.week = $week AND f.kind = x.kind)
)
SELECT
    d.code, d.name, d.kind,
    CASE WHEN c.file_id IS NOT NULL AND s.is_late THEN 'terlambat'
         WHEN c.file_id IS NOT NULL THEN 'tepat_waktu'
         WHEN d.wajib THEN 'belum_ada' ELSE 'tidak_wajib' END AS keadaan,
    c.version,
    s.verdict,
    s.rows_flagged,
    (SELECT count(*) FROM audit.submission_status x
      WHERE x.kabkota_code = d.code AND x.kind = d.kind AND x.week = $week
        AND x.status = 'rejected') AS ditolak,
    d.wajib
FROM senders d
LEFT JOIN core.current_file c
    ON c.kabkota_code = d.code AND c.kind = d.kind AND c.week = $week
LEFT JOIN audit.submission s ON s.file_id = c.file_id
ORDER BY d.provinsi, d.code, d.seq, d.kind;
