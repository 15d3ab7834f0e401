INSERT INTO audit.row_issue (file_id, sha256, row_number, "column", rule, severity, effect, message)
SELECT file_id, sha256, row_number, "column", rule, severity, effect, message FROM staged_issues;
