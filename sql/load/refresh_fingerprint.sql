-- A file touched but not changed (same name, same bytes, new listing fingerprint): remember the
-- new fingerprint on its latest ledger row, so the next run skips it unread again.
UPDATE raw.file f SET source_fingerprint = t.source_fingerprint
FROM staged_touched t
WHERE f.file_id = (SELECT max(file_id) FROM raw.file x
                   WHERE x.source_bytes = t.source_bytes
                     AND coalesce(x.workbook_sha256, x.sha256) = t.sha256);
