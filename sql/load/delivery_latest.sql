-- The latest delivery row of one message to one recipient, if any, with what a retry of the same
-- run needs to carry on from it (tasks/publish/delivery.py).
SELECT delivery_id, status, run_id, attempts, smtp_response, error, outbox_path
FROM audit.delivery
WHERE week = $week AND message_kind = $message_kind
  AND kabkota_code IS NOT DISTINCT FROM $kabkota_code
  AND lower(recipient_email) = lower($recipient_email) AND lang = $lang
  -- a failure report is "the same message" only when it reports the same failures, a reply
  -- only when it answers the same desk message (data_hash: the digest of that message's key)
  AND (message_kind NOT IN ('failure_report', 'reply') OR data_hash = $data_hash)
ORDER BY delivery_id DESC
LIMIT 1;
