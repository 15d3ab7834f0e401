-- What the reply to one desk message says: each attachment, in the order it was attached, with
-- the ledger rows it became (a workbook: one per kind sheet; a refused attachment: none, only its
-- note). An attachment is found by its filed name and the sha256 of its bytes.
SELECT a.position, a.file_name AS attachment, a.note, s.file_id, s.file_name, s.kabkota_code,
       s.kind, s.week, s.version, s.status, s.reason, s.rows_total, s.rows_flagged, s.is_late
FROM audit.mail_attachment a
LEFT JOIN raw.file f
    ON f.source_bytes = a.source_bytes AND coalesce(f.workbook_sha256, f.sha256) = a.sha256
LEFT JOIN audit.submission_status s ON s.file_id = f.file_id
WHERE a.message_key = $message_key
ORDER BY a.position, s.file_id;
