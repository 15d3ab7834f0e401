-- Cross-sector follow-ups (tindak lanjut) as known at the end of each week (core.item_state: the
-- latest row per (sender, id) reported up to that week), so a follow-up missing from a later
-- report is still shown as last reported, with `hilang_dari_laporan` (and its sender's file carries a
-- `tindak_lanjut_hilang` finding).
-- `tanggal_acuan` is the Monday after the week, the day the bulletin is read: a follow-up still
-- open whose `tenggat` is before it is overdue (docs/metrics.md, "Tindak lanjut").
CREATE OR REPLACE VIEW mart.tindak_lanjut AS
WITH weeks AS (
    SELECT DISTINCT week, week_start, week_end FROM ref.kabkota_week
), state AS (
    SELECT w.week, w.week_start, w.week_end, t.week AS minggu_laporan,
           t.* EXCLUDE (week, file_id, flagged)
    FROM core.item_state('tindak_lanjut', (SELECT list(week) FROM weeks)) st
    JOIN weeks w ON w.week = st.as_of
    JOIN core.tindak_lanjut_current t ON t.file_id = st.file_id AND t.row_number = st.row_number
), sent AS (
    -- each sender's latest report as of each week: a follow-up it no longer lists is "hilang"
    SELECT w.week, c.kabkota_code AS pengirim, max(c.week) AS laporan_terakhir
    FROM weeks w JOIN core.current_file c ON c.kind = 'tindak_lanjut' AND c.week <= w.week
    GROUP BY ALL
), judged AS (
    SELECT s.*, s.week_end + 1 AS tanggal_acuan,
           s.status IN ('baru', 'berjalan', 'terkendala') AS terbuka,
           lag(s.status) OVER (PARTITION BY s.pengirim, s.id_tindak_lanjut ORDER BY s.week)
               AS status_minggu_lalu,
           min(s.week) OVER (PARTITION BY s.pengirim, s.id_tindak_lanjut) AS minggu_pertama
    FROM state s
)
SELECT
    j.week, j.pengirim, j.id_tindak_lanjut, j.kode_kabkota,
    coalesce(k.kabkota_name, p.provinsi_name) AS wilayah,
    coalesce(k.short_name, p.provinsi_name) AS wilayah_singkat,
    p.provinsi_code IS NOT NULL AS seluruh_provinsi,
    j.tanggal_keputusan, j.forum, j.bidang, j.isu, j.tindakan,
    j.instansi, ei.label_id AS instansi_label,
    j.tenggat, j.status, es.label_id AS status_label, j.tanggal_status, j.catatan,
    j.minggu_laporan, j.minggu_pertama, j.tanggal_acuan,
    j.terbuka,
    j.terbuka AND j.tenggat < j.tanggal_acuan AS terlambat,
    CASE WHEN j.terbuka AND j.tenggat < j.tanggal_acuan
         THEN j.tanggal_acuan - j.tenggat END AS hari_lewat_tenggat,
    CASE WHEN j.terbuka THEN j.tanggal_acuan - j.tanggal_keputusan
         ELSE j.tanggal_status - j.tanggal_keputusan END AS hari_terbuka,
    j.minggu_pertama = j.week AS baru_minggu_ini,
    j.status = 'selesai' AND coalesce(j.status_minggu_lalu, '') <> 'selesai' AS selesai_minggu_ini,
    j.status = 'selesai' AND j.tanggal_status > j.tenggat AS selesai_terlambat,
    j.terbuka AND j.minggu_laporan < sent.laporan_terakhir AS hilang_dari_laporan
FROM judged j
LEFT JOIN ref.kabkota k ON k.kabkota_code = j.kode_kabkota
LEFT JOIN ref.provinsi p ON p.provinsi_code = j.kode_kabkota
LEFT JOIN ref.enumeration ei ON ei.enum_name = 'instansi' AND ei.value = j.instansi
LEFT JOIN ref.enumeration es ON es.enum_name = 'status_tindak_lanjut' AND es.value = j.status
LEFT JOIN sent ON sent.pengirim = j.pengirim AND sent.week = j.week;

-- Per agency and week: what each Forkopimda member still has to do.
CREATE OR REPLACE VIEW mart.tindak_lanjut_instansi_weekly AS
SELECT week, instansi, any_value(instansi_label) AS instansi_label,
       count(*) FILTER (WHERE terbuka) AS terbuka,
       count(*) FILTER (WHERE terlambat) AS terlambat,
       count(*) FILTER (WHERE status = 'terkendala') AS terkendala,
       count(*) FILTER (WHERE selesai_minggu_ini) AS selesai_minggu_ini,
       count(*) FILTER (WHERE baru_minggu_ini) AS baru_minggu_ini
FROM mart.tindak_lanjut
GROUP BY ALL;

-- Per kab/kota and week (every kab/kota, zero when it has none); follow-ups the provincial desk
-- files for the whole province count in mart.tindak_lanjut_instansi_weekly only.
CREATE OR REPLACE VIEW mart.tindak_lanjut_kabkota_weekly AS
SELECT kw.week, kw.kabkota_code,
       count(t.id_tindak_lanjut) FILTER (WHERE t.terbuka) AS terbuka,
       count(t.id_tindak_lanjut) FILTER (WHERE t.terlambat) AS terlambat,
       count(t.id_tindak_lanjut) FILTER (WHERE t.status = 'terkendala') AS terkendala,
       count(t.id_tindak_lanjut) FILTER (WHERE t.selesai_minggu_ini) AS selesai_minggu_ini,
       count(t.id_tindak_lanjut) FILTER (WHERE t.baru_minggu_ini) AS baru_minggu_ini
FROM ref.kabkota_week kw
LEFT JOIN mart.tindak_lanjut t ON t.week = kw.week AND t.kode_kabkota = kw.kabkota_code
GROUP BY ALL;
