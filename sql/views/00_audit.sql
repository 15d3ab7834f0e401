-- The submission ledger (architecture §8): one row per file received, with its current status.
-- `superseded` is derived from audit.submission.superseded_by, so history is never rewritten.
CREATE OR REPLACE VIEW audit.submission_status AS
SELECT
    f.source_path,
    f.sha256,
    f.kabkota_code,
    f.kind,
    f.week,
    s.version,
    CASE WHEN s.superseded_by IS NOT NULL THEN 'superseded' ELSE s.verdict END AS status,
    CASE
        WHEN s.superseded_by IS NOT NULL THEN
            'Digantikan oleh kiriman versi lebih baru (' || sup.file_name || ')'
            || CASE WHEN s.reason <> '' THEN '; ' || s.reason ELSE '' END
        ELSE s.reason
    END AS reason,
    s.rows_total,
    s.rows_flagged,
    f.received_at,
    s.is_late,
    f.file_name,
    f.file_format,
    f.file_id,
    f.ingested_at,
    f.workbook,  -- the week's workbook this kind's sheet came from (NULL: a single-kind file)
    f.sheet
FROM raw.file f
JOIN audit.submission s USING (file_id)
LEFT JOIN raw.file sup ON sup.file_id = s.superseded_by;
