-- ASN neutrality cases as known at the end of each week (core.item_state: the latest row per case
-- up to that week).
-- ASN totals count only jenis_pegawai pns and pppk; other values are kept but outside the totals.
CREATE OR REPLACE VIEW mart.netralitas_state AS
WITH seen AS (
    SELECT file_id, kode_kabkota AS kabkota_code, id_kasus, week AS reported_week, row_number, n.*
        EXCLUDE (kode_kabkota, id_kasus, week, row_number, file_id, flagged)
    FROM core.netralitas_current n
), first_seen AS (
    SELECT kabkota_code, id_kasus, min(reported_week) AS week_pertama,
           min(tanggal_tahap) FILTER (WHERE tahap IN
               ('rekomendasi_ke_bkn', 'rekomendasi_bkn', 'sanksi_dijatuhkan')) AS tanggal_rekomendasi
    FROM seen GROUP BY ALL
), weeks AS (
    SELECT DISTINCT week, week_end FROM ref.kabkota_week
)
SELECT w.week, s.* EXCLUDE (file_id), f.week_pertama,
       f.week_pertama = w.week AS baru,
       s.jenis_pegawai IN ('pns', 'pppk') AS is_asn,
       s.tahap IN ('rekomendasi_ke_bkn', 'rekomendasi_bkn', 'sanksi_dijatuhkan') AS direkomendasikan,
       CASE WHEN f.tanggal_rekomendasi <= w.week_end
            THEN f.tanggal_rekomendasi - s.tanggal_lapor END AS hari_lapor_ke_rekomendasi
FROM core.item_state('netralitas', (SELECT list(week) FROM weeks)) st
JOIN weeks w ON w.week = st.as_of
JOIN seen s ON s.file_id = st.file_id AND s.row_number = st.row_number
JOIN first_seen f USING (kabkota_code, id_kasus);

CREATE OR REPLACE VIEW mart.netralitas_weekly AS
SELECT
    week, kabkota_code,
    count(*) FILTER (WHERE is_asn AND baru) AS kasus_baru,
    count(*) FILTER (WHERE is_asn) AS kasus_kumulatif,
    count(*) FILTER (WHERE is_asn AND tahap IN ('registrasi', 'kajian_bawaslu')) AS kasus_proses_bawaslu,
    count(*) FILTER (WHERE is_asn AND direkomendasikan) AS kasus_direkomendasikan,
    count(*) FILTER (WHERE is_asn AND tahap = 'sanksi_dijatuhkan') AS kasus_sanksi,
    count(*) FILTER (WHERE is_asn AND tahap IN ('bukan_pelanggaran', 'dihentikan',
                                                'tidak_ditindaklanjuti')) AS kasus_ditutup,
    count(*) FILTER (WHERE NOT is_asn) AS kasus_non_asn,
    count(*) FILTER (WHERE NOT is_asn AND baru) AS kasus_non_asn_baru,
    median(hari_lapor_ke_rekomendasi) FILTER (WHERE is_asn) AS median_hari_ke_rekomendasi
FROM mart.netralitas_state
GROUP BY ALL;

CREATE OR REPLACE VIEW mart.netralitas_tahap AS
SELECT week, kabkota_code, tahap, count(*) AS kasus
FROM mart.netralitas_state WHERE is_asn GROUP BY ALL;
