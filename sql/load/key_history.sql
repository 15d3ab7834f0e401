-- Every earlier file of the kab/kota × kind × week keys a batch touches (`batch_keys`): what the
-- load plan needs for versions, the current version and the first accepted copy of a duplicate.
SELECT f.kabkota_code, f.kind, f.week, f.file_id, f.sha256, f.received_at, s.verdict,
       s.superseded_by
FROM raw.file f
JOIN audit.submission s USING (file_id)
SEMI JOIN batch_keys k
    ON k.kabkota_code = f.kabkota_code AND k.kind = f.kind AND k.week = f.week
ORDER BY f.file_id;
