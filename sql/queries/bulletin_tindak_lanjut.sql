-- Follow-ups the bulletin shows: every one still open at the end of the week, overdue first (the
-- most days late first), then obstructed, then by due date; and those done this week (counted).
-- Follow-ups for the whole province (seluruh_provinsi) come along and are shown by agency only.
SELECT t.pengirim, t.id_tindak_lanjut, t.kode_kabkota, t.wilayah, t.wilayah_singkat,
       t.seluruh_provinsi, t.isu, t.tindakan, t.instansi, t.instansi_label, t.tenggat,
       t.status, t.status_label, t.terbuka, t.terlambat, t.hari_lewat_tenggat,
       t.baru_minggu_ini, t.selesai_minggu_ini, t.selesai_terlambat
FROM mart.tindak_lanjut t
WHERE t.week = $week AND (t.terbuka OR t.selesai_minggu_ini)
ORDER BY t.terlambat DESC, t.hari_lewat_tenggat DESC NULLS LAST, t.status = 'terkendala' DESC,
         t.tenggat, t.wilayah, t.pengirim, t.id_tindak_lanjut;
