-- Province-wide security figures for the week.
SELECT coalesce(sum(k.jumlah_tps), 0)::BIGINT AS jumlah_tps,
       coalesce(sum(k.tps_kurang_rawan), 0)::BIGINT AS tps_kurang_rawan,
       coalesce(sum(k.tps_rawan), 0)::BIGINT AS tps_rawan,
       coalesce(sum(k.tps_sangat_rawan), 0)::BIGINT AS tps_sangat_rawan,
       coalesce(sum(k.personel_polri), 0)::BIGINT AS personel_polri,
       coalesce(sum(k.personel_tni), 0)::BIGINT AS personel_tni,
       coalesce(sum(k.personel_linmas), 0)::BIGINT AS personel_linmas,
       sum(k.personel_linmas) / nullif(sum(k.jumlah_tps), 0) AS linmas_per_tps,
       sum(k.personel_polri) / nullif(sum(k.jumlah_tps), 0) AS polri_per_tps,
       sum(k.personel_tni) / nullif(sum(k.jumlah_tps), 0) AS tni_per_tps,
       (SELECT coalesce(sum(insiden_baru), 0)::BIGINT FROM mart.insiden_weekly WHERE week = $week)
           AS insiden_baru,
       (SELECT coalesce(sum(insiden_terbuka), 0)::BIGINT FROM mart.insiden_weekly
         WHERE week = $week) AS insiden_terbuka
FROM mart.keamanan_weekly k WHERE k.week = $week;
