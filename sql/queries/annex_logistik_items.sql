-- The kab/kota's progress per item and stage (shares of its own requirement).
SELECT i.barang, e.label_id AS label, i.kebutuhan,
       i.di_kabkota, i.di_ppk, i.di_pps, i.di_tps,
       i.pct_kabkota, i.pct_ppk, i.pct_pps, i.pct_tps,
       i.rusak, i.baris_tidak_dihitung
FROM mart.logistik_item_weekly i
JOIN ref.enumeration e ON e.enum_name = 'barang' AND e.value = i.barang
WHERE i.week = $week AND i.kabkota_code = $kabkota
ORDER BY i.barang;
