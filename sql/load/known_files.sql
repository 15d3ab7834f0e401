-- What the warehouse has already received: used to skip unchanged inbox files cheaply and to
-- recognise the same bytes arriving again.
SELECT f.source_path, f.size_bytes, f.source_mtime, f.sha256, f.file_id
FROM raw.file f;
