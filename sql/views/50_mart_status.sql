-- Data quality per kab/kota and week: what arrived, late, missing, rejected, flagged.
CREATE OR REPLACE VIEW mart.kualitas_data_weekly AS
SELECT
    kw.week, kw.kabkota_code,
    count(c.file_id) AS jenis_diterima,
    count(c.file_id) FILTER (WHERE s.is_late) AS jenis_terlambat,
    coalesce(list(k.kind ORDER BY k.seq) FILTER (WHERE c.file_id IS NULL), [])
        AS jenis_hilang,
    coalesce(list(k.kind ORDER BY k.seq) FILTER (WHERE s.is_late), []) AS jenis_terlambat_daftar,
    coalesce(sum(s.rows_flagged), 0) AS baris_ditandai,
    coalesce(sum(s.rows_total), 0) AS baris_total,
    (SELECT count(*) FROM audit.submission_status x
      WHERE x.kabkota_code = kw.kabkota_code AND x.week = kw.week AND x.status = 'rejected')
        AS file_ditolak
FROM ref.kabkota_week kw
CROSS JOIN (VALUES ('ringkasan', 1), ('logistik', 2), ('keamanan', 3), ('insiden', 4),
                   ('netralitas', 5)) k(kind, seq)
LEFT JOIN core.current_file c
    ON c.kabkota_code = kw.kabkota_code AND c.week = kw.week AND c.kind = k.kind
LEFT JOIN audit.submission s ON s.file_id = c.file_id
GROUP BY ALL;

-- Every judged metric of every kab/kota and week, with its level (0 Siap, 1 Waspada, 2 Kritis)
-- and the reason in words, Indonesian and English.
CREATE OR REPLACE VIEW mart.status_finding AS
WITH base AS (
    SELECT kw.week, kw.kabkota_code, kw.h,
           CASE WHEN kw.h > 0 THEN 'H-' || kw.h WHEN kw.h = 0 THEN 'hari H'
                ELSE 'H+' || (-kw.h) END AS h_label,
           l.selisih_target, l.tahap_kritis, l.capaian_tahap_kritis, l.target_tahap_kritis,
           l.selisih_tahap_lewat, l.tahap_lewat, l.capaian_tahap_lewat,
           l.desa_total, l.desa_dihitung_tahap_kritis, l.desa_dihitung_tahap_lewat,
           k.linmas_per_tps, k.kecamatan_total, k.kecamatan_dihitung_linmas,
           l.desa_dilaporkan,
           -- figures that cannot be judged although their report came, because no value of
           -- theirs counts (every one excluded by a rule): said, never silently skipped
           CASE WHEN kw.h >= 0 AND l.desa_dilaporkan > 0 THEN
               (SELECT list(t.label_id ORDER BY t.seq) FROM ref.stage_target t
                WHERE list_contains(l.tahap_tak_terhitung, t.stage)) END AS tahap_tak_terhitung,
           NOT list_contains(q.jenis_hilang, 'keamanan') AND k.linmas_per_tps IS NULL
               AND EXISTS (SELECT 1 FROM ref.status_threshold t WHERE t.metric = 'linmas_per_tps'
                           AND kw.h <= t.h_max AND kw.h >= coalesce(t.h_min, -9999))
               AS linmas_tak_terhitung,
           coalesce(i.insiden_terbuka_tinggi, 0) AS insiden_terbuka_tinggi,
           coalesce(i.korban_meninggal_baru, 0) AS korban_meninggal_baru,
           coalesce(v.korban_meninggal_verifikasi, 0) AS korban_meninggal_verifikasi,
           coalesce(n.kasus_baru, 0) AS kasus_baru, q.jenis_hilang, r.status_umum
    FROM ref.kabkota_week kw
    LEFT JOIN mart.logistik_weekly l USING (week, kabkota_code)
    LEFT JOIN mart.keamanan_weekly k USING (week, kabkota_code)
    LEFT JOIN mart.insiden_weekly i USING (week, kabkota_code)
    LEFT JOIN mart.insiden_verifikasi_weekly v USING (week, kabkota_code)
    LEFT JOIN mart.netralitas_weekly n USING (week, kabkota_code)
    LEFT JOIN mart.kualitas_data_weekly q USING (week, kabkota_code)
    LEFT JOIN core.ringkasan_current r ON r.week = kw.week AND r.kode_kabkota = kw.kabkota_code
), measured AS (
    SELECT b.*, m.area, m.metric, m.value FROM base b,
    LATERAL (VALUES
        ('logistik', 'logistik_selisih', b.selisih_target),
        ('logistik', 'tahap_lewat_tenggat', b.selisih_tahap_lewat),
        ('keamanan', 'linmas_per_tps', b.linmas_per_tps),
        ('keamanan', 'insiden_terbuka_tinggi', b.insiden_terbuka_tinggi::DOUBLE),
        ('keamanan', 'korban_meninggal_baru', b.korban_meninggal_baru::DOUBLE),
        ('keamanan', 'korban_meninggal_verifikasi', b.korban_meninggal_verifikasi::DOUBLE),
        ('netralitas', 'kasus_asn_baru', b.kasus_baru::DOUBLE),
        ('kualitas_data', 'laporan_hilang', len(b.jenis_hilang)::DOUBLE),
        ('kualitas_data', 'logistik_hilang',
            CASE WHEN list_contains(b.jenis_hilang, 'logistik') OR b.desa_dilaporkan = 0
                 THEN 1.0 ELSE 0.0 END),
        ('kualitas_data', 'data_tak_terhitung',
            (coalesce(len(b.tahap_tak_terhitung), 0)
             + CASE WHEN b.linmas_tak_terhitung THEN 1 ELSE 0 END)::DOUBLE),
        ('umum', 'status_umum',
            CASE b.status_umum WHEN 'kritis' THEN 2.0 WHEN 'ada_kendala' THEN 1.0
                 WHEN 'aman_terkendali' THEN 0.0 END)
    ) m(area, metric, value)
), judged AS (
    -- Values are compared after rounding to 9 decimals, so a share of exactly 90 % (which
    -- floating point makes 0.8999…) meets a 10 % gap threshold as a person would expect; ratios
    -- shown in reasons are truncated, never rounded up to the very norm they fail.
    SELECT m.*, t.waspada_at, t.kritis_at, t.direction,
           floor(round(m.value * 100, 6)) / 100 AS shown_down,
           CASE
               WHEN m.value IS NULL THEN 0
               WHEN t.direction = 'above' AND round(m.value, 9) >= t.kritis_at THEN 2
               WHEN t.direction = 'above' AND round(m.value, 9) >= t.waspada_at THEN 1
               WHEN t.direction = 'below' AND round(m.value, 9) < t.kritis_at THEN 2
               WHEN t.direction = 'below' AND round(m.value, 9) < t.waspada_at THEN 1
               ELSE 0
           END AS level
    FROM measured m
    JOIN ref.status_threshold t
        ON t.metric = m.metric AND m.h <= t.h_max AND m.h >= coalesce(t.h_min, -9999)
    QUALIFY row_number() OVER (PARTITION BY m.week, m.kabkota_code, m.metric ORDER BY t.h_max) = 1
)
-- Counts are printed via HUGEINT, not INTEGER: a week's casualties summed over many incidents
-- need not fit 32 bits, and a failed cast would stop every kab/kota's bulletin.
SELECT
    j.week, j.kabkota_code, j.area, j.metric, j.value, j.level,
    CASE j.metric
        WHEN 'logistik_selisih' THEN format('logistik di {} baru {}% (target {}%) pada {}{}',
            st.label_id, replace(printf('%.1f', floor(round(j.capaian_tahap_kritis * 1000, 6)) / 10), '.', ','),
            round(j.target_tahap_kritis * 100)::INTEGER, j.h_label,
            CASE WHEN j.desa_dihitung_tahap_kritis < j.desa_total THEN format(
                ' (dihitung dari {} dari {} desa/kelurahan)', j.desa_dihitung_tahap_kritis,
                j.desa_total) ELSE '' END)
        WHEN 'tahap_lewat_tenggat' THEN format(
            'logistik di {} baru {}%, padahal tenggatnya {} ({}){}', sl.label_id,
            replace(printf('%.1f', floor(round(j.capaian_tahap_lewat * 1000, 6)) / 10), '.', ','),
            strftime(DATE '2024-11-27' - sl.due_h, '%d-%m-%Y'), 'H-' || sl.due_h,
            CASE WHEN j.desa_dihitung_tahap_lewat < j.desa_total THEN format(
                ' (dihitung dari {} dari {} desa/kelurahan)', j.desa_dihitung_tahap_lewat,
                j.desa_total) ELSE '' END)
        WHEN 'linmas_per_tps' THEN format('Linmas baru {} per TPS (ketentuan 2) pada {}{}',
            replace(printf('%.2f', j.shown_down), '.', ','), j.h_label,
            CASE WHEN j.kecamatan_dihitung_linmas < j.kecamatan_total THEN format(
                ' (dihitung dari {} dari {} kecamatan)', j.kecamatan_dihitung_linmas,
                j.kecamatan_total) ELSE '' END)
        WHEN 'insiden_terbuka_tinggi' THEN format('{} insiden tingkat tinggi masih terbuka',
            j.value::HUGEINT)
        WHEN 'korban_meninggal_baru' THEN format('{} korban meninggal dalam insiden minggu ini',
            j.value::HUGEINT)
        WHEN 'korban_meninggal_verifikasi' THEN format(
            '{} korban meninggal dilaporkan dalam laporan insiden yang perlu verifikasi',
            j.value::HUGEINT)
        WHEN 'kasus_asn_baru' THEN format('{} kasus netralitas ASN baru minggu ini', j.value::HUGEINT)
        WHEN 'laporan_hilang' THEN format('laporan {} belum diterima',
            array_to_string(j.jenis_hilang, ', '))
        WHEN 'logistik_hilang' THEN CASE WHEN list_contains(j.jenis_hilang, 'logistik')
            THEN format('laporan logistik tidak diterima pada {}', j.h_label)
            ELSE format('laporan logistik diterima, tetapi tidak ada angka yang sah pada {} '
                        || '(semua baris/nilai ditandai)', j.h_label) END
        WHEN 'data_tak_terhitung' THEN format(
            'tidak dapat dinilai karena tidak ada angka yang sah (semua ditandai): {}',
            array_to_string(list_concat(
                CASE WHEN j.tahap_tak_terhitung IS NOT NULL THEN ['logistik di '
                    || array_to_string(j.tahap_tak_terhitung, ', ')] ELSE [] END,
                CASE WHEN j.linmas_tak_terhitung THEN ['Linmas per TPS'] ELSE [] END), ', '))
        WHEN 'status_umum' THEN CASE j.status_umum WHEN 'kritis'
            THEN 'kab/kota melaporkan kondisi kritis' ELSE 'kab/kota melaporkan ada kendala' END
    END AS reason_id,
    CASE j.metric
        WHEN 'logistik_selisih' THEN format('logistics at {} only {}% (target {}%) at {}{}',
            CASE j.tahap_kritis WHEN 'kabkota' THEN 'the regency warehouse'
                WHEN 'ppk' THEN 'PPK (sub-district)' WHEN 'pps' THEN 'PPS (village)'
                ELSE 'the polling stations' END,
            printf('%.1f', floor(round(j.capaian_tahap_kritis * 1000, 6)) / 10),
            round(j.target_tahap_kritis * 100)::INTEGER, replace(j.h_label, 'hari H', 'D-day'),
            CASE WHEN j.desa_dihitung_tahap_kritis < j.desa_total THEN format(
                ' (counted from {} of {} villages)', j.desa_dihitung_tahap_kritis, j.desa_total)
                ELSE '' END)
        WHEN 'tahap_lewat_tenggat' THEN format('logistics at {} only {}%, past its due date {} ({}){}',
            CASE j.tahap_lewat WHEN 'kabkota' THEN 'the regency warehouse'
                WHEN 'ppk' THEN 'PPK (sub-district)' WHEN 'pps' THEN 'PPS (village)'
                ELSE 'the polling stations' END,
            printf('%.1f', floor(round(j.capaian_tahap_lewat * 1000, 6)) / 10),
            strftime(DATE '2024-11-27' - sl.due_h, '%Y-%m-%d'), 'D-' || sl.due_h,
            CASE WHEN j.desa_dihitung_tahap_lewat < j.desa_total THEN format(
                ' (counted from {} of {} villages)', j.desa_dihitung_tahap_lewat, j.desa_total)
                ELSE '' END)
        WHEN 'linmas_per_tps' THEN format('only {} Linmas per TPS (rule: 2) at {}{}',
            printf('%.2f', j.shown_down), replace(j.h_label, 'hari H', 'D-day'),
            CASE WHEN j.kecamatan_dihitung_linmas < j.kecamatan_total THEN format(
                ' (counted from {} of {} subdistricts)', j.kecamatan_dihitung_linmas,
                j.kecamatan_total) ELSE '' END)
        WHEN 'insiden_terbuka_tinggi' THEN format('{} high-severity incidents still open',
            j.value::HUGEINT)
        WHEN 'korban_meninggal_baru' THEN format('{} deaths in incidents this week', j.value::HUGEINT)
        WHEN 'korban_meninggal_verifikasi' THEN format(
            '{} deaths claimed in incident reports that need verification', j.value::HUGEINT)
        WHEN 'kasus_asn_baru' THEN format('{} new civil-servant neutrality cases this week',
            j.value::HUGEINT)
        WHEN 'laporan_hilang' THEN format('{} report(s) not received',
            array_to_string(j.jenis_hilang, ', '))
        WHEN 'logistik_hilang' THEN CASE WHEN list_contains(j.jenis_hilang, 'logistik')
            THEN 'logistics report not received'
            ELSE 'logistics report received, but none of its figures is valid (all flagged)' END
        WHEN 'data_tak_terhitung' THEN format(
            'cannot be judged, no valid figure (all flagged): {}',
            array_to_string(list_concat(
                CASE WHEN j.tahap_tak_terhitung IS NOT NULL THEN ['logistics ('
                    || array_to_string(j.tahap_tak_terhitung, ', ') || ')'] ELSE [] END,
                CASE WHEN j.linmas_tak_terhitung THEN ['Linmas per TPS'] ELSE [] END), ', '))
        WHEN 'status_umum' THEN CASE j.status_umum WHEN 'kritis'
            THEN 'the regency reports a critical situation' ELSE 'the regency reports problems' END
    END AS reason_en
FROM judged j
LEFT JOIN ref.stage_target st ON st.stage = j.tahap_kritis
LEFT JOIN ref.stage_target sl ON sl.stage = j.tahap_lewat;

-- One row per kab/kota and week: overall status and the headline metrics of each area.
CREATE OR REPLACE VIEW mart.kabkota_weekly AS
WITH s AS (
    SELECT week, kabkota_code, max(level) AS level,
           string_agg(reason_id, '; ' ORDER BY level DESC, area, metric) FILTER (WHERE level > 0)
               AS alasan,
           string_agg(reason_en, '; ' ORDER BY level DESC, area, metric) FILTER (WHERE level > 0)
               AS alasan_en,
           max(level) FILTER (WHERE area = 'logistik') AS level_logistik,
           max(level) FILTER (WHERE area = 'keamanan') AS level_keamanan,
           max(level) FILTER (WHERE area = 'netralitas') AS level_netralitas,
           max(level) FILTER (WHERE area = 'kualitas_data') AS level_kualitas_data
    FROM mart.status_finding GROUP BY ALL
)
SELECT
    kw.week, kw.kabkota_code, kw.kabkota_name, kw.short_name, kw.h, kw.fase,
    ['Siap', 'Waspada', 'Kritis'][coalesce(s.level, 0) + 1] AS status,
    lag(['Siap', 'Waspada', 'Kritis'][coalesce(s.level, 0) + 1])
        OVER (PARTITION BY kw.kabkota_code ORDER BY kw.week) AS status_minggu_lalu,
    coalesce(s.level, 0) AS status_level,
    s.alasan, s.alasan_en,
    s.level_logistik, s.level_keamanan, s.level_netralitas, s.level_kualitas_data,
    r.status_umum, r.narasi,
    l.pct_kabkota, l.pct_ppk, l.pct_pps, l.pct_tps, l.pct_tps_lengkap, l.tps_lengkap,
    l.desa_kurang, l.rusak, l.proyeksi_lengkap_tps,
    -- coverage (issue 21): how much of what the figures describe counts; a report not received
    -- leaves these NULL ("belum melapor"), a received one with everything counted has them equal
    l.desa_total, l.desa_dihitung, l.desa_dilaporkan, l.desa_dihitung_pps,
    k.kecamatan_total, k.kecamatan_dilaporkan, k.kecamatan_dihitung_linmas,
    NOT list_contains(q.jenis_hilang, 'insiden') AS insiden_dilaporkan,
    NOT list_contains(q.jenis_hilang, 'netralitas') AS netralitas_dilaporkan,
    -- a missing security report never blanks what the logistics report gives
    coalesce(k.jumlah_tps, l.jumlah_tps) AS jumlah_tps,
    CASE WHEN k.jumlah_tps IS NOT NULL THEN 'keamanan'
         WHEN l.jumlah_tps IS NOT NULL THEN 'logistik' END AS jumlah_tps_sumber,
    k.tps_rawan, k.tps_sangat_rawan, k.linmas_per_tps, k.polri_per_tps,
    k.tni_per_tps,
    EXISTS (SELECT 1 FROM ref.status_threshold t WHERE t.metric = 'linmas_per_tps'
            AND kw.h <= t.h_max AND kw.h >= coalesce(t.h_min, -9999)) AS linmas_dinilai,
    l.tahap_berikut, l.tahap_berikut_label, l.tenggat_tahap_berikut, l.h_tahap_berikut,
    l.tahap_berikut_lewat_tenggat,
    coalesce(dt.desa_tertinggal, 0) AS desa_tertinggal,
    coalesce(i.insiden_baru, 0) AS insiden_baru, coalesce(i.insiden_terbuka, 0) AS insiden_terbuka,
    coalesce(v.insiden_verifikasi, 0) AS insiden_verifikasi,
    coalesce(v.korban_meninggal_verifikasi, 0) AS korban_meninggal_verifikasi,
    coalesce(v.korban_luka_verifikasi, 0) AS korban_luka_verifikasi,
    coalesce(n.kasus_baru, 0) AS kasus_asn_baru,
    coalesce(n.kasus_kumulatif, 0) AS kasus_asn_kumulatif,
    coalesce(n.kasus_sanksi, 0) AS kasus_asn_sanksi,
    coalesce(n.kasus_non_asn_baru, 0) AS kasus_non_asn_baru,
    coalesce(n.kasus_non_asn, 0) AS kasus_non_asn,
    -- where a desk's own words contradict its figures (shown next to them, never silently)
    nullif(concat_ws(' ',
        CASE WHEN coalesce(i.insiden_baru, 0) > 0 AND regexp_matches(lower(coalesce(r.narasi, '')),
                 'tidak (ada|terdapat) (kejadian|insiden|gangguan)')
             THEN format('Narasi menyebut tidak ada kejadian, tetapi laporan insiden memuat {} '
                         || 'insiden baru minggu ini.', i.insiden_baru) END,
        CASE WHEN r.status_umum = 'aman_terkendali' AND coalesce(s.level, 0) = 2
             THEN 'Kab/kota melaporkan aman terkendali, tetapi angka-angkanya berstatus Kritis.'
        END), '') AS catatan_konsistensi,
    q.jenis_diterima, q.jenis_terlambat, q.jenis_hilang, q.file_ditolak, q.baris_ditandai,
    tl.terbuka AS tindak_lanjut_terbuka, tl.terlambat AS tindak_lanjut_terlambat
FROM ref.kabkota_week kw
LEFT JOIN s USING (week, kabkota_code)
LEFT JOIN core.ringkasan_current r ON r.week = kw.week AND r.kode_kabkota = kw.kabkota_code
LEFT JOIN mart.logistik_weekly l USING (week, kabkota_code)
LEFT JOIN mart.keamanan_weekly k USING (week, kabkota_code)
LEFT JOIN mart.insiden_weekly i USING (week, kabkota_code)
LEFT JOIN mart.insiden_verifikasi_weekly v USING (week, kabkota_code)
LEFT JOIN mart.netralitas_weekly n USING (week, kabkota_code)
LEFT JOIN mart.kualitas_data_weekly q USING (week, kabkota_code)
LEFT JOIN mart.tindak_lanjut_kabkota_weekly tl USING (week, kabkota_code)
LEFT JOIN (SELECT week, kabkota_code, sum(desa_tertinggal) AS desa_tertinggal
           FROM mart.desa_tertinggal GROUP BY ALL) dt USING (week, kabkota_code);
