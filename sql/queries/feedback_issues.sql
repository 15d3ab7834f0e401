SELECT row_number, "column", rule, severity, message
FROM audit.row_issue WHERE file_id = $file_id
ORDER BY row_number NULLS FIRST, "column", rule;
