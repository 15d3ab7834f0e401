UPDATE audit.delivery
SET status = $status, smtp_response = $smtp_response, attempts = $attempts, error = $error,
    outbox_path = $outbox_path, last_attempt_at = now()
WHERE delivery_id = $delivery_id;
