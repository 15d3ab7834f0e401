-- The previous current version of the same kab/kota, kind and week gives way to the new one.
UPDATE audit.submission SET superseded_by = $new_file_id WHERE file_id = $old_file_id;
