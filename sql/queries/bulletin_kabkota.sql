-- Scorecard rows for the bulletin: this week and last week's status of every kab/kota.
SELECT k.*, p.status AS status_prev
FROM mart.kabkota_weekly k
LEFT JOIN mart.kabkota_weekly p
    ON p.kabkota_code = k.kabkota_code
   AND p.week = (SELECT w.week FROM ref.week w
                 WHERE w.week_start = (SELECT week_start FROM ref.week WHERE week = $week)
                                      - INTERVAL 7 DAY)
WHERE k.week = $week
ORDER BY k.status_level DESC, k.kabkota_name;
