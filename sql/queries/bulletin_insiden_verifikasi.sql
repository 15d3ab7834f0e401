-- Flagged incident rows that still claim a death, an injury or high severity
-- (mart.insiden_perlu_verifikasi): left out of the counts, shown as "perlu verifikasi" in the
-- bulletin's decision block so a claimed death never vanishes behind a flag. Deaths first.
SELECT v.kabkota_code, k.kabkota_name, k.short_name, v.id_insiden, v.waktu_kejadian,
       ek.label_id AS kategori_label, v.tingkat, v.korban_meninggal, v.korban_luka,
       v.ringkasan, v.alasan
FROM mart.insiden_perlu_verifikasi v
JOIN ref.kabkota k USING (kabkota_code)
LEFT JOIN ref.enumeration ek ON ek.enum_name = 'kategori_insiden' AND ek.value = v.kategori
WHERE v.week = $week
ORDER BY coalesce(v.korban_meninggal, 0) DESC, coalesce(v.korban_luka, 0) DESC,
         k.kabkota_name, v.id_insiden;
