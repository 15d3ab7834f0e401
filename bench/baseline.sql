-- The plain-DuckDB baseline's specific checks (bench/baseline.py adds the generic ones: required
-- values, types, enumerations, non-negative numbers). Each SELECT yields (file, row_id, rule,
-- severity) for failing rows; rows are typed tables t_<kind> with `file`, `row_id`, `kab`.

-- logistik: the desk's own kab/kota, known kecamatan and desa, unique rows, stage order,
-- damage and full-TPS bounds, the ballot minimum, the date window, figures that do not fall.
INSERT INTO finding
SELECT file, row_id, 'kabkota_sesuai_folder', 'reject' FROM t_logistik WHERE kode_kabkota <> kab
UNION ALL
SELECT l.file, l.row_id, 'kode_kecamatan_valid', 'flag' FROM t_logistik l
LEFT JOIN ref.kecamatan k ON k.kecamatan_code = l.kode_kecamatan
WHERE k.kabkota_code IS DISTINCT FROM l.kab
UNION ALL
SELECT l.file, l.row_id, 'kode_desa_valid', 'flag' FROM t_logistik l
LEFT JOIN ref.desa d ON d.desa_code = l.kode_desa
WHERE d.desa_code IS NULL OR d.kecamatan_code <> l.kode_kecamatan OR d.kabkota_code <> l.kab
UNION ALL
SELECT file, row_id, 'baris_unik', 'flag' FROM (
    SELECT file, row_id, count(*) OVER (PARTITION BY file, kode_desa, barang) AS n FROM t_logistik)
WHERE n > 1
UNION ALL
SELECT file, row_id, 'urutan_tahap', 'flag' FROM t_logistik
WHERE diterima_kabkota < diterima_ppk OR diterima_ppk < diterima_pps OR diterima_pps < diterima_tps
UNION ALL
SELECT file, row_id, 'rusak_wajar', 'flag' FROM t_logistik WHERE diterima_kabkota < rusak
UNION ALL
SELECT file, row_id, 'tps_lengkap_wajar', 'flag' FROM t_logistik WHERE jumlah_tps < tps_lengkap
UNION ALL
SELECT l.file, l.row_id, 'cadangan_surat_suara', 'flag' FROM t_logistik l
JOIN ref.kebutuhan r ON r.desa_code = l.kode_desa AND r.barang = l.barang
WHERE l.barang IN ('ss_gubernur', 'ss_bupati_walikota') AND l.jumlah_kebutuhan < r.jumlah_kebutuhan
UNION ALL
SELECT file, row_id, 'tanggal_wajar', 'flag' FROM t_logistik
WHERE (per_tanggal - week_start) NOT BETWEEN -7 AND 13
UNION ALL
SELECT l.file, l.row_id, 'kumulatif_tidak_turun', 'flag' FROM t_logistik l
JOIN core_logistik p ON p.kode_desa = l.kode_desa AND p.barang = l.barang
 AND p.week_start = l.week_start - INTERVAL 7 DAY
WHERE l.catatan IS NULL AND (l.diterima_kabkota < p.diterima_kabkota
    OR l.diterima_ppk < p.diterima_ppk OR l.diterima_pps < p.diterima_pps
    OR l.diterima_tps < p.diterima_tps);

-- logistik completeness: every desa × barang of the kab/kota, once per file.
INSERT INTO finding
SELECT f.file, NULL, 'kelengkapan', 'flag'
FROM (SELECT DISTINCT file, kab FROM t_logistik) f
JOIN ref.kebutuhan r ON r.kabkota_code = f.kab
ANTI JOIN t_logistik l ON l.file = f.file AND l.kode_desa = r.desa_code AND l.barang = r.barang;

-- keamanan: own kab/kota, known kecamatan, unique, classes adding up to the TPS, date window,
-- and every kecamatan present.
INSERT INTO finding
SELECT file, row_id, 'kabkota_sesuai_folder', 'reject' FROM t_keamanan WHERE kode_kabkota <> kab
UNION ALL
SELECT s.file, s.row_id, 'kode_kecamatan_valid', 'flag' FROM t_keamanan s
LEFT JOIN ref.kecamatan k ON k.kecamatan_code = s.kode_kecamatan
WHERE k.kabkota_code IS DISTINCT FROM s.kab
UNION ALL
SELECT file, row_id, 'baris_unik', 'flag' FROM (
    SELECT file, row_id, count(*) OVER (PARTITION BY file, kode_kecamatan) AS n FROM t_keamanan)
WHERE n > 1
UNION ALL
SELECT file, row_id, 'kelas_tps_sama_dengan_jumlah', 'flag' FROM t_keamanan
WHERE tps_kurang_rawan + tps_rawan + tps_sangat_rawan <> jumlah_tps
UNION ALL
SELECT file, row_id, 'tanggal_wajar', 'flag' FROM t_keamanan
WHERE (per_tanggal - week_start) NOT BETWEEN -7 AND 13
UNION ALL
SELECT f.file, NULL, 'kelengkapan', 'flag'
FROM (SELECT DISTINCT file, kab FROM t_keamanan) f
JOIN ref.kecamatan k ON k.kabkota_code = f.kab
ANTI JOIN t_keamanan s ON s.file = f.file AND s.kode_kecamatan = k.kecamatan_code;

-- insiden: own kab/kota, known places, unique ids, casualties mean 'tinggi', date window.
INSERT INTO finding
SELECT file, row_id, 'kabkota_sesuai_folder', 'reject' FROM t_insiden WHERE kode_kabkota <> kab
UNION ALL
SELECT i.file, i.row_id, 'kode_kecamatan_valid', 'flag' FROM t_insiden i
LEFT JOIN ref.kecamatan k ON k.kecamatan_code = i.kode_kecamatan
WHERE k.kabkota_code IS DISTINCT FROM i.kab
UNION ALL
SELECT i.file, i.row_id, 'kode_desa_valid', 'flag' FROM t_insiden i
LEFT JOIN ref.desa d ON d.desa_code = i.kode_desa
WHERE i.kode_desa IS NOT NULL AND (d.desa_code IS NULL OR d.kecamatan_code <> i.kode_kecamatan)
UNION ALL
SELECT file, row_id, 'id_unik', 'flag' FROM (
    SELECT file, row_id, count(*) OVER (PARTITION BY file, id_insiden) AS n FROM t_insiden)
WHERE n > 1
UNION ALL
SELECT file, row_id, 'korban_berarti_tinggi', 'flag' FROM t_insiden
WHERE korban_meninggal > 0 AND tingkat <> 'tinggi'
UNION ALL
SELECT file, row_id, 'tanggal_wajar', 'flag' FROM t_insiden
WHERE (waktu_kejadian::DATE - week_start) NOT BETWEEN -180 AND 7;

-- netralitas: own kab/kota, unique ids, no NIP or name, dates in order and in range.
INSERT INTO finding
SELECT file, row_id, 'kabkota_sesuai_folder', 'reject' FROM t_netralitas
WHERE kode_kabkota <> kab
UNION ALL
SELECT file, row_id, 'id_unik', 'flag' FROM (
    SELECT file, row_id, count(*) OVER (PARTITION BY file, id_kasus) AS n FROM t_netralitas)
WHERE n > 1
UNION ALL
SELECT file, row_id, 'bukan_nip', 'reject' FROM t_netralitas
WHERE regexp_matches(ref_subjek, '\d{18}')
UNION ALL
SELECT file, row_id, 'bukan_nama', 'reject' FROM t_netralitas
WHERE NOT regexp_full_match(ref_subjek, '[A-Za-z0-9._/-]{3,40}')
   OR NOT regexp_matches(ref_subjek, '\d')
UNION ALL
SELECT file, row_id, 'urutan_tanggal', 'flag' FROM t_netralitas
WHERE tanggal_tahap < tanggal_lapor
UNION ALL
SELECT file, row_id, 'tanggal_wajar', 'flag' FROM t_netralitas
WHERE (tanggal_lapor - week_start) NOT BETWEEN -365 AND 7
   OR (tanggal_tahap - week_start) NOT BETWEEN -365 AND 13;

-- ringkasan: own kab/kota, one row, a narrative of sensible length, date window.
INSERT INTO finding
SELECT file, row_id, 'kabkota_sesuai_folder', 'reject' FROM t_ringkasan WHERE kode_kabkota <> kab
UNION ALL
SELECT file, row_id, 'satu_baris', 'flag' FROM (
    SELECT file, row_id, count(*) OVER (PARTITION BY file) AS n FROM t_ringkasan) WHERE n <> 1
UNION ALL
SELECT file, row_id, 'panjang_narasi', 'flag' FROM t_ringkasan
WHERE length(narasi) NOT BETWEEN 1 AND 2000
UNION ALL
SELECT file, row_id, 'tanggal_wajar', 'flag' FROM t_ringkasan
WHERE (per_tanggal - week_start) NOT BETWEEN -7 AND 13;
