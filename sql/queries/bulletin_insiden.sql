-- Incidents new this week or still open at its end.
SELECT k.kabkota_name, s.id_insiden, s.waktu_kejadian, ek.label_id AS kategori_label, s.tingkat,
       es.label_id AS status_label, s.korban_meninggal, s.korban_luka, s.ringkasan, s.baru
FROM mart.insiden_state s
JOIN ref.kabkota k USING (kabkota_code)
LEFT JOIN ref.enumeration ek ON ek.enum_name = 'kategori_insiden' AND ek.value = s.kategori
LEFT JOIN ref.enumeration es ON es.enum_name = 'status_insiden' AND es.value = s.status
WHERE s.week = $week AND (s.baru OR s.terbuka)
ORDER BY s.tingkat = 'tinggi' DESC, s.waktu_kejadian DESC;
