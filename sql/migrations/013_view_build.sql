-- Issue 20: the views of sql/views/ are re-created only when their SQL changed, a migration ran,
-- or one of them is missing (re-creating all nine cost each ingest and bulletin 0.15-0.3 s).
-- One row: the sha256 over the view files' names and text of the last complete build, and the
-- views the warehouse then held. The row is deleted before a build starts and written when it
-- ends, so a build cut short is redone by the next run.
CREATE TABLE IF NOT EXISTS meta.view_build (
    fingerprint VARCHAR NOT NULL,
    views       VARCHAR[] NOT NULL,     -- schema.name of every view after the build
    built_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
