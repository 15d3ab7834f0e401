-- The file behind the current database, its block size, and how many blocks it uses. DuckDB may
-- cut freed blocks off the end of the file after writing the header, so only used blocks
-- (total - free) must be in the file: one shorter than its three 4 KiB headers plus those was
-- cut short (copied halfway, a full disk, a bad restore), and tasks/warehouse.connect refuses it
-- before any query reads a hole.
SELECT d.path, s.block_size, s.total_blocks - s.free_blocks AS used_blocks
FROM duckdb_databases() d
JOIN pragma_database_size() s USING (database_name)
WHERE d.database_name = current_database();
