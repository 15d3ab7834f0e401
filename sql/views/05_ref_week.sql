-- Reporting weeks (ISO, Monday–Sunday WITA) with H-n: days from the week's Sunday to voting day,
-- and the campaign's phase: `persiapan` while the week ends before voting day, then
-- `pasca_pemungutan` (the week that holds voting day already reports on the vote).
CREATE OR REPLACE VIEW ref.week AS
SELECT
    strftime(d, '%G-W%V') AS week,
    d::DATE AS week_start,
    (d + INTERVAL 6 DAY)::DATE AS week_end,
    (DATE '2024-11-27' - (d + INTERVAL 6 DAY)::DATE) AS h,
    CASE WHEN (d + INTERVAL 6 DAY)::DATE < DATE '2024-11-27' THEN 'persiapan'
         ELSE 'pasca_pemungutan' END AS fase
FROM generate_series(TIMESTAMP '2024-01-01', TIMESTAMP '2026-12-28', INTERVAL 7 DAY) t(d);

-- Weeks the warehouse knows about: every week any file was received for, × every kab/kota.
CREATE OR REPLACE VIEW ref.kabkota_week AS
SELECT k.kabkota_code, k.kabkota_name, k.short_name, w.week, w.week_start, w.week_end, w.h,
       w.fase
FROM ref.kabkota k
CROSS JOIN ref.week w
WHERE w.week IN (SELECT DISTINCT week FROM raw.file WHERE week IS NOT NULL);
