-- What the inbox holds now that is not a submission (never read), for `pilkada status`.
SELECT source_path, object_type, reason, first_seen
FROM audit.inbox_skipped
WHERE present
ORDER BY source_path;
