-- Upsert what the inbox holds that is not a submission (staged_skipped), so the data team sees
-- each thing once with when it was first and last seen.
INSERT INTO audit.inbox_skipped
SELECT source_bytes, source_path, object_type, reason, now(), now(), run_id FROM staged_skipped
ON CONFLICT (source_bytes) DO UPDATE SET
    source_path = excluded.source_path, object_type = excluded.object_type,
    reason = excluded.reason, last_seen = excluded.last_seen, run_id = excluded.run_id;
