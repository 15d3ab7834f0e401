-- A mailbox message the pipeline has finished with (`tasks.ingest.mailbox`): recorded once, before the
-- message is flagged processed on the server; a rerun over the same message changes nothing.
INSERT INTO audit.mail_message (message_key, imap_date, sender, kabkota_code, subject, status,
                                reason, attachments, run_id)
VALUES ($message_key, $imap_date, $sender, $kabkota_code, $subject, $status, $reason,
        $attachments, $run_id)
ON CONFLICT (message_key) DO NOTHING;
