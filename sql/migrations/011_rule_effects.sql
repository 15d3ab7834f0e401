-- Issue 21: a flag removes only what is wrong. Each finding records its rule's effect
-- (nothing | values | row, docs/metrics.md "Rule effects"); each stored row records whether its
-- identity was rejected (`excluded`) and which of its values are not counted
-- (`excluded_columns`). `flagged` keeps its meaning: the row has a finding the desk must fix.
-- No list default (`DEFAULT []`): DuckDB 2.0 cannot replay such a column from the WAL after a
-- crash (its `list_value` is not in the catalog yet at replay); NULL reads as "none excluded"
-- (`core.counted`), and the load always writes the list.
ALTER TABLE audit.row_issue ADD COLUMN IF NOT EXISTS effect VARCHAR;

ALTER TABLE core.ringkasan ADD COLUMN IF NOT EXISTS excluded BOOLEAN DEFAULT false;
ALTER TABLE core.ringkasan ADD COLUMN IF NOT EXISTS excluded_columns VARCHAR[];
ALTER TABLE core.logistik ADD COLUMN IF NOT EXISTS excluded BOOLEAN DEFAULT false;
ALTER TABLE core.logistik ADD COLUMN IF NOT EXISTS excluded_columns VARCHAR[];
ALTER TABLE core.keamanan ADD COLUMN IF NOT EXISTS excluded BOOLEAN DEFAULT false;
ALTER TABLE core.keamanan ADD COLUMN IF NOT EXISTS excluded_columns VARCHAR[];
ALTER TABLE core.insiden ADD COLUMN IF NOT EXISTS excluded BOOLEAN DEFAULT false;
ALTER TABLE core.insiden ADD COLUMN IF NOT EXISTS excluded_columns VARCHAR[];
ALTER TABLE core.netralitas ADD COLUMN IF NOT EXISTS excluded BOOLEAN DEFAULT false;
ALTER TABLE core.netralitas ADD COLUMN IF NOT EXISTS excluded_columns VARCHAR[];
ALTER TABLE core.tindak_lanjut ADD COLUMN IF NOT EXISTS excluded BOOLEAN DEFAULT false;
ALTER TABLE core.tindak_lanjut ADD COLUMN IF NOT EXISTS excluded_columns VARCHAR[];

-- Rows loaded before effects existed stay out whole, as they were counted then: which of their
-- values were right is not recorded (re-ingesting the file recomputes it).
UPDATE core.ringkasan SET excluded = flagged;
UPDATE core.logistik SET excluded = flagged;
UPDATE core.keamanan SET excluded = flagged;
UPDATE core.insiden SET excluded = flagged;
UPDATE core.netralitas SET excluded = flagged;
UPDATE core.tindak_lanjut SET excluded = flagged;

-- A figure whose report came but none of whose values counts is not judged on its value; it is
-- judged as data that cannot be judged, and the reason says so (mart.status_finding).
INSERT OR REPLACE INTO ref.status_threshold
    (metric, h_max, waspada_at, kritis_at, description, direction, h_min) VALUES
    ('data_tak_terhitung', 9999, 1, 1e9,
     'Angka yang tidak dapat dinilai: laporannya diterima, tetapi semua nilainya ditandai', 'above',
     -9999);
