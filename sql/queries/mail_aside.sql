-- Mail set aside for the data team (unknown sender, no usable attachment, too large), newest first.
SELECT processed_at, sender, subject, reason, attachments, run_id
FROM audit.mail_message
WHERE status = 'aside'
ORDER BY processed_at DESC;
