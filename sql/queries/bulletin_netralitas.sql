SELECT coalesce(sum(kasus_baru), 0)::BIGINT AS kasus_baru,
       coalesce(sum(kasus_kumulatif), 0)::BIGINT AS kasus_kumulatif,
       coalesce(sum(kasus_direkomendasikan), 0)::BIGINT AS kasus_direkomendasikan,
       coalesce(sum(kasus_sanksi), 0)::BIGINT AS kasus_sanksi,
       (SELECT median(hari_lapor_ke_rekomendasi) FROM mart.netralitas_state
         WHERE week = $week AND is_asn) AS median_hari_ke_rekomendasi
FROM mart.netralitas_weekly WHERE week = $week;
