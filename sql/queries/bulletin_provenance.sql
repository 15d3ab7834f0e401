-- The submission versions that fed the bulletin.
SELECT f.kabkota_code, f.kind, f.file_name, c.version, f.received_at, f.sha256, s.is_late
FROM core.current_file c
JOIN raw.file f USING (file_id)
JOIN audit.submission s USING (file_id)
WHERE c.week = $week
ORDER BY f.kabkota_code, f.kind;
