-- Scorecard rows for the bulletin: this week and last week's status of every kab/kota.
-- The mart is a view computed for every week; read once (MATERIALIZED) for the two weeks
-- and joined to itself, not computed once per side of the join.
WITH prev AS (
    SELECT w.week FROM ref.week w
    WHERE w.week_start = (SELECT week_start FROM ref.week WHERE week = $week) - INTERVAL 7 DAY
),
kw AS MATERIALIZED (
    SELECT * FROM mart.kabkota_weekly
    WHERE week = $week OR week IN (SELECT week FROM prev)
)
SELECT k.*, p.status AS status_prev
FROM kw k
LEFT JOIN kw p
    ON p.kabkota_code = k.kabkota_code
   AND p.week IN (SELECT week FROM prev)
WHERE k.week = $week
ORDER BY k.status_level DESC, k.kabkota_name;
