-- ASN neutrality counts only: the annex may reach recipients outside the province, so no case
-- identifier, subject code, agency or date ever leaves this query.
SELECT coalesce(n.kasus_baru, 0)::BIGINT AS kasus_baru,
       coalesce(n.kasus_kumulatif, 0)::BIGINT AS kasus_kumulatif,
       coalesce(n.kasus_proses_bawaslu, 0)::BIGINT AS kasus_proses_bawaslu,
       coalesce(n.kasus_direkomendasikan, 0)::BIGINT AS kasus_direkomendasikan,
       coalesce(n.kasus_sanksi, 0)::BIGINT AS kasus_sanksi,
       coalesce(n.kasus_ditutup, 0)::BIGINT AS kasus_ditutup,
       n.median_hari_ke_rekomendasi
FROM ref.kabkota r
LEFT JOIN mart.netralitas_weekly n ON n.kabkota_code = r.kabkota_code AND n.week = $week
WHERE r.kabkota_code = $kabkota;
