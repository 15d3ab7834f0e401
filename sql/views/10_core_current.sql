-- The submission that counts for each kab/kota, kind and week: the newest accepted version.
CREATE OR REPLACE VIEW core.current_file AS
SELECT f.file_id, f.kabkota_code, f.kind, f.week, f.received_at, s.version
FROM raw.file f
JOIN audit.submission s USING (file_id)
WHERE s.verdict IN ('accepted', 'accepted_with_flags') AND s.superseded_by IS NULL;

-- A value a rule took out of the metrics (effect `values`): NULL, as if not reported.
CREATE OR REPLACE MACRO core.counted(v, col, excluded_columns) AS
    CASE WHEN list_contains(coalesce(excluded_columns, []), col) THEN NULL ELSE v END;

-- Rows that feed metrics: from the current version, whose identity no rule rejected (effect
-- `row`), with every value a rule excluded (effect `values`) blanked; each non-identity
-- column of the contract is listed (tests/test_effects.py checks the list is complete).
-- `flagged` may be true here: the row has a finding, but the values kept are right.

CREATE OR REPLACE VIEW core.logistik_current AS
SELECT c.week, l.* EXCLUDE (excluded, excluded_columns) REPLACE (
    core.counted(l.jumlah_kebutuhan, 'jumlah_kebutuhan', l.excluded_columns) AS jumlah_kebutuhan,
    core.counted(l.diterima_kabkota, 'diterima_kabkota', l.excluded_columns) AS diterima_kabkota,
    core.counted(l.diterima_ppk, 'diterima_ppk', l.excluded_columns) AS diterima_ppk,
    core.counted(l.diterima_pps, 'diterima_pps', l.excluded_columns) AS diterima_pps,
    core.counted(l.diterima_tps, 'diterima_tps', l.excluded_columns) AS diterima_tps,
    core.counted(l.rusak, 'rusak', l.excluded_columns) AS rusak,
    core.counted(l.jumlah_tps, 'jumlah_tps', l.excluded_columns) AS jumlah_tps,
    core.counted(l.tps_lengkap, 'tps_lengkap', l.excluded_columns) AS tps_lengkap,
    core.counted(l.moda_angkut, 'moda_angkut', l.excluded_columns) AS moda_angkut,
    core.counted(l.per_tanggal, 'per_tanggal', l.excluded_columns) AS per_tanggal,
    core.counted(l.catatan, 'catatan', l.excluded_columns) AS catatan)
FROM core.logistik l JOIN core.current_file c USING (file_id)
WHERE NOT coalesce(l.excluded, false);

CREATE OR REPLACE VIEW core.keamanan_current AS
SELECT c.week, k.* EXCLUDE (excluded, excluded_columns) REPLACE (
    core.counted(k.jumlah_tps, 'jumlah_tps', k.excluded_columns) AS jumlah_tps,
    core.counted(k.tps_kurang_rawan, 'tps_kurang_rawan', k.excluded_columns) AS tps_kurang_rawan,
    core.counted(k.tps_rawan, 'tps_rawan', k.excluded_columns) AS tps_rawan,
    core.counted(k.tps_sangat_rawan, 'tps_sangat_rawan', k.excluded_columns) AS tps_sangat_rawan,
    core.counted(k.personel_polri, 'personel_polri', k.excluded_columns) AS personel_polri,
    core.counted(k.personel_tni, 'personel_tni', k.excluded_columns) AS personel_tni,
    core.counted(k.personel_linmas, 'personel_linmas', k.excluded_columns) AS personel_linmas,
    core.counted(k.posko, 'posko', k.excluded_columns) AS posko,
    core.counted(k.per_tanggal, 'per_tanggal', k.excluded_columns) AS per_tanggal)
FROM core.keamanan k JOIN core.current_file c USING (file_id)
WHERE NOT coalesce(k.excluded, false);

CREATE OR REPLACE VIEW core.ringkasan_current AS
SELECT c.week, r.* EXCLUDE (excluded, excluded_columns) REPLACE (
    core.counted(r.status_umum, 'status_umum', r.excluded_columns) AS status_umum,
    core.counted(r.narasi, 'narasi', r.excluded_columns) AS narasi,
    core.counted(r.unit_pelapor, 'unit_pelapor', r.excluded_columns) AS unit_pelapor,
    core.counted(r.per_tanggal, 'per_tanggal', r.excluded_columns) AS per_tanggal)
FROM core.ringkasan r JOIN core.current_file c USING (file_id)
WHERE NOT coalesce(r.excluded, false);

CREATE OR REPLACE VIEW core.insiden_current AS
SELECT c.week, i.* EXCLUDE (excluded, excluded_columns) REPLACE (
    core.counted(i.waktu_kejadian, 'waktu_kejadian', i.excluded_columns) AS waktu_kejadian,
    core.counted(i.kode_kecamatan, 'kode_kecamatan', i.excluded_columns) AS kode_kecamatan,
    core.counted(i.kode_desa, 'kode_desa', i.excluded_columns) AS kode_desa,
    core.counted(i.kategori, 'kategori', i.excluded_columns) AS kategori,
    core.counted(i.tingkat, 'tingkat', i.excluded_columns) AS tingkat,
    core.counted(i.status, 'status', i.excluded_columns) AS status,
    core.counted(i.korban_meninggal, 'korban_meninggal', i.excluded_columns) AS korban_meninggal,
    core.counted(i.korban_luka, 'korban_luka', i.excluded_columns) AS korban_luka,
    core.counted(i.ditangani_oleh, 'ditangani_oleh', i.excluded_columns) AS ditangani_oleh,
    core.counted(i.sumber, 'sumber', i.excluded_columns) AS sumber,
    core.counted(i.ringkasan, 'ringkasan', i.excluded_columns) AS ringkasan)
FROM core.insiden i JOIN core.current_file c USING (file_id)
WHERE NOT coalesce(i.excluded, false);

CREATE OR REPLACE VIEW core.netralitas_current AS
SELECT c.week, n.* EXCLUDE (excluded, excluded_columns) REPLACE (
    core.counted(n.ref_subjek, 'ref_subjek', n.excluded_columns) AS ref_subjek,
    core.counted(n.jenis_pegawai, 'jenis_pegawai', n.excluded_columns) AS jenis_pegawai,
    core.counted(n.instansi, 'instansi', n.excluded_columns) AS instansi,
    core.counted(n.jabatan, 'jabatan', n.excluded_columns) AS jabatan,
    core.counted(n.tanggal_lapor, 'tanggal_lapor', n.excluded_columns) AS tanggal_lapor,
    core.counted(n.asal, 'asal', n.excluded_columns) AS asal,
    core.counted(n.jenis_pelanggaran, 'jenis_pelanggaran', n.excluded_columns) AS jenis_pelanggaran,
    core.counted(n.tahap, 'tahap', n.excluded_columns) AS tahap,
    core.counted(n.tanggal_tahap, 'tanggal_tahap', n.excluded_columns) AS tanggal_tahap,
    core.counted(n.sanksi, 'sanksi', n.excluded_columns) AS sanksi)
FROM core.netralitas n JOIN core.current_file c USING (file_id)
WHERE NOT coalesce(n.excluded, false);

-- Follow-ups: `pengirim` is who sent the report (a kab/kota, or the province's code).
CREATE OR REPLACE VIEW core.tindak_lanjut_current AS
SELECT c.week, c.kabkota_code AS pengirim, t.* EXCLUDE (excluded, excluded_columns) REPLACE (
    core.counted(t.tanggal_keputusan, 'tanggal_keputusan', t.excluded_columns) AS tanggal_keputusan,
    core.counted(t.forum, 'forum', t.excluded_columns) AS forum,
    core.counted(t.bidang, 'bidang', t.excluded_columns) AS bidang,
    core.counted(t.isu, 'isu', t.excluded_columns) AS isu,
    core.counted(t.tindakan, 'tindakan', t.excluded_columns) AS tindakan,
    core.counted(t.instansi, 'instansi', t.excluded_columns) AS instansi,
    core.counted(t.tenggat, 'tenggat', t.excluded_columns) AS tenggat,
    core.counted(t.status, 'status', t.excluded_columns) AS status,
    core.counted(t.tanggal_status, 'tanggal_status', t.excluded_columns) AS tanggal_status,
    core.counted(t.catatan, 'catatan', t.excluded_columns) AS catatan)
FROM core.tindak_lanjut t JOIN core.current_file c USING (file_id)
WHERE NOT coalesce(t.excluded, false);
