-- Security per kab/kota and week: TPS by police class, personnel per TPS, incidents.
-- Sums are HUGEINT (never overflow); shown as BIGINT, NULL in the absurd case one would not fit
-- (only rows loaded before the rentang_wajar rule could get there). A value a rule excluded is
-- NULL in core.keamanan_current: each ratio is taken over the kecamatan whose numerator and
-- denominator both count, and the coverage columns say how many that is of the kab/kota's
-- kecamatan (`kecamatan_total`, from the reference).
CREATE OR REPLACE VIEW mart.keamanan_weekly AS
WITH k AS (
    SELECT *,
           jumlah_tps IS NOT NULL AND tps_kurang_rawan IS NOT NULL AND tps_rawan IS NOT NULL
               AND tps_sangat_rawan IS NOT NULL AS kelas_dihitung
    FROM core.keamanan_current
)
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
    sum(personel_polri) FILTER (WHERE jumlah_tps IS NOT NULL)
        / nullif(sum(jumlah_tps) FILTER (WHERE personel_polri IS NOT NULL), 0) AS polri_per_tps,
    sum(personel_tni) FILTER (WHERE jumlah_tps IS NOT NULL)
        / nullif(sum(jumlah_tps) FILTER (WHERE personel_tni IS NOT NULL), 0) AS tni_per_tps,
    sum(personel_linmas) FILTER (WHERE jumlah_tps IS NOT NULL)
        / nullif(sum(jumlah_tps) FILTER (WHERE personel_linmas IS NOT NULL), 0) AS linmas_per_tps,
    (sum(tps_rawan) FILTER (WHERE kelas_dihitung) + sum(tps_sangat_rawan) FILTER (WHERE kelas_dihitung))
        / nullif(sum(jumlah_tps) FILTER (WHERE kelas_dihitung), 0) AS pct_tps_rawan,
    (SELECT count(*) FROM ref.kecamatan r WHERE r.kabkota_code = k.kode_kabkota) AS kecamatan_total,
    count(*) AS kecamatan_dilaporkan,
    count(*) FILTER (WHERE personel_linmas IS NOT NULL AND jumlah_tps IS NOT NULL)
        AS kecamatan_dihitung_linmas,
    count(*) FILTER (WHERE kelas_dihitung) AS kecamatan_dihitung_kelas
FROM k
GROUP BY week, kode_kabkota;

-- Each incident as known at the end of each week (core.item_state: its latest reported row up to
-- that week).
CREATE OR REPLACE VIEW mart.insiden_state AS
WITH seen AS (
    SELECT file_id, kode_kabkota AS kabkota_code, id_insiden, week AS reported_week, row_number, i.*
        EXCLUDE (kode_kabkota, id_insiden, week, row_number, file_id, flagged)
    FROM core.insiden_current i
), first_seen AS (
    SELECT kabkota_code, id_insiden, min(reported_week) AS week_pertama FROM seen GROUP BY ALL
)
SELECT st.as_of AS week, s.* EXCLUDE (file_id), f.week_pertama,
       -- a status a rule excluded is not known to be closed: the incident counts as open
       coalesce(s.status NOT IN ('selesai', 'tidak_terbukti'), true) AS terbuka,
       f.week_pertama = st.as_of AS baru
FROM core.item_state('insiden', (SELECT list(DISTINCT week) FROM ref.kabkota_week)) st
JOIN seen s ON s.file_id = st.file_id AND s.row_number = st.row_number
JOIN first_seen f USING (kabkota_code, id_insiden);

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

-- Incident rows whose claim of a death, an injury or high severity does not count: the row's
-- identity was rejected (effect `row`, e.g. an id used twice) or a rule excluded that very value
-- (effect `values`, e.g. a negative or unreadable count). A claim that counts is in the figures
-- above and not here (a death written with tingkat `rendah` counts: only the tingkat is in doubt),
-- so nothing is counted twice. The bulletin lists these as "perlu verifikasi", and a claimed death
-- makes the kab/kota Kritis until the desk corrects the row (metric korban_meninggal_verifikasi).
CREATE OR REPLACE VIEW mart.insiden_perlu_verifikasi AS
WITH claims AS (
    SELECT c.week, c.kabkota_code, i.*,
           coalesce(i.excluded, false) AS baris_dikecualikan,
           coalesce(i.excluded, false)
               OR coalesce(list_contains(i.excluded_columns, 'korban_meninggal'), false)
               AS meninggal_tak_dihitung,
           coalesce(i.excluded, false)
               OR coalesce(list_contains(i.excluded_columns, 'korban_luka'), false)
               AS luka_tak_dihitung,
           coalesce(i.excluded, false)
               OR coalesce(list_contains(i.excluded_columns, 'tingkat'), false)
               AS tingkat_tak_dihitung
    FROM core.insiden i
    JOIN core.current_file c USING (file_id)
    WHERE i.flagged
)
SELECT week, kabkota_code, id_insiden, waktu_kejadian, kode_kecamatan, kategori,
       tingkat, status, korban_meninggal, korban_luka, ringkasan, row_number,
       (SELECT string_agg(DISTINCT ri.message, '; ')
        FROM audit.row_issue ri
        WHERE ri.file_id = claims.file_id AND ri.row_number = claims.row_number
          AND ri.severity = 'flag') AS alasan,
       meninggal_tak_dihitung, luka_tak_dihitung
FROM claims
WHERE (meninggal_tak_dihitung AND coalesce(korban_meninggal, 0) > 0)
   OR (luka_tak_dihitung AND coalesce(korban_luka, 0) > 0)
   OR (tingkat_tak_dihitung AND tingkat = 'tinggi');

-- Only claims that are not already counted: a row listed for its doubtful injury count keeps
-- its death in insiden_weekly, not here.
CREATE OR REPLACE VIEW mart.insiden_verifikasi_weekly AS
SELECT week, kabkota_code, count(*) AS insiden_verifikasi,
       coalesce(sum(korban_meninggal) FILTER (WHERE meninggal_tak_dihitung), 0)
           AS korban_meninggal_verifikasi,
       coalesce(sum(korban_luka) FILTER (WHERE luka_tak_dihitung), 0) AS korban_luka_verifikasi
FROM mart.insiden_perlu_verifikasi
GROUP BY ALL;
