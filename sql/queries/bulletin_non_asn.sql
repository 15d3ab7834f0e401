-- Neutrality cases under employee types outside ASN (honorer, village heads, ...): they stay
-- out of the ASN totals (mart.netralitas_weekly) but the bulletin names them, per kab/kota and
-- employee type, so a reported case never counts nowhere.
SELECT s.kabkota_code, k.short_name, s.jenis_pegawai, e.label_id AS jenis_label,
       count(*) FILTER (WHERE s.baru) AS kasus_baru, count(*) AS kasus
FROM mart.netralitas_state s
JOIN ref.kabkota k USING (kabkota_code)
LEFT JOIN ref.enumeration e ON e.enum_name = 'jenis_pegawai' AND e.value = s.jenis_pegawai
WHERE s.week = $week AND NOT s.is_asn
GROUP BY ALL
ORDER BY kasus_baru DESC, k.short_name, s.jenis_pegawai;
