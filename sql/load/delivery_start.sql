-- Recorded (and committed) before the message leaves, so a crash mid-send is visible later.
INSERT INTO audit.delivery (delivery_id, week, message_kind, kabkota_code, lang, recipient_name,
                            recipient_email, recipient_role, transport, message_id, data_hash,
                            status, run_id)
VALUES (nextval('audit.delivery_id_seq'), $week, $message_kind, $kabkota_code, $lang,
        $recipient_name, $recipient_email, $recipient_role, $transport, $message_id, $data_hash,
        'sending', $run_id)
RETURNING delivery_id;
