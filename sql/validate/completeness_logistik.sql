-- Rows a complete logistik submission must have but a file in the batch lacks:
-- every desa/kelurahan of the kab/kota × every barang.
SELECT f._file_id, 'kode_desa' AS "column",
       format('desa/kelurahan {} ({}) barang {} tidak dilaporkan', r.desa_code, d.desa_name,
              r.barang) AS detail
FROM (SELECT DISTINCT _file_id, _expected_kabkota FROM batch) f
JOIN ref.kebutuhan r ON r.kabkota_code = f._expected_kabkota
JOIN ref.desa d ON d.desa_code = r.desa_code
WHERE NOT EXISTS (
    SELECT 1 FROM batch b
    WHERE b._file_id = f._file_id AND b.kode_desa = r.desa_code AND b.barang = r.barang)
ORDER BY 1, 3;
