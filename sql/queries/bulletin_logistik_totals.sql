SELECT coalesce(sum(rusak), 0)::BIGINT AS rusak_total
FROM mart.logistik_weekly WHERE week = $week;
