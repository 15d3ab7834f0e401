-- Villages behind the plan for this date (mart.desa_tertinggal), one row per kab/kota: how many,
-- how many remote, in how many kecamatan, the kecamatan with most, and the earliest stage where
-- they fall behind. The per-village list is the kab/kota's annex.
SELECT d.kabkota_code, k.kabkota_name, k.short_name,
       sum(d.desa_tertinggal)::BIGINT AS desa, sum(d.desa_terpencil)::BIGINT AS terpencil,
       count(*) AS kecamatan,
       arg_max(d.kecamatan_name, d.desa_tertinggal) AS kecamatan_terbanyak,
       max(d.desa_tertinggal)::BIGINT AS desa_terbanyak,
       arg_min(d.tahap, s.seq) AS tahap
FROM mart.desa_tertinggal d
JOIN ref.kabkota k USING (kabkota_code)
JOIN ref.stage_target s ON s.stage = d.tahap
WHERE d.week = $week
GROUP BY ALL
ORDER BY desa DESC, k.short_name;
