-- Every village of the kab/kota whose goods have not all reached its PPS, by kecamatan: the desk
-- works through the whole list, so unlike the bulletin's top 15 nothing is left out.
SELECT kc.kecamatan_name, d.desa_name, l.desa_code,
       string_split(l.daftar_barang_kurang, ', ') AS barang,
       l.jumlah_tps, least(l.tps_lengkap, l.jumlah_tps) AS tps_lengkap, l.moda_angkut,
       coalesce(l.moda_angkut IN ('sungai', 'udara'), false) AS terpencil
FROM mart.logistik_desa_weekly l
JOIN ref.desa d ON d.desa_code = l.desa_code
JOIN ref.kecamatan kc ON kc.kecamatan_code = l.kecamatan_code
WHERE l.week = $week AND l.kabkota_code = $kabkota AND l.barang_kurang_di_pps > 0
ORDER BY kc.kecamatan_name, kc.kecamatan_code, d.desa_name, l.desa_code;
