-- One kab/kota's scorecard row for its annex: this week's status and figures, last week's
-- status, and the logistics detail behind them. `tps_logistik` is the TPS count of the logistics
-- report (mart.logistik_weekly); `jumlah_tps` comes from
-- the security report and is NULL when that report is missing. Coverage (`desa_dihitung_pps`,
-- `kecamatan_dihitung_linmas`, `netralitas_dilaporkan`, …) comes with `k.*`.
-- The status mart is a view over every week: read once (MATERIALIZED) for the two weeks.
WITH prev AS (
    SELECT w.week FROM ref.week w
    WHERE w.week_start = (SELECT week_start FROM ref.week WHERE week = $week) - INTERVAL 7 DAY
),
kw AS MATERIALIZED (
    SELECT * FROM mart.kabkota_weekly
    WHERE kabkota_code = $kabkota AND (week = $week OR week IN (SELECT week FROM prev))
)
SELECT k.*, p.status AS status_prev,
       l.jumlah_tps AS tps_logistik, l.desa_kurang_terpencil, l.rusak_surat_suara,
       l.proyeksi_lengkap_pps
FROM kw k
LEFT JOIN mart.logistik_weekly l USING (week, kabkota_code)
LEFT JOIN kw p ON p.week IN (SELECT week FROM prev)
WHERE k.week = $week;
