-- The kab/kota's own follow-ups (kode_kabkota is the kab/kota, whether its desk or the provincial
-- desk filed them): every one still open at the end of the week, and those closed this week
-- (done, or cancelled: status moved to 'dibatalkan' this week, as selesai_minggu_ini is defined
-- in the mart). Open first, overdue first, then obstructed, then by due date.
WITH prev AS (
    SELECT t.pengirim, t.id_tindak_lanjut, t.status
    FROM mart.tindak_lanjut t
    WHERE t.kode_kabkota = $kabkota
      AND t.week = (SELECT w.week FROM ref.week w
                    WHERE w.week_start = (SELECT week_start FROM ref.week WHERE week = $week)
                                         - INTERVAL 7 DAY)
)
SELECT t.pengirim, t.id_tindak_lanjut, t.tanggal_keputusan, t.forum, t.bidang, t.isu,
       t.tindakan, t.instansi, t.instansi_label, t.tenggat, t.status, t.status_label,
       t.tanggal_status, t.catatan, t.minggu_laporan, t.terbuka, t.terlambat,
       t.hari_lewat_tenggat, t.baru_minggu_ini, t.selesai_minggu_ini, t.selesai_terlambat,
       t.hilang_dari_laporan
FROM mart.tindak_lanjut t
LEFT JOIN prev p USING (pengirim, id_tindak_lanjut)
WHERE t.week = $week AND t.kode_kabkota = $kabkota
  AND (t.terbuka OR t.selesai_minggu_ini
       OR (t.status = 'dibatalkan' AND coalesce(p.status, '') <> 'dibatalkan'))
ORDER BY t.terbuka DESC, t.terlambat DESC, t.hari_lewat_tenggat DESC NULLS LAST,
         t.status = 'terkendala' DESC, t.tenggat, t.pengirim, t.id_tindak_lanjut;
