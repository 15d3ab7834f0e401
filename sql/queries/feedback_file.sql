-- One file's ledger row, for the feedback document sent back to the desk.
SELECT source_path, file_name, kabkota_code, kind, week, version, status, reason,
       rows_total, rows_flagged, received_at, is_late, sha256
FROM audit.submission_status WHERE file_id = $file_id;
