-- Every village of the kab/kota behind the plan for this date (mart.desa_tertinggal_desa), by
-- kecamatan, with the earliest stage where it falls behind and the items behind: the desk's work
-- list. Unlike the bulletin's summary nothing is left out; villages short of the full requirement
-- but on plan are counted in the annex's summary line, not listed.
SELECT kc.kecamatan_name, d.desa_name, d.desa_code, d.tahap, d.tahap_label, d.barang,
       l.jumlah_tps, least(l.tps_lengkap, l.jumlah_tps) AS tps_lengkap, d.moda_angkut, d.terpencil
FROM mart.desa_tertinggal_desa d
JOIN mart.logistik_desa_weekly l USING (week, desa_code)
JOIN ref.kecamatan kc ON kc.kecamatan_code = d.kecamatan_code
WHERE d.week = $week AND d.kabkota_code = $kabkota
ORDER BY kc.kecamatan_name, kc.kecamatan_code, d.tahap_seq, d.desa_name, d.desa_code;
