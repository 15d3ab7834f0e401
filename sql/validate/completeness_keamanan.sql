-- Kecamatan a complete keamanan submission must have but a file in the batch lacks.
SELECT f._file_id, 'kode_kecamatan' AS "column",
       format('kecamatan {} ({}) tidak dilaporkan', k.kecamatan_code, k.kecamatan_name) AS detail
FROM (SELECT DISTINCT _file_id, _expected_kabkota FROM batch) f
JOIN ref.kecamatan k ON k.kabkota_code = f._expected_kabkota
WHERE NOT EXISTS (
    SELECT 1 FROM batch b
    WHERE b._file_id = f._file_id AND b.kode_kecamatan = k.kecamatan_code)
ORDER BY 1, 3;
