-- ASN cases of the kab/kota by stage (counts only, every stage listed).
SELECT e.value AS tahap, e.label_id AS label, coalesce(sum(t.kasus), 0)::BIGINT AS kasus
FROM ref.enumeration e
LEFT JOIN mart.netralitas_tahap t
    ON t.tahap = e.value AND t.week = $week AND t.kabkota_code = $kabkota
WHERE e.enum_name = 'tahap_kasus'
GROUP BY ALL
ORDER BY min(e.rank), e.value;
