-- The kab/kota's incidents new this week or still open at its end, high severity first.
SELECT s.id_insiden, s.waktu_kejadian, kc.kecamatan_name,
       ek.label_id AS kategori_label, s.tingkat, es.label_id AS status_label,
       s.korban_meninggal, s.korban_luka, s.ditangani_oleh, s.ringkasan, s.baru, s.terbuka
FROM mart.insiden_state s
LEFT JOIN ref.kecamatan kc ON kc.kecamatan_code = s.kode_kecamatan
LEFT JOIN ref.enumeration ek ON ek.enum_name = 'kategori_insiden' AND ek.value = s.kategori
LEFT JOIN ref.enumeration es ON es.enum_name = 'status_insiden' AND es.value = s.status
WHERE s.week = $week AND s.kabkota_code = $kabkota AND (s.baru OR s.terbuka)
ORDER BY s.tingkat = 'tinggi' DESC, s.waktu_kejadian DESC, s.id_insiden;
