-- A kab/kota's files of a week whose feedback the desk must act on (rejected or flagged).
SELECT file_name, file_id
FROM audit.submission_status
WHERE week = $week AND kabkota_code = $kabkota_code
  AND status IN ('rejected', 'accepted_with_flags')
ORDER BY received_at, file_id;
