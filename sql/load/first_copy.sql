-- The accepted copy a duplicate repeats (loaded earlier in this run or in an earlier one).
SELECT min(f.file_id)
FROM raw.file f JOIN audit.submission s USING (file_id)
WHERE f.sha256 = $sha256 AND f.kabkota_code = $kabkota_code AND f.kind = $kind
  AND f.week = $week AND s.verdict IN ('accepted', 'accepted_with_flags');
