-- The last complete build of the views (sql/migrations/013_view_build.sql) if every view it made
-- still exists: tasks/warehouse/database.migrate skips the build when its fingerprint is current.
SELECT b.fingerprint
FROM meta.view_build b
WHERE NOT EXISTS (
    SELECT 1 FROM unnest(b.views) AS v(name)
    WHERE v.name NOT IN (SELECT schema_name || '.' || view_name
                         FROM duckdb_views() WHERE NOT internal AND database_name = current_database())
);
