-- The kab/kota's security figures for the week; one row even when no security report arrived
-- (then the TPS and personnel columns are NULL, which the annex shows as "no data").
SELECT k.jumlah_tps, k.tps_kurang_rawan, k.tps_rawan, k.tps_sangat_rawan,
       k.personel_polri, k.personel_tni, k.personel_linmas, k.posko,
       k.linmas_per_tps, k.polri_per_tps, k.tni_per_tps, k.pct_tps_rawan,
       coalesce(i.insiden_baru, 0)::BIGINT AS insiden_baru,
       coalesce(i.insiden_terbuka, 0)::BIGINT AS insiden_terbuka,
       coalesce(i.insiden_terbuka_tinggi, 0)::BIGINT AS insiden_terbuka_tinggi,
       coalesce(i.korban_meninggal_baru, 0)::BIGINT AS korban_meninggal_baru,
       coalesce(i.korban_luka_baru, 0)::BIGINT AS korban_luka_baru,
       r.ikp_2024_category
FROM ref.kabkota r
LEFT JOIN mart.keamanan_weekly k ON k.kabkota_code = r.kabkota_code AND k.week = $week
LEFT JOIN mart.insiden_weekly i ON i.kabkota_code = r.kabkota_code AND i.week = $week
WHERE r.kabkota_code = $kabkota;
