-- Remember which files' feedback notes are in the outbox.
INSERT OR IGNORE INTO audit.feedback_written
SELECT unnest($file_ids::BIGINT[]), now();
