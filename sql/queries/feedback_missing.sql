-- Files whose feedback note has not been written yet (a run that could not write it): caught up
-- by the next run's feedback step.
SELECT f.file_id
FROM raw.file f
LEFT JOIN audit.feedback_written w USING (file_id)
WHERE w.file_id IS NULL
ORDER BY f.file_id;
