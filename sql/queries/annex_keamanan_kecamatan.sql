-- Security per kecamatan from the counted rows of the current report, so the desk sees where
-- Linmas falls short of the norm; the sums equal the kab/kota figures in mart.keamanan_weekly.
SELECT kc.kecamatan_name, k.kode_kecamatan AS kecamatan_code,
       sum(k.jumlah_tps)::BIGINT AS jumlah_tps,
       sum(k.tps_rawan)::BIGINT AS tps_rawan,
       sum(k.tps_sangat_rawan)::BIGINT AS tps_sangat_rawan,
       sum(k.personel_linmas) / nullif(sum(k.jumlah_tps), 0) AS linmas_per_tps,
       sum(k.personel_polri) / nullif(sum(k.jumlah_tps), 0) AS polri_per_tps,
       sum(k.personel_tni) / nullif(sum(k.jumlah_tps), 0) AS tni_per_tps
FROM core.keamanan_current k
LEFT JOIN ref.kecamatan kc ON kc.kecamatan_code = k.kode_kecamatan
WHERE k.week = $week AND k.kode_kabkota = $kabkota
GROUP BY ALL
ORDER BY kc.kecamatan_name, k.kode_kecamatan;
