-- What the inbox holds that is not a submission (staged_skipped, this pull's list): each name
-- once, with when it was first and last seen; `present` says whether the last pull still saw it.
UPDATE audit.inbox_skipped SET present = false WHERE present;
INSERT INTO audit.inbox_skipped
SELECT source_bytes, source_path, object_type, reason, now(), now(), run_id, true
FROM staged_skipped
ON CONFLICT (source_bytes) DO UPDATE SET
    source_path = excluded.source_path, object_type = excluded.object_type,
    reason = excluded.reason, last_seen = excluded.last_seen, run_id = excluded.run_id,
    present = true;
