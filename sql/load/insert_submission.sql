INSERT INTO audit.submission (file_id, verdict, reason, version, is_late, rows_total,
                              rows_flagged, duplicate_of, superseded_by, run_id)
SELECT file_id, verdict, reason, version, is_late, rows_total, rows_flagged, duplicate_of,
       superseded_by, run_id
FROM staged_files;
