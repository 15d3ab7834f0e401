-- The delivery log of a week, latest attempt per message and recipient.
SELECT message_kind, kabkota_code, lang, recipient_name, recipient_email, transport, status,
       attempts, smtp_response, error, message_id, last_attempt_at
FROM audit.delivery
WHERE week = $week
QUALIFY row_number() OVER (
    PARTITION BY message_kind, kabkota_code, lang, lower(recipient_email)
    ORDER BY delivery_id DESC) = 1
ORDER BY recipient_role, recipient_email, message_kind;
