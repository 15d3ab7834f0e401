-- Issue 15: what a careless or hostile inbox can hold, recorded instead of crashing or skipping.
-- raw.file.source_path is now the *display* form of the name (valid UTF-8, control and format
-- characters escaped, undecodable bytes as \xNN); source_bytes keeps the name's exact bytes.
-- source_fingerprint is what the inbox listing says of the file (size, times, inode, etag): an
-- unchanged fingerprint is skipped unread, any change (even in place, same size and time) is read.
ALTER TABLE raw.file ADD COLUMN source_bytes BLOB;
ALTER TABLE raw.file ADD COLUMN source_fingerprint VARCHAR;
UPDATE raw.file SET source_bytes = encode(source_path) WHERE source_bytes IS NULL;

-- Everything in the inbox that is not a submission to judge (symlink, FIFO, folder, hidden or
-- Office lock file, a file that vanished or could not be read): one row per name, kept current.
CREATE TABLE IF NOT EXISTS audit.inbox_skipped (
    source_bytes BLOB PRIMARY KEY,
    source_path  VARCHAR NOT NULL,      -- display form, as in raw.file
    object_type  VARCHAR NOT NULL,      -- symlink | special | folder | hidden | unreadable
    reason       VARCHAR NOT NULL,      -- Indonesian, for the data team
    first_seen   TIMESTAMPTZ NOT NULL,
    last_seen    TIMESTAMPTZ NOT NULL,
    run_id       VARCHAR,
    present      BOOLEAN NOT NULL DEFAULT true  -- in the inbox at the last pull
);

-- Feedback notes written for a file: a batch whose feedback failed (disk, outbox) is caught up
-- by the next run instead of being forgotten.
CREATE TABLE IF NOT EXISTS audit.feedback_written (
    file_id    BIGINT PRIMARY KEY,
    written_at TIMESTAMPTZ NOT NULL
);
INSERT INTO audit.feedback_written SELECT file_id, now() FROM raw.file;
