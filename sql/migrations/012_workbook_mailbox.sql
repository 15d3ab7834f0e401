-- Issue 22: one workbook, one send; intake by email.
-- A week's workbook (`6411/6411_2024-W47.xlsx`) is one ledger row per kind sheet: `workbook` is
-- the workbook's display path, `sheet` the sheet (= kind), `workbook_sha256` the workbook's bytes
-- (raw.file.sha256 of such a row is the digest of the sheet's cells). NULL for single-kind files.
ALTER TABLE raw.file ADD COLUMN workbook VARCHAR;
ALTER TABLE raw.file ADD COLUMN sheet VARCHAR;
ALTER TABLE raw.file ADD COLUMN workbook_sha256 VARCHAR;

-- Every mailbox message the pipeline has finished with, keyed by its Message-ID (or the sha256
-- of its bytes when it has none): `judged` (a desk's attachments archived, judged, answered) or
-- `aside` (unknown sender, no usable attachment, too large: kept for the data team, not answered).
-- A message is flagged processed on the IMAP server only after its row here is committed.
CREATE TABLE IF NOT EXISTS audit.mail_message (
    message_key   VARCHAR PRIMARY KEY,
    imap_date     TIMESTAMPTZ,         -- when the mail server received it (INTERNALDATE)
    sender        VARCHAR NOT NULL,    -- the From address, display-safe
    kabkota_code  VARCHAR,             -- the desk's code from the recipients registry
    subject       VARCHAR NOT NULL,
    status        VARCHAR NOT NULL,    -- judged | aside
    reason        VARCHAR NOT NULL DEFAULT '',  -- Indonesian, for the data team
    attachments   INTEGER NOT NULL DEFAULT 0,
    run_id        VARCHAR,
    processed_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Each attachment of a desk's message: filed as `source_bytes` (`<kabkota>/<name>`) with the
-- sha256 of its bytes, which find its ledger rows; or refused before filing with `note`.
CREATE TABLE IF NOT EXISTS audit.mail_attachment (
    message_key  VARCHAR NOT NULL,
    position     INTEGER NOT NULL,
    file_name    VARCHAR NOT NULL,     -- display-safe
    source_bytes BLOB,
    sha256       VARCHAR,
    note         VARCHAR NOT NULL DEFAULT '',
    PRIMARY KEY (message_key, position)
);
