-- Villages whose goods have not all reached the village committee (PPS), remote ones first.
SELECT k.kabkota_name, kc.kecamatan_name, d.desa_name,
       string_split(l.daftar_barang_kurang, ', ') AS barang, l.moda_angkut
FROM mart.logistik_desa_weekly l
JOIN ref.desa d ON d.desa_code = l.desa_code
JOIN ref.kecamatan kc ON kc.kecamatan_code = l.kecamatan_code
JOIN ref.kabkota k ON k.kabkota_code = l.kabkota_code
WHERE l.week = $week AND l.barang_kurang_di_pps > 0
ORDER BY (l.moda_angkut IN ('sungai', 'udara')) DESC, l.barang_kurang_di_pps DESC, d.desa_code
LIMIT 15;
