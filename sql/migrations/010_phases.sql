-- Issue 17: judgments apply only in the window where they are defined. `h_min` is the last H-n
-- at which a threshold still applies: logistics readiness and Linmas are pre-vote judgments
-- (h_min 0), nothing else changes. A stage whose due date has passed escalates on its own metric.
ALTER TABLE ref.status_threshold ADD COLUMN IF NOT EXISTS h_min INTEGER DEFAULT -9999;
UPDATE ref.status_threshold SET h_min = -9999 WHERE h_min IS NULL;
UPDATE ref.status_threshold SET h_min = 0
WHERE metric IN ('logistik_selisih', 'linmas_per_tps', 'logistik_hilang');
INSERT OR REPLACE INTO ref.status_threshold
    (metric, h_max, waspada_at, kritis_at, description, direction, h_min) VALUES
    ('tahap_lewat_tenggat', 9999, 0.005, 0.05,
     'Kekurangan logistik pada tahap yang tenggatnya sudah lewat', 'above', 0);
