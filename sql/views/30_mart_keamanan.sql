-- Security per kab/kota and week: TPS by police class, personnel per TPS, incidents.
-- Sums are HUGEINT (never overflow); shown as BIGINT, NULL in the absurd case one would not fit
-- (only rows loaded before the rentang_wajar rule could get there).
CREATE OR REPLACE VIEW mart.keamanan_weekly AS
SELECT
    week, kode_kabkota AS kabkota_code,
    TRY_CAST(sum(jumlah_tps) AS BIGINT) AS jumlah_tps,
    TRY_CAST(sum(tps_kurang_rawan) AS BIGINT) AS tps_kurang_rawan,
    TRY_CAST(sum(tps_rawan) AS BIGINT) AS tps_rawan,
    TRY_CAST(sum(tps_sangat_rawan) AS BIGINT) AS tps_sangat_rawan,
    TRY_CAST(sum(personel_polri) AS BIGINT) AS personel_polri,
    TRY_CAST(sum(personel_tni) AS BIGINT) AS personel_tni,
    TRY_CAST(sum(personel_linmas) AS BIGINT) AS personel_linmas,
    TRY_CAST(sum(posko) AS BIGINT) AS posko,
    sum(personel_polri) / nullif(sum(jumlah_tps), 0) AS polri_per_tps,
    sum(personel_tni) / nullif(sum(jumlah_tps), 0) AS tni_per_tps,
    sum(personel_linmas) / nullif(sum(jumlah_tps), 0) AS linmas_per_tps,
    (sum(tps_rawan) + sum(tps_sangat_rawan)) / nullif(sum(jumlah_tps), 0) AS pct_tps_rawan
FROM core.keamanan_current
GROUP BY ALL;

-- Each incident as known at the end of each week: its latest reported row up to that week.
CREATE OR REPLACE VIEW mart.insiden_state AS
WITH seen AS (
    SELECT kode_kabkota AS kabkota_code, id_insiden, week AS reported_week, row_number, i.*
        EXCLUDE (kode_kabkota, id_insiden, week, row_number, file_id, flagged)
    FROM core.insiden_current i
), first_seen AS (
    SELECT kabkota_code, id_insiden, min(reported_week) AS week_pertama FROM seen GROUP BY ALL
)
SELECT w.week, s.*, f.week_pertama,
       s.status NOT IN ('selesai', 'tidak_terbukti') AS terbuka,
       f.week_pertama = w.week AS baru
FROM (SELECT DISTINCT week FROM ref.kabkota_week) w
JOIN seen s ON s.reported_week <= w.week
JOIN first_seen f USING (kabkota_code, id_insiden)
QUALIFY row_number() OVER (
    PARTITION BY w.week, s.kabkota_code, s.id_insiden ORDER BY s.reported_week DESC, s.row_number DESC
) = 1;

CREATE OR REPLACE VIEW mart.insiden_weekly AS
SELECT
    week, kabkota_code,
    count(*) FILTER (WHERE baru) AS insiden_baru,
    count(*) FILTER (WHERE terbuka) AS insiden_terbuka,
    count(*) FILTER (WHERE terbuka AND tingkat = 'tinggi') AS insiden_terbuka_tinggi,
    coalesce(sum(korban_meninggal) FILTER (WHERE baru), 0) AS korban_meninggal_baru,
    coalesce(sum(korban_luka) FILTER (WHERE baru), 0) AS korban_luka_baru,
    count(*) AS insiden_kumulatif
FROM mart.insiden_state
GROUP BY ALL;

-- Incident rows a rule flagged that still claim a death, an injury or high severity. They stay
-- out of the counts above (some value of the row is in doubt) but never out of sight: the
-- bulletin lists them as "perlu verifikasi", and a claimed death makes the kab/kota Kritis until
-- the desk corrects the row (mart.status_finding, metric korban_meninggal_verifikasi).
CREATE OR REPLACE VIEW mart.insiden_perlu_verifikasi AS
SELECT c.week, c.kabkota_code, i.id_insiden, i.waktu_kejadian, i.kode_kecamatan, i.kategori,
       i.tingkat, i.status, i.korban_meninggal, i.korban_luka, i.ringkasan, i.row_number,
       (SELECT string_agg(DISTINCT ri.message, '; ')
        FROM audit.row_issue ri
        WHERE ri.file_id = i.file_id AND ri.row_number = i.row_number
          AND ri.severity = 'flag') AS alasan
FROM core.insiden i
JOIN core.current_file c USING (file_id)
WHERE i.flagged
  AND (coalesce(i.korban_meninggal, 0) > 0 OR coalesce(i.korban_luka, 0) > 0
       OR i.tingkat = 'tinggi');

CREATE OR REPLACE VIEW mart.insiden_verifikasi_weekly AS
SELECT week, kabkota_code, count(*) AS insiden_verifikasi,
       coalesce(sum(korban_meninggal), 0) AS korban_meninggal_verifikasi,
       coalesce(sum(korban_luka), 0) AS korban_luka_verifikasi
FROM mart.insiden_perlu_verifikasi
GROUP BY ALL;
