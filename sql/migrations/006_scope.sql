-- National scale: the area a warehouse serves (PILKADA_PROVINCE: one province or `all`), the
-- provinces, and where each kab/kota's DPT and TPS come from (official, or derived from the
-- national totals: docs/data-dictionary.md).
ALTER TABLE ref.kabkota ADD COLUMN provinsi_code VARCHAR;
ALTER TABLE ref.kabkota ADD COLUMN figures_derived BOOLEAN DEFAULT false;
CREATE TABLE IF NOT EXISTS ref.provinsi (
    provinsi_code VARCHAR PRIMARY KEY,
    provinsi_name VARCHAR NOT NULL
);
-- One row: the scope the ref tables were loaded for. A warehouse holding submissions keeps its
-- scope; serving another area means another PILKADA_WAREHOUSE.
CREATE TABLE IF NOT EXISTS ref.scope (
    scope      VARCHAR NOT NULL,
    scope_name VARCHAR NOT NULL,
    loaded_at  TIMESTAMPTZ NOT NULL
);
