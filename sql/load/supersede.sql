-- Previous current versions give way to the new ones (`staged_supersede`: old → new file id).
UPDATE audit.submission s SET superseded_by = p.new_file_id
FROM staged_supersede p
WHERE s.file_id = p.old_file_id;
