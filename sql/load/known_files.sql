-- What the warehouse has already received: used to skip unchanged inbox files cheaply and to
-- recognise the same bytes arriving again for the same kab/kota, kind and week.
SELECT f.source_path, f.size_bytes, f.source_mtime, f.sha256, f.file_id,
       f.kabkota_code, f.kind, f.week
FROM raw.file f
ORDER BY f.file_id;
