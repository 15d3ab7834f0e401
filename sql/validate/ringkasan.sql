-- Derived columns the ringkasan suite checks.
SELECT
    b.*,
    b.kode_kabkota = b._expected_kabkota AS _kabkota_cocok,
    (b.per_tanggal - b._week_start) AS _hari_dari_awal_minggu,
    count(*) OVER (PARTITION BY b._file_id) AS _baris_per_file
FROM batch b
ORDER BY b._file_id, b._row;
