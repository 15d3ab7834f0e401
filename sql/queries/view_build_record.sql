-- A complete build of the views (tasks/warehouse/database.build_views): its fingerprint and the
-- views the warehouse then holds (all of them are the pipeline's: analysts cannot create any).
INSERT INTO meta.view_build (fingerprint, views)
SELECT ?, list(schema_name || '.' || view_name ORDER BY schema_name, view_name)
FROM duckdb_views()
WHERE NOT internal AND database_name = current_database();
