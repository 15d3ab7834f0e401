SELECT coalesce(sum(desa_kurang), 0)::BIGINT AS desa_kurang_total,
       coalesce(sum(desa_kurang_terpencil), 0)::BIGINT AS desa_kurang_terpencil,
       coalesce(sum(rusak), 0)::BIGINT AS rusak_total
FROM mart.logistik_weekly WHERE week = $week;
