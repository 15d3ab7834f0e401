-- The submission that counts for each kab/kota, kind and week: the newest accepted version.
CREATE OR REPLACE VIEW core.current_file AS
SELECT f.file_id, f.kabkota_code, f.kind, f.week, f.received_at, s.version
FROM raw.file f
JOIN audit.submission s USING (file_id)
WHERE s.verdict IN ('accepted', 'accepted_with_flags') AND s.superseded_by IS NULL;

-- Rows that feed metrics: from the current version, not flagged.
CREATE OR REPLACE VIEW core.logistik_current AS
SELECT c.week, l.* FROM core.logistik l JOIN core.current_file c USING (file_id) WHERE NOT l.flagged;
CREATE OR REPLACE VIEW core.keamanan_current AS
SELECT c.week, k.* FROM core.keamanan k JOIN core.current_file c USING (file_id) WHERE NOT k.flagged;
CREATE OR REPLACE VIEW core.ringkasan_current AS
SELECT c.week, r.* FROM core.ringkasan r JOIN core.current_file c USING (file_id) WHERE NOT r.flagged;
CREATE OR REPLACE VIEW core.insiden_current AS
SELECT c.week, i.* FROM core.insiden i JOIN core.current_file c USING (file_id) WHERE NOT i.flagged;
CREATE OR REPLACE VIEW core.netralitas_current AS
SELECT c.week, n.* FROM core.netralitas n JOIN core.current_file c USING (file_id) WHERE NOT n.flagged;
-- Follow-ups: `pengirim` is who sent the report (a kab/kota, or the province's code).
CREATE OR REPLACE VIEW core.tindak_lanjut_current AS
SELECT c.week, c.kabkota_code AS pengirim, t.*
FROM core.tindak_lanjut t JOIN core.current_file c USING (file_id) WHERE NOT t.flagged;
