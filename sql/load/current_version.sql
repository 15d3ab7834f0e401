SELECT file_id, received_at FROM core.current_file
WHERE kabkota_code = $kabkota_code AND kind = $kind AND week = $week;
