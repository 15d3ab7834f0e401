INSERT INTO raw.file (file_id, source_path, file_name, sha256, size_bytes, source_mtime,
                      received_at, ingested_at, archive_path, kabkota_code, kind, week, file_format,
                      source_bytes, source_fingerprint, workbook, sheet,
                      workbook_sha256)
SELECT file_id, source_path, file_name, sha256, size_bytes, source_mtime, received_at, now(),
       archive_path, kabkota_code, kind, week, file_format, source_bytes, source_fingerprint, workbook, sheet,
       workbook_sha256
FROM staged_files;
