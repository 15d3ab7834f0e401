-- Counts of (kab/kota × kind) for the week: on time, late, missing; files rejected.
SELECT coalesce(sum(jenis_diterima - jenis_terlambat), 0)::BIGINT AS tepat_waktu,
       coalesce(sum(jenis_terlambat), 0)::BIGINT AS terlambat,
       coalesce(sum(len(jenis_hilang)), 0)::BIGINT AS hilang,
       coalesce(sum(file_ditolak), 0)::BIGINT AS ditolak
FROM mart.kualitas_data_weekly WHERE week = $week;
