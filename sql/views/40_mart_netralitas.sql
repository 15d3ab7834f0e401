-- ASN neutrality cases as known at the end of each week (latest row per case up to that week).
-- ASN totals count only jenis_pegawai pns and pppk; other values are kept but outside the totals.
CREATE OR REPLACE VIEW mart.netralitas_state AS
WITH seen AS (
    SELECT kode_kabkota AS kabkota_code, id_kasus, week AS reported_week, row_number, n.*
        EXCLUDE (kode_kabkota, id_kasus, week, row_number, file_id, flagged)
    FROM core.netralitas_current n
), first_seen AS (
    SELECT kabkota_code, id_kasus, min(reported_week) AS week_pertama,
           min(tanggal_tahap) FILTER (WHERE tahap IN
               ('rekomendasi_ke_bkn', 'rekomendasi_bkn', 'sanksi_dijatuhkan')) AS tanggal_rekomendasi
    FROM seen GROUP BY ALL
)
SELECT w.week, s.*, f.week_pertama,
       f.week_pertama = w.week AS baru,
       s.jenis_pegawai IN ('pns', 'pppk') AS is_asn,
       s.tahap IN ('rekomendasi_ke_bkn', 'rekomendasi_bkn', 'sanksi_dijatuhkan') AS direkomendasikan,
       CASE WHEN f.tanggal_rekomendasi <= w.week_end
            THEN f.tanggal_rekomendasi - s.tanggal_lapor END AS hari_lapor_ke_rekomendasi
FROM (SELECT DISTINCT week, week_end FROM ref.kabkota_week) w
JOIN seen s ON s.reported_week <= w.week
JOIN first_seen f USING (kabkota_code, id_kasus)
QUALIFY row_number() OVER (
    PARTITION BY w.week, s.kabkota_code, s.id_kasus ORDER BY s.reported_week DESC, s.row_number DESC
) = 1;

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
