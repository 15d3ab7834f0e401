INSERT INTO audit.submission (file_id, verdict, reason, version, is_late, rows_total,
                              rows_flagged, duplicate_of, superseded_by, run_id)
VALUES ($file_id, $verdict, $reason, $version, $is_late, $rows_total, $rows_flagged,
        $duplicate_of, $superseded_by, $run_id);
