-- Every follow-up overdue in a week (issue 18): still open (baru, berjalan, terkendala) past its
-- `tenggat` on the Monday after the week, the day the bulletin is read (mart.tindak_lanjut).
-- One row per (sender, id): the sender is a kab/kota desk or the provincial desk (its province
-- code); `wilayah` is the kab/kota the follow-up names, or the province. `hilang_dari_laporan`:
-- the sender's report of this week no longer lists it (shown as last reported, `minggu_laporan`).
-- Longest overdue first, so the top of the Monday artifact is what has waited longest.
SELECT
    t.pengirim,
    coalesce(k.short_name, p.provinsi_name) AS pengirim_nama,
    p.provinsi_code IS NOT NULL AS dari_desk_provinsi,
    t.kode_kabkota,
    t.wilayah_singkat,
    t.seluruh_provinsi,
    t.id_tindak_lanjut,
    t.tindakan,
    coalesce(t.instansi_label, t.instansi) AS instansi_label,
    t.tenggat,
    t.hari_lewat_tenggat,
    coalesce(t.status_label, t.status) AS status_label,
    t.hilang_dari_laporan,
    t.minggu_laporan
FROM mart.tindak_lanjut t
LEFT JOIN ref.kabkota k ON k.kabkota_code = t.pengirim
LEFT JOIN ref.provinsi p ON p.provinsi_code = t.pengirim
WHERE t.week = $week AND t.terlambat
ORDER BY t.hari_lewat_tenggat DESC, t.pengirim, t.id_tindak_lanjut;
