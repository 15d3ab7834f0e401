-- What the warehouse has already received: used to skip unchanged inbox files cheaply and to
-- recognise the same bytes arriving again for the same kab/kota, kind and week. Only an accepted
-- copy makes a later one a duplicate: bytes that were rejected (e.g. sent to the wrong folder)
-- are judged again when they arrive where they belong. Names are compared by their exact bytes.
SELECT f.source_bytes, f.source_fingerprint, f.sha256, f.file_id,
       f.kabkota_code, f.kind, f.week,
       s.verdict IN ('accepted', 'accepted_with_flags') AS counted,
       f.workbook_sha256  -- a workbook's sheets: the sha of the workbook's bytes (sha256: the sheet's)
FROM raw.file f
JOIN audit.submission s USING (file_id)
ORDER BY f.file_id;
