-- A Prefect retry of the same run tries a temporarily failed message again: the row goes back to
-- `sending` (committed) before the message leaves, exactly as a first attempt's row does.
UPDATE audit.delivery
SET status = 'sending', last_attempt_at = now()
WHERE delivery_id = $delivery_id;
