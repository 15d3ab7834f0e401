-- The first 50 row findings on the kab/kota's files of the week (rejecting findings first, then
-- by file and row as the desk sees them in its spreadsheet), with the total so the annex can say
-- how many more there are.
SELECT f.file_name, f.kind, i.row_number, i."column", i.rule, i.severity, i.message,
       count(*) OVER () AS total
FROM audit.row_issue i
JOIN raw.file f USING (file_id)
WHERE f.week = $week AND f.kabkota_code = $kabkota
ORDER BY i.severity = 'reject' DESC, f.file_name, f.file_id, i.row_number NULLS FIRST,
         i."column", i.rule
LIMIT 50;
