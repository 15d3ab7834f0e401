-- Every file the kab/kota sent for the week, each version and duplicate included, with its
-- verdict as the ledger (audit.submission_status) states it and its number of findings.
SELECT s.file_id, s.file_name, s.kind, s.version, s.status, s.reason, s.is_late,
       s.received_at, s.rows_total, s.rows_flagged, s.sha256,
       (SELECT count(*) FROM audit.row_issue i WHERE i.file_id = s.file_id) AS temuan
FROM audit.submission_status s
WHERE s.week = $week AND s.kabkota_code = $kabkota
ORDER BY list_position(['ringkasan', 'logistik', 'keamanan', 'insiden', 'netralitas'], s.kind)
             NULLS LAST,
         s.received_at, s.file_id;
