-- Every required village × item of every current logistik submission, with what was received.
-- Denominators are the reference requirement (ref.kebutuhan). A quantity that does not count
-- (the village × item is absent from the report, its row's identity was rejected, or a rule
-- excluded that value) is NULL at its stage, never zero: shares are taken over the
-- requirement of what counts, and the coverage says how much that is (docs/metrics.md).
-- Received quantities are capped at the requirement so a surplus in one village cannot hide
-- another's gap. Sums are HUGEINT; `rusak` (not capped) is shown as BIGINT, NULL in the absurd
-- case it would not fit.
CREATE OR REPLACE VIEW mart.logistik_desa_item_weekly AS
SELECT
    c.week, r.kabkota_code, r.kecamatan_code, r.desa_code, r.barang, r.n_tps,
    r.jumlah_kebutuhan AS kebutuhan,
    -- CASE, not least(): DuckDB's least() skips a NULL and would count a missing value as full
    CASE WHEN l.diterima_kabkota IS NOT NULL
         THEN least(l.diterima_kabkota, r.jumlah_kebutuhan) END AS di_kabkota,
    CASE WHEN l.diterima_ppk IS NOT NULL THEN least(l.diterima_ppk, r.jumlah_kebutuhan) END AS di_ppk,
    CASE WHEN l.diterima_pps IS NOT NULL THEN least(l.diterima_pps, r.jumlah_kebutuhan) END AS di_pps,
    CASE WHEN l.diterima_tps IS NOT NULL THEN least(l.diterima_tps, r.jumlah_kebutuhan) END AS di_tps,
    l.rusak,
    l.tps_lengkap, l.moda_angkut,
    l.kode_desa IS NULL AS tidak_dihitung
FROM core.current_file c
JOIN ref.kebutuhan r ON r.kabkota_code = c.kabkota_code
LEFT JOIN core.logistik_current l
    ON l.file_id = c.file_id AND l.kode_desa = r.desa_code AND l.barang = r.barang
WHERE c.kind = 'logistik';

-- Logistics per kab/kota, week and item. `cakupan_<stage>`: the share of the requirement whose
-- quantity at that stage counts (1 when every village × item was reported with a valid value).
CREATE OR REPLACE VIEW mart.logistik_item_weekly AS
SELECT
    week, kabkota_code, barang,
    sum(kebutuhan)::BIGINT AS kebutuhan,
    coalesce(sum(di_kabkota), 0)::BIGINT AS di_kabkota,
    coalesce(sum(di_ppk), 0)::BIGINT AS di_ppk,
    coalesce(sum(di_pps), 0)::BIGINT AS di_pps,
    coalesce(sum(di_tps), 0)::BIGINT AS di_tps,
    TRY_CAST(coalesce(sum(rusak), 0) AS BIGINT) AS rusak,
    count(*) FILTER (WHERE tidak_dihitung) AS baris_tidak_dihitung,
    sum(di_kabkota) / sum(kebutuhan) FILTER (WHERE di_kabkota IS NOT NULL) AS pct_kabkota,
    sum(di_ppk) / sum(kebutuhan) FILTER (WHERE di_ppk IS NOT NULL) AS pct_ppk,
    sum(di_pps) / sum(kebutuhan) FILTER (WHERE di_pps IS NOT NULL) AS pct_pps,
    sum(di_tps) / sum(kebutuhan) FILTER (WHERE di_tps IS NOT NULL) AS pct_tps,
    count(*) FILTER (WHERE NOT tidak_dihitung AND (di_kabkota IS NULL OR di_ppk IS NULL
                     OR di_pps IS NULL OR di_tps IS NULL)) AS baris_nilai_dikecualikan,
    coalesce(sum(kebutuhan) FILTER (WHERE di_kabkota IS NOT NULL), 0) / sum(kebutuhan)
        AS cakupan_kabkota,
    coalesce(sum(kebutuhan) FILTER (WHERE di_ppk IS NOT NULL), 0) / sum(kebutuhan) AS cakupan_ppk,
    coalesce(sum(kebutuhan) FILTER (WHERE di_pps IS NOT NULL), 0) / sum(kebutuhan) AS cakupan_pps,
    coalesce(sum(kebutuhan) FILTER (WHERE di_tps IS NOT NULL), 0) / sum(kebutuhan) AS cakupan_tps
FROM mart.logistik_desa_item_weekly
GROUP BY ALL;

-- Per village: the shortfall at PPS (the village committee) and TPS with the full kit.
CREATE OR REPLACE VIEW mart.logistik_desa_weekly AS
SELECT
    week, kabkota_code, kecamatan_code, desa_code,
    max(n_tps) AS jumlah_tps,
    max(tps_lengkap) AS tps_lengkap,  -- NULL when not counted
    count(*) FILTER (WHERE di_pps < kebutuhan) AS barang_kurang_di_pps,
    string_agg(barang, ', ' ORDER BY barang) FILTER (WHERE di_pps < kebutuhan)
        AS daftar_barang_kurang,
    TRY_CAST(coalesce(sum(rusak), 0) AS BIGINT) AS rusak,
    any_value(moda_angkut) AS moda_angkut,
    -- which stages count for every item of the village (coverage of the figures per stage)
    bool_and(di_kabkota IS NOT NULL) AS dihitung_kabkota,
    bool_and(di_ppk IS NOT NULL) AS dihitung_ppk,
    bool_and(di_pps IS NOT NULL) AS dihitung_pps,
    bool_and(di_tps IS NOT NULL) AS dihitung_tps,
    bool_or(di_kabkota IS NOT NULL OR di_ppk IS NOT NULL OR di_pps IS NOT NULL
            OR di_tps IS NOT NULL) AS dilaporkan
FROM mart.logistik_desa_item_weekly
GROUP BY ALL;

-- Expected share of each stage at a given H-n (linear ramp between start_h and due_h).
CREATE OR REPLACE VIEW mart.stage_expected AS
SELECT w.week, w.h, t.stage, t.seq, t.label_id,
       greatest(0.0, least(1.0, (t.start_h - w.h)::DOUBLE / (t.start_h - t.due_h))) AS expected
FROM ref.week w CROSS JOIN ref.stage_target t;

-- Villages behind the plan for the date (not behind the full requirement): an item whose share
-- at some stage is below that stage's expected share at this H-n. One row per village, with the
-- earliest stage where it falls behind (where the chain is blocked) and the items behind: the
-- desk's own work list (its annex lists every one).
CREATE OR REPLACE VIEW mart.desa_tertinggal_desa AS
WITH behind AS (
    SELECT d.week, d.kabkota_code, d.kecamatan_code, d.desa_code, d.barang, d.moda_angkut,
           e.seq
    FROM mart.logistik_desa_item_weekly d
    JOIN mart.stage_expected e ON e.week = d.week
    WHERE d.kebutuhan > 0
      AND (CASE e.stage WHEN 'kabkota' THEN d.di_kabkota WHEN 'ppk' THEN d.di_ppk
                WHEN 'pps' THEN d.di_pps ELSE d.di_tps END)::DOUBLE / d.kebutuhan
          < e.expected - 1e-9
), desa AS (
    SELECT week, kabkota_code, kecamatan_code, desa_code, min(seq) AS seq,
           list_sort(list(DISTINCT barang)) AS barang, any_value(moda_angkut) AS moda_angkut
    FROM behind GROUP BY ALL
)
SELECT d.week, d.kabkota_code, d.kecamatan_code, d.desa_code, r.desa_name,
       t.stage AS tahap, t.label_id AS tahap_label, t.seq AS tahap_seq, d.barang, d.moda_angkut,
       coalesce(d.moda_angkut IN ('sungai', 'udara'), false) AS terpencil
FROM desa d
JOIN ref.desa r ON r.desa_code = d.desa_code
JOIN ref.stage_target t ON t.seq = d.seq;

-- The same villages per kecamatan: how many, how many remote, the earliest stage behind.
CREATE OR REPLACE VIEW mart.desa_tertinggal AS
SELECT d.week, d.kabkota_code, d.kecamatan_code, k.kecamatan_name,
       count(*) AS desa_tertinggal,
       count(*) FILTER (WHERE d.terpencil) AS desa_terpencil,
       arg_min(d.tahap, d.tahap_seq) AS tahap, arg_min(d.tahap_label, d.tahap_seq) AS tahap_label,
       list_sort(list_distinct(flatten(list(d.barang)))) AS barang,
       list_sort(list(d.desa_name)) AS desa
FROM mart.desa_tertinggal_desa d
JOIN ref.kecamatan k ON k.kecamatan_code = d.kecamatan_code
GROUP BY ALL;

CREATE OR REPLACE VIEW mart.logistik_weekly AS
WITH item AS (
    SELECT week, kabkota_code,
           avg(pct_kabkota) AS pct_kabkota, avg(pct_ppk) AS pct_ppk,
           avg(pct_pps) AS pct_pps, avg(pct_tps) AS pct_tps,
           min(pct_pps) AS pct_pps_item_terendah,
           arg_min(barang, pct_pps) AS barang_terendah_pps,
           TRY_CAST(sum(rusak) AS BIGINT) AS rusak,
           sum(rusak) FILTER (WHERE barang IN ('ss_gubernur', 'ss_bupati_walikota')) AS rusak_surat_suara
    FROM mart.logistik_item_weekly GROUP BY ALL
), desa AS (
    SELECT week, kabkota_code,
           sum(jumlah_tps)::BIGINT AS jumlah_tps,
           -- the full-kit share over the villages whose tps_lengkap counts
           sum(least(tps_lengkap, jumlah_tps)) FILTER (WHERE tps_lengkap IS NOT NULL)::BIGINT
               AS tps_lengkap,
           sum(jumlah_tps) FILTER (WHERE tps_lengkap IS NOT NULL)::BIGINT AS tps_lengkap_dihitung,
           count(*) FILTER (WHERE barang_kurang_di_pps > 0) AS desa_kurang,
           count(*) AS desa_total,
           count(*) FILTER (WHERE dihitung_kabkota AND dihitung_ppk AND dihitung_pps
                            AND dihitung_tps) AS desa_dihitung,
           count(*) FILTER (WHERE dilaporkan) AS desa_dilaporkan,
           count(*) FILTER (WHERE dihitung_kabkota) AS desa_dihitung_kabkota,
           count(*) FILTER (WHERE dihitung_ppk) AS desa_dihitung_ppk,
           count(*) FILTER (WHERE dihitung_pps) AS desa_dihitung_pps,
           count(*) FILTER (WHERE dihitung_tps) AS desa_dihitung_tps,
           count(*) FILTER (WHERE barang_kurang_di_pps > 0 AND moda_angkut IN ('sungai', 'udara'))
               AS desa_kurang_terpencil
    FROM mart.logistik_desa_weekly GROUP BY ALL
), gap AS (
    -- The stage furthest behind its target this week (largest gap between expected and actual;
    -- on a tie the earliest stage of the chain, where the blockage is).
    SELECT i.week, i.kabkota_code,
           arg_max(e.stage, [e.expected - CASE e.stage WHEN 'kabkota' THEN i.pct_kabkota
               WHEN 'ppk' THEN i.pct_ppk WHEN 'pps' THEN i.pct_pps ELSE i.pct_tps END,
               -e.seq]) AS tahap_kritis,
           max(e.expected - CASE e.stage WHEN 'kabkota' THEN i.pct_kabkota
               WHEN 'ppk' THEN i.pct_ppk WHEN 'pps' THEN i.pct_pps ELSE i.pct_tps END) AS selisih
    FROM item i JOIN mart.stage_expected e USING (week)
    WHERE CASE e.stage WHEN 'kabkota' THEN i.pct_kabkota WHEN 'ppk' THEN i.pct_ppk
               WHEN 'pps' THEN i.pct_pps ELSE i.pct_tps END IS NOT NULL  -- nothing counted
    GROUP BY ALL
), stages AS (
    -- Each stage's share, and whether its due date has passed by the Monday the bulletin is
    -- read (the due day itself included: at H-10 the warehouse stage is due that Sunday).
    SELECT i.week, i.kabkota_code, t.stage, t.seq, t.due_h,
           CASE t.stage WHEN 'kabkota' THEN i.pct_kabkota WHEN 'ppk' THEN i.pct_ppk
                WHEN 'pps' THEN i.pct_pps ELSE i.pct_tps END AS pct,
           wk.h <= t.due_h AS lewat_tenggat
    FROM item i JOIN ref.week wk USING (week) CROSS JOIN ref.stage_target t
), past AS (
    -- The stage past its due date with the largest shortfall (a past-due stage escalates).
    SELECT week, kabkota_code, arg_max(stage, 1 - pct) AS tahap_lewat,
           max(1 - pct) AS selisih_tahap_lewat
    FROM stages WHERE lewat_tenggat AND pct < 1 GROUP BY ALL
), nxt AS (
    -- The first stage of the chain not yet complete: the next deadline that needs action.
    SELECT week, kabkota_code, arg_min(stage, seq) AS tahap_berikut
    FROM stages WHERE pct < 1 GROUP BY ALL
), trend AS (
    -- Gain per week since the previous reported week (a missing week spreads the gain over two).
    SELECT i.week, i.kabkota_code, i.pct_tps, i.pct_pps,
           (i.pct_tps - lag(i.pct_tps) OVER w)
               / ((w.week_start - lag(w.week_start) OVER w) / 7) AS laju_tps_per_minggu,
           (i.pct_pps - lag(i.pct_pps) OVER w)
               / ((w.week_start - lag(w.week_start) OVER w) / 7) AS laju_pps_per_minggu
    FROM item i JOIN ref.week w USING (week)
    WINDOW w AS (PARTITION BY i.kabkota_code ORDER BY i.week)
)
SELECT
    i.week, i.kabkota_code, wk.h,
    i.pct_kabkota, i.pct_ppk, i.pct_pps, i.pct_tps,
    i.pct_pps_item_terendah, i.barang_terendah_pps,
    d.jumlah_tps, d.tps_lengkap, d.tps_lengkap / d.tps_lengkap_dihitung AS pct_tps_lengkap,
    d.desa_total, d.desa_kurang, d.desa_kurang_terpencil,
    d.desa_dihitung, d.desa_dilaporkan, d.desa_dihitung_pps,
    CASE g.tahap_kritis WHEN 'kabkota' THEN d.desa_dihitung_kabkota WHEN 'ppk' THEN d.desa_dihitung_ppk
        WHEN 'pps' THEN d.desa_dihitung_pps ELSE d.desa_dihitung_tps END AS desa_dihitung_tahap_kritis,
    CASE p.tahap_lewat WHEN 'kabkota' THEN d.desa_dihitung_kabkota WHEN 'ppk' THEN d.desa_dihitung_ppk
        WHEN 'pps' THEN d.desa_dihitung_pps WHEN 'tps' THEN d.desa_dihitung_tps END
        AS desa_dihitung_tahap_lewat,
    -- stages with no quantity that counts in any village: not judged, and the status says so
    flatten([CASE WHEN i.pct_kabkota IS NULL THEN ['kabkota'] ELSE []::VARCHAR[] END,
             CASE WHEN i.pct_ppk IS NULL THEN ['ppk'] ELSE []::VARCHAR[] END,
             CASE WHEN i.pct_pps IS NULL THEN ['pps'] ELSE []::VARCHAR[] END,
             CASE WHEN i.pct_tps IS NULL THEN ['tps'] ELSE []::VARCHAR[] END])
        AS tahap_tak_terhitung,
    i.rusak, i.rusak_surat_suara,
    g.tahap_kritis,
    (SELECT expected FROM mart.stage_expected e WHERE e.week = i.week AND e.stage = g.tahap_kritis)
        AS target_tahap_kritis,
    CASE g.tahap_kritis WHEN 'kabkota' THEN i.pct_kabkota WHEN 'ppk' THEN i.pct_ppk
        WHEN 'pps' THEN i.pct_pps ELSE i.pct_tps END AS capaian_tahap_kritis,
    greatest(g.selisih, 0) AS selisih_target,
    p.tahap_lewat, 1 - p.selisih_tahap_lewat AS capaian_tahap_lewat, p.selisih_tahap_lewat,
    n.tahap_berikut, sn.label_id AS tahap_berikut_label,
    DATE '2024-11-27' - sn.due_h AS tenggat_tahap_berikut, sn.due_h AS h_tahap_berikut,
    wk.h <= sn.due_h AS tahap_berikut_lewat_tenggat,
    t.laju_tps_per_minggu,
    -- Projected day all goods reach the TPS, from last week's pace (NULL when not moving, or
    -- when that pace needs more than ten years: a crawl is no date, and a tiny pace would make
    -- one past what INTEGER days or a Python date can hold).
    CASE
        WHEN i.pct_tps >= 1 THEN wk.week_end
        WHEN t.laju_tps_per_minggu > 0
             AND (1 - i.pct_tps) / t.laju_tps_per_minggu * 7 <= 3660 THEN
            wk.week_end + CAST(ceil((1 - i.pct_tps) / t.laju_tps_per_minggu * 7) AS INTEGER)
    END AS proyeksi_lengkap_tps,
    CASE
        WHEN i.pct_pps >= 1 THEN wk.week_end
        WHEN t.laju_pps_per_minggu > 0
             AND (1 - i.pct_pps) / t.laju_pps_per_minggu * 7 <= 3660 THEN
            wk.week_end + CAST(ceil((1 - i.pct_pps) / t.laju_pps_per_minggu * 7) AS INTEGER)
    END AS proyeksi_lengkap_pps
FROM item i
JOIN desa d USING (week, kabkota_code)
LEFT JOIN gap g USING (week, kabkota_code)
JOIN trend t USING (week, kabkota_code)
JOIN ref.week wk USING (week)
LEFT JOIN past p USING (week, kabkota_code)
LEFT JOIN nxt n USING (week, kabkota_code)
LEFT JOIN ref.stage_target sn ON sn.stage = n.tahap_berikut;
