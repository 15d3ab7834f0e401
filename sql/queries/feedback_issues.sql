-- Their findings, in the order a desk reads them, with what each took out of the figures.
SELECT file_id, row_number, "column", rule, severity, message, effect
FROM audit.row_issue WHERE list_contains($file_ids, file_id)
ORDER BY file_id, row_number NULLS FIRST, "column", rule;
