-- History the logistik checks compare with: the current rows of the week before each week being
-- validated ($weeks), of the batch's kab/kota ($kabkota) only, as sql/validate/logistik.sql joins
-- them; not the whole history (a national week is ~670,000 rows).
SELECT p.*
FROM core.logistik_current p
WHERE p.week IN (SELECT w.week FROM ref.week w JOIN ref.week b
                   ON w.week_start = b.week_start - INTERVAL 7 DAY
                 WHERE list_contains($weeks, b.week))
  AND list_contains($kabkota, p.kode_kabkota);
