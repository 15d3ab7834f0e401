-- The attachments of a desk's message (`staged_attachments`): what each was filed as, or why not.
INSERT INTO audit.mail_attachment (message_key, position, file_name, source_bytes, sha256, note)
SELECT message_key, position, file_name, source_bytes, sha256, note
FROM staged_attachments
ON CONFLICT (message_key, position) DO NOTHING;
