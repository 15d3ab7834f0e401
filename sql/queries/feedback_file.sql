-- The ledger rows of the files just loaded ($file_ids), for the feedback sent back to the desks.
SELECT file_id, source_path, file_name, kabkota_code, kind, week, version, status, reason,
       rows_total, rows_flagged, received_at, is_late, sha256
FROM audit.submission_status WHERE list_contains($file_ids, file_id)
ORDER BY file_id;
