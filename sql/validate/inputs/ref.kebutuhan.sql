-- Requirements the logistik checks compare with: those of the batch's kab/kota ($kabkota) only,
-- as sql/validate/logistik.sql joins them (a national week's table is 670,096 rows).
SELECT r.* FROM ref.kebutuhan r WHERE list_contains($kabkota, r.kabkota_code);
