-- The kab/kota's data-quality summary for the week (kinds received, late, missing, rejected).
SELECT jenis_diterima, jenis_terlambat, jenis_hilang, jenis_terlambat_daftar,
       baris_ditandai, baris_total, file_ditolak
FROM mart.kualitas_data_weekly
WHERE week = $week AND kabkota_code = $kabkota;
