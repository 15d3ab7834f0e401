-- Every finding that moved the kab/kota off Siap this week, worst first, in both languages.
SELECT area, metric, level, ['Siap', 'Waspada', 'Kritis'][level + 1] AS status,
       reason_id, reason_en
FROM mart.status_finding
WHERE week = $week AND kabkota_code = $kabkota AND level > 0
ORDER BY level DESC, area, metric;
