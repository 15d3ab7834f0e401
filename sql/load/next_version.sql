-- Version of a new file: its place among the non-duplicate files of its kab/kota, kind and week.
SELECT count(*) + 1
FROM raw.file f JOIN audit.submission s USING (file_id)
WHERE f.kabkota_code = $kabkota_code AND f.kind = $kind AND f.week = $week
  AND s.verdict <> 'duplicate';
