-- Province-wide progress per item and stage (shares of the summed requirement).
SELECT i.barang, e.label_id AS label,
       sum(i.kebutuhan)::BIGINT AS kebutuhan,
       sum(i.di_kabkota) / sum(i.kebutuhan) AS pct_kabkota,
       sum(i.di_ppk) / sum(i.kebutuhan) AS pct_ppk,
       sum(i.di_pps) / sum(i.kebutuhan) AS pct_pps,
       sum(i.di_tps) / sum(i.kebutuhan) AS pct_tps,
       sum(i.rusak)::BIGINT AS rusak
FROM mart.logistik_item_weekly i
JOIN ref.enumeration e ON e.enum_name = 'barang' AND e.value = i.barang
WHERE i.week = $week
GROUP BY ALL
ORDER BY i.barang;
