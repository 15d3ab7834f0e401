INSERT INTO audit.row_issue (file_id, sha256, row_number, "column", rule, severity, message)
SELECT file_id, sha256, row_number, "column", rule, severity, message FROM staged_issues;
